"""Cutting a cleaned text into passages of at most ``max_chars`` that never cross a chapter or document boundary."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from modelraising.sources.clean import SURROGATE, WIKI_HEADING, normalize_text, untokenize_wikitext
from modelraising.sources.spec import END_OF_TEXT
from modelraising.text import split_sentences

log = logging.getLogger(__name__)


_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    r"|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred"
    r"|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)"
)
# "CHAPTER ONE", "CHAPTER 1. Loomings.", "Chapter IV", "ADVENTURE I. A SCANDAL IN BOHEMIA", "Letter 4".
_CHAPTER = re.compile(
    r"(?i:chapter|book|part|volume|letter|adventure|stave|act|scene)\s+"
    rf"(?i:\d+|[ivxlcdm]+|{_NUMBER_WORD}(?:[- ]{_NUMBER_WORD})*)\b"
    r"(?:\s*[.:\u2014\u2013-].{0,120}|\s+[^a-z]{1,80})?"
)
_ROMAN = re.compile(r"[IVXLC]+\.?")
_SMALL_WORDS = frozenset(
    "a an the and or nor but of in on at to for with by from into upon as vs de la le du von van".split()
)
_TITLE_MAX = 80


def _is_caps_title(s: str) -> bool:
    """An upper-case line such as "THE GOLDEN BIRD" or "ETYMOLOGY." (not a speaker tag "ROMEO:")."""
    return s.upper() == s and s[-1] not in ",;:!?\"'\u201d\u2019-" and sum(c.isalpha() for c in s) >= 3


def _is_title_case(s: str, min_words: int) -> bool:
    """A Title Case line without end punctuation, such as "The Wolf and the Lamb"."""
    words = s.split()
    return (
        s[-1].isalnum()
        and min_words <= len(words) <= 10
        and words[0][0].isupper()
        and all(w[0].isupper() or w[0].isdigit() or w in _SMALL_WORDS for w in words)
    )


@dataclass(slots=True)
class _Unit:
    kind: str  # "text" (a paragraph), "head" (a heading line) or "sep" (a document separator)
    start: int
    end: int
    level: int = 0  # heading level; 1 = a WikiText article title
    chapter: bool = False  # a "CHAPTER n" style heading
    title: str | None = None  # the article title of a level-1 heading
    bad: bool = False  # holds bytes that were not UTF-8


@dataclass(slots=True)
class Span:
    start: int
    end: int
    title: str | None
    has_text: bool = True
    bad: bool = False
    contents: bool = False


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _line_mode(region: str, lines: list[str]) -> bool:
    """True when each line is a paragraph: no blank line inside the text, or most text sits on long lines."""
    if not _BLANK_LINE.search(region.strip()):
        return True
    total = sum(map(len, lines))
    return sum(len(line) for line in lines if len(line) > 120) >= 0.5 * total


def _heading(
    stripped: list[str], i: int, wikitext: bool, block_start: bool, line_mode: bool
) -> tuple[int, str | None, bool]:
    """(level, article title, is a "CHAPTER n" line) when line i is a heading, else level 0."""
    s = stripped[i]
    if wikitext:
        m = WIKI_HEADING.fullmatch(s)
        if not m or m.group(1).count("=") != m.group(3).count("="):
            return 0, None, False
        level = m.group(1).count("=")
        title = m.group(2)
        return (
            level,
            (normalize_text(untokenize_wikitext(title)) if level == 1 and "<unk>" not in title else None),
            False,
        )
    if not block_start:
        return 0, None, False
    chapter = bool(_CHAPTER.fullmatch(s))
    if not chapter and not (
        len(s) <= _TITLE_MAX and (_ROMAN.fullmatch(s) or _is_caps_title(s) or _is_title_case(s, 2 if line_mode else 1))
    ):
        return 0, None, False
    j = i + 1
    while j < len(stripped) and not stripped[j]:
        j += 1
    heads_something = j < len(stripped) and stripped[j] != END_OF_TEXT
    return (2, None, chapter) if heads_something else (0, None, False)


def text_units(
    text: str, start: int, end: int, *, wikitext: bool, headings: bool, bad_bytes: bool
) -> tuple[list[_Unit], bool]:
    """Paragraphs, headings and document separators of text[start:end], as trimmed char spans, and
    whether the text is in line mode (each line a paragraph)."""
    region = text[start:end]
    lines = region.split("\n")
    stripped = [line.strip() for line in lines]
    line_mode = _line_mode(region, lines)
    units: list[_Unit] = []
    para: _Unit | None = None
    block_start = True
    pos = start
    for i, line in enumerate(lines):
        s = stripped[i]
        line_start, pos = pos, pos + len(line) + 1
        if not s:
            para, block_start = None, True
            continue
        a = line_start + len(line) - len(line.lstrip())
        b = line_start + len(line.rstrip())
        if s == END_OF_TEXT:
            units.append(_Unit("sep", a, b))
            para, block_start = None, True
            continue
        level, title, chapter = (
            _heading(stripped, i, wikitext, block_start or line_mode, line_mode) if headings else (0, None, False)
        )
        if level:
            units.append(_Unit("head", a, b, level=level, title=title, chapter=chapter))
            para, block_start = None, False
        elif para is None or line_mode:
            para = _Unit("text", a, b)
            units.append(para)
            block_start = False
        else:
            para.end = b
    if bad_bytes:
        for u in units:
            u.bad = bool(SURROGATE.search(text, u.start, u.end))
    _mark_contents(units)
    _mark_contents_lists(text, units)
    return units, line_mode


_CONTENTS_MIN = 3  # "CHAPTER n" lines with only headings and short lines between: a table of contents
_CONTENTS_LINE = 120  # longest text line a table of contents holds (a wrapped chapter title)


def _mark_contents(units: list[_Unit]) -> None:
    """Mark a table of contents (and the title page around it) so it is not packed as text.

    A run of headings and short lines that holds several "CHAPTER n" lines is one; its last heading
    is the real heading of the text that follows, so it stays a heading.
    """
    i = 0
    while i < len(units):
        j, last_head = i, -1
        while (
            j < len(units)
            and units[j].level != 1
            and not units[j].bad
            and (
                units[j].kind == "head" or (units[j].kind == "text" and units[j].end - units[j].start <= _CONTENTS_LINE)
            )
        ):
            last_head = j if units[j].kind == "head" else last_head
            j += 1
        if last_head > i and sum(u.chapter for u in units[i:last_head]) >= _CONTENTS_MIN:
            for u in units[i:last_head]:
                u.kind = "toc"
        i = max(j, i + 1)


# A line of a contents list: "I Introduction", "II. The Red-headed League", "12. The Whale" (a number, then a
# capitalised title), or the word "Contents" itself.
_CONTENTS_ENTRY = re.compile(r"(?:[IVXLC]+|\d{1,3})\.?\s+[A-Z\u201c\"'].{0,70}|(?i:(?:table of )?contents)\.?")


def _mark_contents_lists(text: str, units: list[_Unit]) -> None:
    """Mark a paragraph that is a list of numbered chapter titles ("I Introduction / II The Machine / ...",
    as The Time Machine and Sherlock Holmes print theirs) as a table of contents: a reader would otherwise
    recount it as a story."""
    for u in units:
        if u.kind != "text" or u.bad:
            continue
        lines = [line.strip() for line in text[u.start : u.end].split("\n") if line.strip()]
        entries = sum(bool(_CONTENTS_ENTRY.fullmatch(line)) for line in lines)
        if entries >= _CONTENTS_MIN and entries >= 0.75 * len(lines) and max(map(len, lines)) <= _TITLE_MAX:
            u.kind = "toc"


def hard_spans(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut text[a:b] at the last whitespace before each max_chars (mid-word only when there is none)."""
    out = []
    while b - a > max_chars:
        cut = max(text.rfind(" ", a + 1, a + max_chars + 1), text.rfind("\n", a + 1, a + max_chars + 1))
        if cut <= a:
            cut = a + max_chars
        end = cut
        while end > a and text[end - 1].isspace():
            end -= 1
        out.append((a, end))
        a = cut
        while a < b and text[a].isspace():
            a += 1
    if a < b:
        out.append((a, b))
    return out


def sentence_spans(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """A long paragraph as sentence spans, each at most max_chars."""
    segment = text[a:b]
    out: list[tuple[int, int]] = []
    pos = 0
    for sentence in split_sentences(segment):
        i = segment.find(sentence, pos)
        i = pos if i < 0 else i
        j = pos = i + len(sentence)
        if j - i <= max_chars:
            out.append((a + i, a + j))
        else:
            out.extend(hard_spans(text, a + i, a + j, max_chars))
    return out


def pack_spans(text: str, units: list[_Unit], max_chars: int) -> list[Span]:
    """Pack paragraphs into spans of at most max_chars raw chars, never across a heading or separator.

    A heading starts a new span and stays with the text after it, so chapter titles are not orphaned.
    """
    spans: list[Span] = []
    cur: Span | None = None
    title: str | None = None

    def flush() -> None:
        nonlocal cur
        if cur is not None:
            spans.append(cur)
            cur = None

    for u in units:
        if u.kind == "sep":
            flush()
        elif u.bad:  # kept apart, so invalid bytes cost their own paragraph only
            flush()
            spans.append(Span(u.start, u.end, title, bad=True))
        elif u.kind == "toc":
            if cur is not None and (not cur.contents or u.end - cur.start > max_chars):
                flush()
            if cur is None:
                cur = Span(u.start, u.end, title, has_text=False, contents=True)
            cur.end = u.end
        elif u.kind == "head":
            if u.level == 1:
                flush()
                title = u.title
            elif cur is not None and (cur.has_text or cur.contents or u.end - cur.start > max_chars):
                flush()
            if cur is None:
                cur = Span(u.start, u.end, title, has_text=False)
            cur.end = u.end
        elif cur is not None and not cur.contents and u.end - cur.start <= max_chars:
            cur.end, cur.has_text = u.end, True
        elif u.end - u.start <= max_chars and (cur is None or cur.has_text or cur.contents):
            flush()
            cur = Span(u.start, u.end, title)
        else:  # too long, or a heading waiting for it: go sentence by sentence
            if cur is not None and cur.contents:
                flush()
            for a, b in sentence_spans(text, u.start, u.end, max_chars):
                if cur is not None and b - cur.start <= max_chars:
                    cur.end, cur.has_text = b, True
                else:
                    flush()
                    cur = Span(a, b, title)
    flush()
    return spans
