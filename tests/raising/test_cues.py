"""The values pillar's word matcher finds exactly what the regex alternation that defines it finds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelraising.charter import load_charter
from modelraising.document import Document
from modelraising.raising.values import CueMatcher, value_cues
from modelraising.sources import SourceSpec, read_sources

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpus"
_SUFFIX = r"(?:s|es|ed|d|ing|ly|ful|ness|y)?"


def _cue_pattern(cues: list[dict[str, float]]):
    """The definition the matcher must agree with: one alternation of every cue (longest first within a
    value), each a whole word or phrase with a common inflection, case ignored; group k -> cue k."""
    alts, meta = [], []
    for j, table in enumerate(cues):
        for word, weight in sorted(table.items(), key=lambda kv: -len(kv[0])):
            alts.append(r"(\b" + re.escape(word).replace(r"\ ", r"\s+") + _SUFFIX + r"\b)")
            meta.append((j, weight, word))
    return re.compile("|".join(alts) or r"(?!)", re.IGNORECASE), meta


@pytest.fixture(scope="module")
def cues():
    charter = load_charter(Path(__file__).resolve().parents[2] / "charters" / "default.yaml")
    return [value_cues(v) for v in charter.values]


def _regex_hits(pattern, meta, text):
    return [(m.start(), meta[m.lastindex - 1]) for m in pattern.finditer(text)]


def _texts():
    texts = [
        "I told the truth, honestly, and we shared fairly: fair share, fair   shares, fair\tshare.",
        "CARE, Careful, caring, cared; HONESTY and dishonest; the_care care2 care-ful.",
        "Kindness, kindly... curiosity! curious? Humble humility; steward stewardship nature.",
        "",
        "   ",
        "fair",
        "fair\n\nshare",
        "fair-share",
        "fair share_x",
    ]
    if SHARED.exists():
        for path in sorted(SHARED.iterdir()):
            spec = SourceSpec(path=str(path), limit=40, text_field="tweet" if path.suffix == ".csv" else None)
            texts += [d.text for d in read_sources([spec]) if isinstance(d, Document)]
    return texts


def test_matcher_agrees_with_the_alternation_on_real_and_odd_text(cues):
    pattern, meta = _cue_pattern(cues)
    matcher = CueMatcher(cues)
    texts = _texts()
    assert len(texts) > 50 or not SHARED.exists()
    found = 0
    for text in texts:
        expected = _regex_hits(pattern, meta, text)
        assert matcher.find(text) == expected, text[:200]
        found += len(expected)
    assert found > 0


def test_phrases_and_first_alternative_win():
    cues = [{"fair share": 2.0, "share": 1.0}, {"fair": 1.5, "sharing": 1.0}]
    pattern, meta = _cue_pattern(cues)
    matcher = CueMatcher(cues)
    for text in ("a fair share", "a fair  shares here", "fair-share", "sharing fairly", "fair shared", "fair"):
        assert matcher.find(text) == _regex_hits(pattern, meta, text), text
    assert [m[1][2] for m in matcher.find("a fair share")] == ["fair share"]
