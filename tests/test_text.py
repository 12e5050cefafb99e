"""Text helpers shared by the pillars and the gate."""

from __future__ import annotations

import pytest

from modelraising.text import format_turn, one_line


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "plain",
        "two  spaces",
        " lead",
        "trail ",
        "tab\tin",
        "new\nline",
        "nbsp\u00a0in",
        "thin\u2009space",
        "ideographic\u3000space",
        "line\u2028sep",
        "\x1cfile sep",
        "vertical\x0btab",
        "form\x0cfeed",
        "next\x85line",
        "zero\u200bwidth",
        "soft\u00adhyphen",
        "caf\u00e9 \u201cquoted\u201d",
        "a \n b  \t c",
    ],
)
def test_one_line_is_split_and_join(text):
    assert one_line(text) == " ".join(text.split())


def test_format_turn_is_one_line_with_the_tag():
    assert format_turn("self", "Wren", "  I  see.\nYes ") == "<|self|> Wren: I see. Yes"
    with pytest.raises(ValueError):
        format_turn("narrator", "X", "hi")
