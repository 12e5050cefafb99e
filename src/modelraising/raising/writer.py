"""Build a raised text piece by piece, keeping track of which characters are the source's words.

Every raised record says where its source text sits (``metadata.quoted``: ``[start, end, who]``), so
the audit, the viewer and a reader can tell the I's words from the words it reads, hears or is told.
The pillars write through a :class:`Writer` instead of joining strings, and the spans come out right
by construction, whatever the frame around them.
"""

from __future__ import annotations

QUOTE_PREFIX = "> "


class Writer:
    """Paragraphs of the I's words and quoted source text; ``render()`` joins them with blank lines."""

    __slots__ = ("_parts", "_spans", "_pos", "_para_open")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[list] = []
        self._pos = 0
        self._para_open = False

    # -- low level -------------------------------------------------------------------------------
    def _add(self, text: str) -> None:
        self._parts.append(text)
        self._pos += len(text)

    def _start_para(self) -> None:
        if self._pos:
            self._add("\n\n")
        self._para_open = True

    # -- paragraphs ------------------------------------------------------------------------------
    def para(self, text: str) -> Writer:
        """A paragraph of the engine's own words (the I's narration)."""
        if text:
            self._start_para()
            self._add(text)
        return self

    def blockquote(self, source: str, who: str) -> Writer:
        """The source passage as a block quote (``> `` before every line), attributed to ``who``."""
        self._start_para()
        start = self._pos
        lines = source.strip().split("\n")
        self._add("\n".join(QUOTE_PREFIX + line.rstrip() if line.strip() else ">" for line in lines))
        self._spans.append([start, self._pos, who])
        return self

    def mixed(self, pieces: list[tuple[str, str | None]]) -> Writer:
        """One paragraph made of pieces: ``(text, None)`` is the engine's, ``(text, who)`` the source's."""
        self._start_para()
        self._add_pieces(pieces)
        return self

    def lines(self, rows: list[list[tuple[str, str | None]]]) -> Writer:
        """One paragraph of lines (speaker turns), each line made of pieces as in :meth:`mixed`."""
        self._start_para()
        for k, pieces in enumerate(rows):
            if k:
                self._add("\n")
            self._add_pieces(pieces)
        return self

    def _add_pieces(self, pieces: list[tuple[str, str | None]]) -> None:
        """Append the pieces; a source piece (``who`` set) records its span."""
        for text, who in pieces:
            if who is None:
                self._add(text)
            else:
                start = self._pos
                self._add(text)
                self._spans.append([start, self._pos, who])

    # -- result ----------------------------------------------------------------------------------
    def render(self) -> tuple[str, list[list]]:
        return "".join(self._parts), self._spans

    @property
    def empty(self) -> bool:
        return self._pos == 0


def shift(spans: list[list], by: int) -> list[list]:
    return [[a + by, b + by, who] for a, b, who in spans]
