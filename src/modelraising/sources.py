"""Read corpora into passage Documents, with a Reject for every input that cannot be used.

Formats: ``.txt`` (books, TinyStories, WikiText), ``.jsonl`` / ``.jsonl.gz``, ``.csv`` and ``.parquet``.
Text files are cleaned (Gutenberg boilerplate, WikiText tokenisation) and cut into passages of at most
``max_chars`` that never cross a chapter or document boundary; tabular files give one record per row
(split into passages when longer than ``max_chars``). Bad data never raises: it comes out as a
:class:`Reject` in the same stream, so a broken line costs that line and nothing more. Only a config
error (a path that names nothing) raises :class:`SourceError`.
"""

from __future__ import annotations

import csv
import glob
import gzip
import html
import json
import logging
import os
import re
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from hashlib import sha256
from itertools import chain, islice
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelraising.document import Document
from modelraising.raising.base import GENRES
from modelraising.rejects import Reject, reason_kind
from modelraising.special_text import apply_policy as apply_special_token_policy
from modelraising.text import split_sentences

log = logging.getLogger(__name__)

SUFFIXES = (".jsonl.gz", ".jsonl", ".parquet", ".csv", ".txt")  # longest first: ".jsonl.gz" before ".jsonl"
END_OF_TEXT = "<|endoftext|>"
TEXT_FIELDS = ("text", "content", "body")  # preferred names when text_field is not given
SNIFF_ROWS = 50  # rows looked at to pick a text field
GENRE_VOTES = 64  # passages that vote on a text file's genre


class SourceError(Exception):
    """A source config that names nothing readable: a mistake in the config, not bad data."""


class SourceSpec(BaseModel):
    """One input (a file, a directory searched recursively, or a glob) and how to read it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    genre: Literal["auto", "fiction", "factual", "dialogue", "other"] = "auto"
    text_field: str | None = None
    max_chars: int = Field(2000, gt=100)
    min_chars: int = Field(20, ge=0)
    max_doc_chars: int = Field(100_000, gt=0)
    clean: Literal["auto", "none", "gutenberg", "wikitext"] = "auto"
    title: str | None = None
    limit: int | None = Field(default=None, ge=1, description="At most this many documents from each file.")

    @model_validator(mode="after")
    def _min_below_max(self) -> "SourceSpec":
        if self.min_chars >= self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) must be smaller than max_chars ({self.max_chars})")
        return self


@dataclass
class SourceStats:
    """What reading the sources produced; goes into the manifest."""

    files: int = 0
    documents: int = 0
    duplicates: int = 0
    chars: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    per_genre: dict[str, int] = field(default_factory=dict)
    per_source: dict[str, int] = field(default_factory=dict)

    @property
    def rejects(self) -> int:
        return sum(self.rejects_by_reason.values())

    def add_document(self, doc: Document) -> None:
        self.documents += 1
        self.chars += len(doc.text)
        _bump(self.per_genre, doc.metadata["genre"])
        _bump(self.per_source, doc.metadata["source"])

    def add_reject(self, reject: Reject) -> None:
        _bump(self.rejects_by_reason, reason_kind(reject.reason))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("rejects_by_reason", "per_genre", "per_source"):
            out[key] = dict(sorted(out[key].items()))
        out["rejects"] = self.rejects
        return out


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


# --------------------------------------------------------------------------------------------------
# Files


def file_suffix(path: Path) -> str | None:
    """The supported suffix of a file name (".jsonl.gz", ".txt", ...), or None."""
    name = path.name.lower()
    return next((s for s in SUFFIXES if name.endswith(s) and len(name) > len(s)), None)


def source_name(path: Path) -> str:
    """The file name without its supported extension: moby_dick.txt -> moby_dick."""
    suffix = file_suffix(path)
    return path.name[: -len(suffix)] if suffix else path.stem


def pretty_title(stem: str) -> str:
    """A readable title from a file stem: "moby_dick" -> "Moby Dick"."""
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[\s_\-.]+", stem) if w)


def _dir_files(root: Path) -> list[Path]:
    """Supported files under ``root`` (hidden ones skipped, symlinked directories not followed), plus
    every subdirectory that cannot be listed and every broken symlink: :func:`read_file` turns those
    into rejects, so a file that cannot be read is reported, never silently left out."""
    found: list[Path] = []

    def unlisted(exc: OSError) -> None:
        found.append(Path(exc.filename))

    for base, dirs, files in os.walk(root, onerror=unlisted):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(base, name)
            if not name.startswith(".") and file_suffix(path) and (path.is_file() or not path.exists()):
                found.append(path)
    return sorted(found)


def unreadable(path: Path) -> str | None:
    """Why ``path`` (a source file, or a directory :func:`_dir_files` could not list) cannot be read,
    or None when it can be opened."""
    if path.is_symlink() and not path.exists():
        return "unreadable file: broken symlink"
    try:
        if path.is_dir():
            with os.scandir(path):
                return None
        with open(path, "rb"):
            return None
    except OSError as exc:
        kind = "directory" if path.is_dir() else "file"
        return f"unreadable {kind}: {exc.strerror or exc}"


def _spec_files(spec: SourceSpec) -> list[Path]:
    path = Path(spec.path).expanduser()
    kinds = ", ".join(SUFFIXES)
    try:
        path.stat()
    except PermissionError:  # a directory on the way cannot be searched: report it, do not call it missing
        return [path]
    except OSError:
        pass
    if path.is_dir():
        if unreadable(path):
            return [path]  # read_file rejects it: "unreadable directory: Permission denied"
        files = _dir_files(path)
        if not files:
            raise SourceError(f"source {spec.path!r}: the directory holds no {kinds} files")
        return files
    if path.exists():
        if not file_suffix(path):
            raise SourceError(f"source {spec.path!r}: unsupported file type (expected one of {kinds})")
        return [path]
    if glob.has_magic(spec.path):
        files: set[Path] = set()
        for match in map(Path, glob.glob(str(path), recursive=True)):
            if match.is_dir():
                files.update(_dir_files(match))
            elif file_suffix(match):
                files.add(match)
        if not files:
            raise SourceError(f"source {spec.path!r}: the glob matches no {kinds} files")
        return sorted(files)
    if path.is_symlink():
        raise SourceError(f"source {spec.path!r}: a broken symlink")
    raise SourceError(f"source {spec.path!r}: no such file or directory")


def expand_sources(specs: list[SourceSpec]) -> list[tuple[Path, SourceSpec]]:
    """Every file the specs name, sorted within each spec, each file once (the first spec naming it wins)."""
    out: list[tuple[Path, SourceSpec]] = []
    seen: set[Path] = set()
    for spec in specs:
        for path in _spec_files(spec):
            key = path.resolve()
            if key in seen:
                log.warning("%s is named by more than one source; reading it once", path)
                continue
            seen.add(key)
            out.append((path, spec))
    return out


# --------------------------------------------------------------------------------------------------
# Cleaning

_SURROGATE = re.compile(r"[\udc80-\udcff]")  # bytes that were not UTF-8 (decoded with surrogateescape)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
_SPACES = re.compile(r"\t[ \t]*| [ \t]+")  # only what changes: a single space is left alone
_LINE_EDGES = re.compile(r" \n ?|\n ")
_BLANK_RUNS = re.compile(r"\n{3,}")


_HTML_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,7}|#[xX][0-9a-fA-F]{2,6});")


def unescape_html(text: str) -> str:
    """HTML entities as the characters they stand for (twice: web text is often escaped twice, "&amp;#8220;")."""
    for _ in range(2):
        if "&" not in text or not _HTML_ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def normalize_text(text: str) -> str:
    """HTML entities unescaped, NFC, no control characters but newline and tab, single spaces, at most one
    blank line, stripped."""
    if "&" in text:
        text = unescape_html(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable() and _CONTROL.search(text):  # every character _CONTROL matches is unprintable
        text = _CONTROL.sub("", text)
    if "\t" in text or "  " in text:  # what _SPACES can match (a tab, or a space before a space or tab)
        text = _SPACES.sub(" ", text)
    if "\n" in text:
        if " \n" in text or "\n " in text:
            text = _LINE_EDGES.sub("\n", text)
        if "\n\n\n" in text:
            text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


# Project Gutenberg boilerplate.
_PG_START = re.compile(r"(?mi)^[ \t]*\*{3}[ \t]*START OF (?:THIS|THE) PROJECT GUTENBERG.*$")
_PG_END = re.compile(
    r"(?mi)^[ \t]*(?:\*{3}[ \t]*END OF (?:THIS|THE) PROJECT GUTENBERG|End of (?:the )?Project Gutenberg)"
)
_PG_TRAILER = re.compile(r"(?m)^(?:[ \t]*\*[ \t*]*\n)?[ \t]*Source: *https?://(?:www\.)?gutenberg\.org/")
_PG_TITLE = re.compile(r"(?m)^Title:[ \t]*(\S.*)((?:\n[ \t]+\S.*)*)")
_PG_PRODUCED = re.compile(r"\s*(?:Produced by|E-?text prepared by|Transcribed by)[^\n]*(?:\n[ \t]*\S[^\n]*)*", re.I)
_PG_HEADER_CHARS = 100_000  # the START marker is searched for this far in
_PG_TRAILER_CHARS = 5_000  # a "Source: gutenberg.org" trailer is searched for this far from the end


def gutenberg_body(text: str) -> tuple[int, int, str | None]:
    """(start, end, title) of the book inside its Gutenberg header, footer and trailer."""
    start, end, title = 0, len(text), None
    if m := _PG_START.search(text, 0, _PG_HEADER_CHARS):
        if t := _PG_TITLE.search(text, 0, m.start()):
            title = _join_title(t.group(1), t.group(2))
        start = m.end()
    if m := _PG_END.search(text, start):
        end = m.start()
    elif m := _PG_TRAILER.search(text, max(start, end - _PG_TRAILER_CHARS)):
        end = m.start()
    if m := _PG_PRODUCED.match(text, start, end):
        start = m.end()
    return start, end, title


def _join_title(first: str, rest: str) -> str:
    """A Gutenberg title and its continuation lines: "Frankenstein" + "or The Modern Prometheus" ->
    "Frankenstein; or, The Modern Prometheus" (the punctuation a title page puts between them)."""
    title = " ".join(first.split())
    for line in rest.split("\n"):
        line = " ".join(line.split())
        if not line:
            continue
        if line.lower().startswith("or "):
            title = f"{title.rstrip(',;')}; or, {line[3:].strip()}"
        else:
            title = f"{title} {line}"
    return title


# Producer, transcriber and Gutenberg notes inside a book's body, dropped paragraph by paragraph.
_PG_NOTE = re.compile(
    r"(?i)transcriber['\u2019]?s? notes?|\be-?texts?\b|project gutenberg|gutenberg['\u2019]s|^\s*produced by\b"
    r"|^\s*e-?text prepared by|proofreaders? of this|[\w.+-]+@[\w-]+\.[a-z]{2,}|https?://|\bwww\."
)


def drop_notes(text: str) -> str:
    """The text without the paragraphs that are notes about the edition, not the book."""
    if not _PG_NOTE.search(text):
        return text
    return "\n\n".join(p for p in _PARAGRAPH_BREAK.split(text) if not _PG_NOTE.search(p))


def is_gutenberg(text: str) -> bool:
    return bool(
        _PG_START.search(text, 0, _PG_HEADER_CHARS)
        or _PG_END.search(text, max(0, len(text) - 50_000))
        or _PG_TRAILER.search(text, max(0, len(text) - _PG_TRAILER_CHARS))
    )


# WikiText (tokenised Wikipedia): " @-@ " joins, "<unk>", spaces around punctuation, " = = Heading = = ".
_WIKI_TOKENS = (" @-@ ", " @,@ ", " @.@ ")
_WIKI_HEADING = re.compile(r"((?:= )+)(.+?)((?: =)+)")  # on a stripped line
_WIKI_HEADING_LINE = re.compile(r"(?m)^[ \t]*(?:= )+(.+?)(?: =)+[ \t]*$")
_WIKI_QUOTES = re.compile(r'"[ \t]+([^"\n]*?)[ \t]+"')
_WIKI_RULES = [
    (re.compile(r" +([,.;:!?)\]}])"), r"\1"),
    (re.compile(r"([(\[{]) +"), r"\1"),
    (re.compile(r" +(n't|'(?:s|re|ve|ll|d|m))\b"), r"\1"),
    (re.compile(r"s ' "), "s' "),
    (re.compile(r"(\d) %"), r"\1%"),
    (re.compile(r"\$ (\d)"), r"$\1"),
    (re.compile(r"[ \t]*\([ \t]*\)"), ""),  # parentheses left empty by a removed <unk>
]


def is_wikitext(text: str) -> bool:
    head = text[:200_000]
    return sum(head.count(t) for t in _WIKI_TOKENS) >= 3 or len(_WIKI_HEADING_LINE.findall(head, 0, 50_000)) >= 2


# A sentence end in tokenised WikiText: " . " before a capital, a quote or a bracket.
_WIKI_SENTENCE_END = re.compile(r"(?<= [.!?]) (?=[A-Z\"'(\[])")


def drop_unknown(text: str) -> str:
    """Drop every sentence that holds a ``<unk>`` token (and a heading line that does): deleting the token
    alone leaves holes ("the Second Battle of is seen") a model would learn as English."""
    if "<unk>" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if "<unk>" in line:
            if _WIKI_HEADING.fullmatch(line.strip()):
                continue
            line = " ".join(s for s in _WIKI_SENTENCE_END.split(line) if "<unk>" not in s)
        lines.append(line)
    return "\n".join(lines)


def untokenize_wikitext(text: str) -> str:
    """Undo WikiText tokenisation; heading lines (" = = X = = ") become the plain line "X"; sentences with
    ``<unk>`` are dropped (:func:`drop_unknown`)."""
    text = drop_unknown(text)
    text = _WIKI_HEADING_LINE.sub(r"\1", text)
    text = text.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    text = _WIKI_QUOTES.sub(r'"\1"', text)  # before <unk> goes, so an unknown quoted word leaves '""'
    text = _SPACES.sub(" ", text.replace("<unk>", "").replace('""', ""))
    for pattern, repl in _WIKI_RULES:
        text = pattern.sub(repl, text)
    return text


_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")
_WRAP_DASH = re.compile(r"([-\u2014])[ \t]*\n[ \t]*")
_WRAP = re.compile(r"[ \t]*\n[ \t]*")
_WRAPPED_LINE = 40  # a paragraph is hard-wrapped when all its lines but the last are at least this long


def unwrap_paragraphs(text: str) -> str:
    """Join hard-wrapped lines (Gutenberg wraps at ~70 columns); verse and lists keep their lines."""
    paragraphs = _PARAGRAPH_BREAK.split(text)
    for i, p in enumerate(paragraphs):
        lines = p.split("\n")
        if len(lines) > 1 and min(len(line.strip()) for line in lines[:-1]) >= _WRAPPED_LINE:
            paragraphs[i] = _WRAP.sub(" ", _WRAP_DASH.sub(r"\1", p))
    return "\n\n".join(paragraphs)


def detect_cleaner(text: str) -> str:
    if is_wikitext(text):
        return "wikitext"
    return "gutenberg" if is_gutenberg(text) else "none"


def clean_passage(raw: str, cleaner: str, unwrap: bool = False) -> str:
    """The text of a passage: source-specific cleaning, then the normalisation every text gets."""
    if cleaner == "wikitext":
        raw = untokenize_wikitext(raw)
    elif cleaner == "gutenberg":
        raw = drop_notes(raw)
    if unwrap:
        raw = unwrap_paragraphs(raw)
    return normalize_text(raw)


# --------------------------------------------------------------------------------------------------
# Splitting text into passages

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
class _Span:
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
        m = _WIKI_HEADING.fullmatch(s)
        if not m or m.group(1).count("=") != m.group(3).count("="):
            return 0, None, False
        level = m.group(1).count("=")
        title = m.group(2)
        return level, (normalize_text(untokenize_wikitext(title)) if level == 1 and "<unk>" not in title else None), False
    if not block_start:
        return 0, None, False
    chapter = bool(_CHAPTER.fullmatch(s))
    if not chapter and not (len(s) <= _TITLE_MAX and (
            _ROMAN.fullmatch(s) or _is_caps_title(s) or _is_title_case(s, 2 if line_mode else 1))):
        return 0, None, False
    j = i + 1
    while j < len(stripped) and not stripped[j]:
        j += 1
    heads_something = j < len(stripped) and stripped[j] != END_OF_TEXT
    return (2, None, chapter) if heads_something else (0, None, False)


def _units(
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
            u.bad = bool(_SURROGATE.search(text, u.start, u.end))
    _mark_contents(units)
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
        while j < len(units) and units[j].level != 1 and not units[j].bad and (
            units[j].kind == "head" or (units[j].kind == "text" and units[j].end - units[j].start <= _CONTENTS_LINE)
        ):
            last_head = j if units[j].kind == "head" else last_head
            j += 1
        if last_head > i and sum(u.chapter for u in units[i:last_head]) >= _CONTENTS_MIN:
            for u in units[i:last_head]:
                u.kind = "toc"
        i = max(j, i + 1)


def _hard_spans(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
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


def _sentence_spans(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
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
            out.extend(_hard_spans(text, a + i, a + j, max_chars))
    return out


def _pack(text: str, units: list[_Unit], max_chars: int) -> list[_Span]:
    """Pack paragraphs into spans of at most max_chars raw chars, never across a heading or separator.

    A heading starts a new span and stays with the text after it, so chapter titles are not orphaned.
    """
    spans: list[_Span] = []
    cur: _Span | None = None
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
            spans.append(_Span(u.start, u.end, title, bad=True))
        elif u.kind == "toc":
            if cur is not None and (not cur.contents or u.end - cur.start > max_chars):
                flush()
            if cur is None:
                cur = _Span(u.start, u.end, title, has_text=False, contents=True)
            cur.end = u.end
        elif u.kind == "head":
            if u.level == 1:
                flush()
                title = u.title
            elif cur is not None and (cur.has_text or cur.contents or u.end - cur.start > max_chars):
                flush()
            if cur is None:
                cur = _Span(u.start, u.end, title, has_text=False)
            cur.end = u.end
        elif cur is not None and not cur.contents and u.end - cur.start <= max_chars:
            cur.end, cur.has_text = u.end, True
        elif u.end - u.start <= max_chars and (cur is None or cur.has_text or cur.contents):
            flush()
            cur = _Span(u.start, u.end, title)
        else:  # too long, or a heading waiting for it: go sentence by sentence
            if cur is not None and cur.contents:
                flush()
            for a, b in _sentence_spans(text, u.start, u.end, max_chars):
                if cur is not None and b - cur.start <= max_chars:
                    cur.end, cur.has_text = b, True
                else:
                    flush()
                    cur = _Span(a, b, title)
    flush()
    return spans


# --------------------------------------------------------------------------------------------------
# Genre

_TURN_OWN_LINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Za-z'.\-]*(?:[ \t]+[A-Za-z][A-Za-z'.\-]*){0,3})[ \t]*:[ \t]*$")
_TURN_INLINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Za-z]{0,20}(?: [A-Z][A-Za-z]{0,20})?):[ \t]+\S")
_WORD_RE = re.compile(r"[A-Za-z]+(?:['\u2019][a-z]+)?")
_YEAR = re.compile(r"\b1[0-9]{3}s?\b|\b20[0-9]{2}\b")
_SOCIAL = re.compile(r"(?:^|\s)[@#]\w|https?://|&amp;|&#\d+;|\bRT\b")
_ENDS_SENTENCE = re.compile(r"[.!?\"'\u201d\u2019)\]]\s*$")
# Word lists (lower case) counted in one pass over the words of a text.
_SPEECH = frozenset(
    "said asked replied cried answered exclaimed shouted whispered thought told began looked went came".split()
)
_THIRD = frozenset("he she him her his hers himself herself".split())
_PERSONAL = frozenset("me my you your we us our".split())  # plus a capital "I"
_FACT = frozenset(
    "species century population located approximately average percent government university including "
    "according during released album season km kilometres kilometers miles known built founded".split()
)
_SLANG = frozenset(  # informal web writing: slang and apostrophes left out
    "lol lmao lmfao smh omg wtf tho ya yall u ur dat da ima nah gonna wanna gotta tryna bout "
    "dont cant wont aint im ive youre gon yo finna lil bae".split()
)
_SHORT = 40  # words: below this a text needs prose cues to count as fiction or factual


def _turns(text: str) -> tuple[int, int]:
    """(turn lines, distinct speakers): "NAME:" on its own line or "Name: text" at a line start."""
    if ":" not in text:
        return 0, 0
    speakers = _TURN_OWN_LINE.findall(text) + _TURN_INLINE.findall(text)
    return len(speakers), len({s.lower() for s in speakers})


_CUES = {w: cue for cue, words in (("speech", _SPEECH), ("third", _THIRD), ("personal", _PERSONAL),
                                   ("fact_words", _FACT), ("slang", _SLANG)) for w in words}


# Lower-casing a text changes how _WORD_RE cuts it only where an apostrophe is followed by an upper-case
# letter ("O'Brien", "I'M", "don'tX") or where a non-ASCII letter lower-cases to an ASCII one (U+0130,
# U+212A); everywhere else the words of ``text.lower()`` are the lower-cased words of ``text``.
_APOSTROPHE_CASE = re.compile(r"['\u2019][a-z]*[A-Z]")


def _lower_words(text: str, words: list[str]) -> list[str]:
    """``_WORD_RE.findall(text.lower())``, from the words of ``text`` where that gives the same list."""
    if ("'" in text or "\u2019" in text) and _APOSTROPHE_CASE.search(text):
        return _WORD_RE.findall(text.lower())
    if not text.isascii() and ("\u0130" in text or "\u212a" in text):
        return _WORD_RE.findall(text.lower())
    return " ".join(words).lower().split()


# Long texts are cut into words without the regex: every byte that is not an ASCII letter or an
# apostrophe becomes a space (a UTF-8 multi-byte character only has bytes >= 0x80), apostrophes that do
# not stand between two letters (so belong to no word) become spaces too, and what is left splits into
# exactly the words of _WORD_RE, provided no letter after an apostrophe is upper case (the lower-cased
# words would then differ) and no word runs through two apostrophes ("rock'n'roll": two words).
# Those texts, and those with U+0130 or U+212A, take the regex.
_BYTE_WORDS_MIN = 200  # chars: shorter texts are as fast with the regex
_WORD_BYTES = bytes(c if 65 <= c <= 90 or 97 <= c <= 122 or c == 39 else 32 for c in range(256))
_LONE_APOSTROPHE = re.compile(rb"'(?:(?![A-Za-z])|(?<![A-Za-z]'))")
_APOSTROPHE_UPPER = re.compile(rb"'[a-z]*[A-Z]")
_APOSTROPHE_CHAIN = re.compile(rb"'[A-Za-z]+'")
_CUE_BYTES = {w.encode("ascii"): cue for w, cue in _CUES.items()}


def _byte_word_stats(text: str) -> tuple[int, dict[str, int], int, int, int] | None:
    """:func:`_word_stats` by bytes (see above), and the number of ASCII digits; None where that is not exact."""
    if not text.isascii():
        if "\u0130" in text or "\u212a" in text:
            return None
        if "\u2019" in text:
            text = text.replace("\u2019", "'")
    data = text.encode("utf-8", "surrogatepass")
    digits = len(data) - len(data.translate(None, b"0123456789"))  # UTF-8 puts no ASCII byte inside a character
    b = b" " + data.translate(_WORD_BYTES) + b" "
    if b"'" in b:
        b = _LONE_APOSTROPHE.sub(b" ", b)
        if b"'" in b and (_APOSTROPHE_UPPER.search(b) or _APOSTROPHE_CHAIN.search(b)):
            return None
    words = b.lower().split()
    lower_and_capital = words.count(b"i")
    capital_i = 0
    if lower_and_capital:
        capital_i = b.count(b" I ")
        if b" I I " in b:  # count() does not overlap: count again with every gap doubled
            capital_i = b.replace(b" ", b"  ").count(b" I ")
    found = _cue_hits(filter(None, map(_CUE_BYTES.get, words)))
    return len(words), found, capital_i, lower_and_capital - capital_i, digits


_CUE_NAMES = ("speech", "third", "personal", "fact_words", "slang")


def _cue_hits(cues) -> dict[str, int]:
    """{cue: count} over the cue of each word that has one (few words do)."""
    found = dict.fromkeys(_CUE_NAMES, 0)
    for cue in cues:
        found[cue] += 1
    return found


def _word_stats(text: str) -> tuple[int, dict[str, int], int, int]:
    """(words, {cue: count} over the lower-cased words, capital "I"s, lower-case "i"s)."""
    if len(text) >= _BYTE_WORDS_MIN:
        stats = _byte_word_stats(text)
        if stats is not None:
            return stats[:4]
    words = _WORD_RE.findall(text)
    found = _cue_hits(filter(None, map(_CUES.get, _lower_words(text, words))))
    return len(words), found, words.count("I"), words.count("i")


def _cue_counts(text: str) -> tuple[int, dict[str, int], int, int]:
    """(words, {cue: count}, capital "I" count, lower-case "i" count) in one pass over the words."""
    return _word_stats(text)


def genre_features(text: str) -> dict[str, float]:
    """Rates per word (or per 1,000 chars) of the cues :func:`detect_genre` weighs."""
    n_words, cues, capital_i, lower_i = _cue_counts(text)
    n_words = max(1, n_words)
    n_chars = max(1, len(text))
    lines = text.count("\n") + 1 - text.count("\n\n")
    turns, speakers = _turns(text)
    digits = sum(map(text.count, "0123456789"))
    quotes = sum(map(text.count, ('"', "\u201c", "\u201d", "\u2018", " '", "\n'"))) + text.startswith("'")
    social = len(_SOCIAL.findall(text)) if ("@" in text or "#" in text or "&" in text or "http" in text
                                            or "RT" in text) else 0
    informal = (cues["slang"] + lower_i + text.count("!!") + text.count("??") + text.count("...")
                + (0 if _ENDS_SENTENCE.search(text) else 1))
    return {
        "words": n_words,
        "turn_share": turns / max(1, lines),
        "turns": turns,
        "speakers": speakers,
        "speech": cues["speech"] / n_words,
        "third": cues["third"] / n_words,
        "personal": (capital_i + cues["personal"]) / n_words,
        "quotes": 1000 * quotes / n_chars,
        "digits": 1000 * digits / n_chars,
        "years": 1000 * len(_YEAR.findall(text)) / n_chars if digits >= 4 else 0.0,
        "parens": 1000 * text.count("(") / n_chars,
        "social": social,
        "fact_words": cues["fact_words"] / n_words,
        "informal": informal,
    }


def detect_genre(text: str) -> str:
    """fiction | factual | dialogue | other for one text, from surface cues (fast, deterministic).

    Speaker turns make dialogue; web markers (@, #, links) or informal writing in a short text make
    other; otherwise narration cues (speech verbs, he/she, quotes, I/you) are weighed against
    reference cues (digits, years, parentheses, encyclopaedic words).

    The decision is the one :func:`genre_features` gives (the same rates, weighed the same way), but
    each cue is computed only when the decision still needs it: most short web texts are settled by
    their markers before a word is counted.
    """
    if ":" in text and "\n" in text:  # one line holds at most one turn: no dialogue without a line break
        turns, speakers = _turns(text)
        if turns >= 2 and speakers >= 2:
            lines = text.count("\n") + 1 - text.count("\n\n")
            if turns / max(1, lines) >= 0.15:
                return "dialogue"
    n_chars = max(1, len(text))
    social = ("@" in text or "#" in text or "&" in text or "http" in text or "RT" in text) and _SOCIAL.search(text)
    if social and len(text) < 159:  # a word takes 2 chars with the gap after it: fewer than 80 words
        return "other"
    if len(text) >= _BYTE_WORDS_MIN and (stats := _byte_word_stats(text)) is not None:
        n_words, found, capital_i, lower_i, digits = stats
        n_words = max(1, n_words)
        if social and n_words < 80:
            return "other"
        short = n_words < _SHORT
        if short and (found["slang"] or lower_i or text.count("!!") or text.count("??") or text.count("...")
                      or not _ENDS_SENTENCE.search(text)):
            return "other"
    else:
        digits = -1
        words = _WORD_RE.findall(text)
        n_words = max(1, len(words))
        if social and n_words < 80:
            return "other"
        short = n_words < _SHORT
        if short and (text.count("!!") or text.count("??") or text.count("...") or not _ENDS_SENTENCE.search(text)):
            return "other"  # informal (the slang and "i" parts of it are counted below)
        found = _cue_hits(filter(None, map(_CUES.get, _lower_words(text, words))))
        capital_i, lower_i = words.count("I"), words.count("i")
        if short and (found["slang"] or lower_i):
            return "other"
    speech = found["speech"] / n_words
    third = found["third"] / n_words
    personal = (capital_i + found["personal"]) / n_words
    if text.isascii():
        quotes = text.count('"') + text.count(" '") + text.count("\n'") + text.startswith("'")
    else:
        quotes = sum(map(text.count, ('"', "\u201c", "\u201d", "\u2018", " '", "\n'"))) + text.startswith("'")
    if digits < 0:
        digits = sum(map(text.count, "0123456789"))
    years = 1000 * len(_YEAR.findall(text)) / n_chars if digits >= 4 else 0.0
    fiction = 25 * speech + 6 * third + 0.15 * (1000 * quotes / n_chars) + 2 * personal
    factual = (0.25 * (1000 * digits / n_chars) + 1.5 * years + 0.6 * (1000 * text.count("(") / n_chars)
               + 12 * (found["fact_words"] / n_words))
    if short and max(fiction, factual) < 1.0:
        return "other"
    return "fiction" if fiction >= factual else "factual"


GENRE_DEFERRED = "deferred"


def resolve_genre(doc: Document) -> Document:
    """Decide a deferred genre (see ``read_sources(defer_genre=True)``) in place."""
    if doc.metadata.get("genre") == GENRE_DEFERRED:
        doc.metadata["genre"] = detect_genre(doc.text)
    return doc


def vote_genre(texts: list[str], votes: int = GENRE_VOTES) -> str:
    """One genre for a whole file: the majority over up to `votes` passages spread through it."""
    if not texts:
        return "other"
    step = max(1, len(texts) / votes)
    sample = [texts[int(i * step)] for i in range(min(votes, len(texts)))]
    counts = Counter(detect_genre(t) for t in sample)
    return max(GENRES, key=lambda g: (counts[g], -GENRES.index(g)))


# --------------------------------------------------------------------------------------------------
# Readers: each yields _Passage or Reject for one file


@dataclass(slots=True)
class _Passage:
    text: str
    genre: str
    title: str | None
    unit: str  # "char" or "row"
    start: int
    end: int


def _preview(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text[:200])


def _decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text (BOM dropped, newlines LF) and whether bytes that were not UTF-8 hide in it."""
    try:
        text, bad = data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        text, bad = data.decode("utf-8-sig", "surrogateescape"), True
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, bad


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head


def read_txt(path: Path, spec: SourceSpec) -> Iterator[_Passage | Reject]:
    """A text file as passages; one genre for the whole file (a book has one genre)."""
    src = str(path)
    data = path.read_bytes()
    if _looks_binary(data[:8192]):
        yield Reject(src, "unreadable file: binary content (NUL bytes)", "file")
        return
    text, bad_bytes = _decode(data)
    cleaner = detect_cleaner(text) if spec.clean == "auto" else spec.clean
    start, end, book_title = gutenberg_body(text) if cleaner == "gutenberg" else (0, len(text), None)
    file_title = spec.title or book_title  # a real title or none: a file name is no title
    units, line_mode = _units(text, start, end, wikitext=cleaner == "wikitext", headings=True, bad_bytes=bad_bytes)
    unwrap = cleaner == "gutenberg" and not line_mode
    items: list[_Passage | Reject] = []
    for span in _pack(text, units, spec.max_chars):
        items.extend(_span_passages(text, span, spec, cleaner, unwrap, src))
    passages = [p for p in items if isinstance(p, _Passage)]
    genre = vote_genre([p.text for p in passages]) if spec.genre == "auto" else spec.genre
    for item in items:
        if isinstance(item, _Passage):
            item.genre = genre
            item.title = item.title or file_title
        yield item
    log.debug("%s: cleaner %s, %s, genre %s", path, cleaner, "line mode" if line_mode else "block mode", genre)


_SENTENCE_END = re.compile(r"[a-z0-9\u2019'\")\]][.!?;:]|[.!?][\"'\u201d\u2019]")


def _no_sentence(text: str) -> bool:
    """A few short lines and no sentence: a heading left alone once WikiText's holed sentences were
    dropped ("Appearances in other media"), or a title page ("The Time Machine / An Invention / by H. G.
    Wells"). Raised, they read as a teacher saying a heading, or a post."""
    return len(text.split()) <= 12 and not _SENTENCE_END.search(text)


def _starts_a_line(text: str, i: int) -> bool:
    """Nothing but whitespace between the line's start and ``i``."""
    return not text[text.rfind("\n", 0, i) + 1 : i].strip()


def _span_passages(
    text: str, span: _Span, spec: SourceSpec, cleaner: str, unwrap: bool, src: str
) -> Iterator[_Passage | Reject]:
    """One packed span as a cleaned passage, or the Reject that says why it is not one."""
    raw = text[span.start : span.end]
    location = f"chars {span.start}-{span.end}"
    if span.bad:
        yield Reject(src, "invalid UTF-8", location, preview=_preview(raw))
        return
    clean = clean_passage(raw, cleaner, unwrap)
    if span.contents:
        yield Reject(src, "table of contents", location, preview=_preview(clean))
    elif not span.has_text:
        yield Reject(src, "heading without text", location, preview=_preview(clean))
    elif len(clean) < spec.min_chars:
        reason = "too many <unk> tokens" if cleaner == "wikitext" and "<unk>" in raw else "empty or too short"
        yield Reject(src, reason, location, preview=_preview(clean or raw))
    elif _no_sentence(clean) and _starts_a_line(text, span.start):  # a whole block, not a cut through one
        yield Reject(src, "heading without text", location, preview=_preview(clean))
    elif len(clean) <= spec.max_chars:
        yield _Passage(clean, "", span.title, "char", span.start, span.end)
    else:  # cleaning grew the text (a rare NFC expansion): cut the raw span finer
        for a, b in _hard_spans(text, span.start, span.end, spec.max_chars // 2):
            yield from _span_passages(text, _Span(a, b, span.title), spec, cleaner, unwrap, src)


@dataclass(slots=True)
class _Record:
    row: int
    location: str
    text: str
    title: str | None
    id: str | None  # the record's own "id" field, so a reject can be traced back


_NUMERIC = re.compile(r"\s*[-+]?[\d.,eE:/ ]*\s*")


def pick_text_field(rows: list[dict[str, Any]]) -> str | None:
    """"text", "content" or "body" when present, else the string field with the longest mean length.

    Fields within 10% of the longest count as a tie, won by the first in the record (HH-RLHF: "chosen"
    before "rejected"); numeric-looking strings (CSV ids, counts) do not count.
    """
    for name in TEXT_FIELDS:
        if any(isinstance(r.get(name), str) for r in rows):
            return name
    totals: dict[str, int] = {}
    for r in rows:
        for key, value in r.items():
            if isinstance(value, str) and not _NUMERIC.fullmatch(value):
                totals[key] = totals.get(key, 0) + len(value)
            else:
                totals.setdefault(key, 0)
    if not totals or max(totals.values()) == 0:
        return None
    best = max(totals.values())
    return next(k for k, total in totals.items() if total >= 0.9 * best)


def _field_text(
    src: str, row: int, location: str, record: dict[str, Any], name: str, spec: SourceSpec
) -> _Record | Reject:
    """The text of one record, or a Reject saying why there is none."""
    rid = record.get("id")
    rid = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
    if name not in record:
        preview = json.dumps(record, ensure_ascii=False, default=str)
        return Reject(src, f"missing text field {name!r}", location, rid, _preview(preview))
    value = record[name]
    if not isinstance(value, str):
        return Reject(src, f"text field {name!r} is not a string", location, rid, _preview(repr(value)))
    title = record.get("title") if name != "title" else None
    return _Record(row, location, value, title if isinstance(title, str) and title.strip() else spec.title, rid)


_STREAM_ERRORS = (EOFError, OSError, zlib.error)  # a truncated or corrupt gzip (BadGzipFile is an OSError)
_scan_json = json.JSONDecoder().scan_once  # the C scanner json.loads uses, without its whitespace checks


def _json_object(raw: bytes, n: int, src: str) -> dict[str, Any] | Reject | None:
    """Line ``n`` as a JSON object, a Reject saying why it is not one, or None for a blank line."""
    if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        if not raw.strip():
            return None
        return Reject(src, "invalid UTF-8", f"line {n}", preview=_preview(raw.decode("utf-8", "surrogateescape")))
    try:
        obj, end = _scan_json(line, 0)
        if end != len(line) and line[end:] != "\n":
            raise StopIteration  # json.loads decides what follows (more whitespace, or an error)
    except (StopIteration, json.JSONDecodeError):
        if not raw.strip():
            return None
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            return Reject(src, f"invalid JSON: {exc.msg}", f"line {n}", preview=_preview(line))
    if type(obj) is not dict:
        return Reject(src, "not a JSON object", f"line {n}", preview=_preview(line))
    return obj


def read_jsonl(path: Path, spec: SourceSpec) -> Iterator[_Passage | Reject]:
    """JSON Lines (optionally gzip): one record per line, bad lines rejected one by one."""
    src = str(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        n = 0
        head: list[tuple[int, dict[str, Any] | Reject]] = []  # the first SNIFF_ROWS items (objects, rejects)
        broken = False
        try:
            for raw in f:
                n += 1
                item = _json_object(raw, n, src)
                if item is not None:
                    head.append((n, item))
                    if len(head) == SNIFF_ROWS:
                        break
        except _STREAM_ERRORS as exc:
            head.append((n + 1, Reject(src, f"unreadable file: {exc}", f"line {n + 1}" if n else "file")))
            broken = True
        name = spec.text_field or pick_text_field([o for _, o in head if type(o) is dict])
        if name is None:
            yield from (o for _, o in head if type(o) is not dict)
            if any(type(o) is dict for _, o in head):
                yield Reject(src, "no text field found (set text_field)", "file")
            return
        for k, obj in head:
            if type(obj) is dict:
                yield from _object_passages(obj, k, name, spec, src)
            else:
                yield obj
        if broken:
            return
        try:
            for raw in f:
                n += 1
                obj = _json_object(raw, n, src)
                if type(obj) is dict:
                    yield from _object_passages(obj, n, name, spec, src)
                elif obj is not None:
                    yield obj
        except _STREAM_ERRORS as exc:
            yield Reject(src, f"unreadable file: {exc}", f"line {n + 1}" if n else "file")


def _object_passages(obj: dict[str, Any], n: int, name: str, spec: SourceSpec, src: str) -> list[_Passage | Reject]:
    """The passages of JSONL line ``n`` (the common case without building a _Record first)."""
    value = obj.get(name)
    if type(value) is not str:
        return _record_passages(_field_text(src, n - 1, f"line {n}", obj, name, spec), spec, src)
    title = obj.get("title") if name != "title" else None
    if not (isinstance(title, str) and title.strip()):
        title = spec.title
    return _row_passages(value, title, n - 1, spec, src, obj, f"line {n}")


_CSV_ERROR_LIMIT = 1000  # consecutive unparseable rows after which the rest of a CSV file is given up


def read_csv(path: Path, spec: SourceSpec) -> Iterator[_Passage | Reject]:
    """CSV with a header row; a row with the wrong number of fields or bad bytes is rejected alone."""
    src = str(path)
    with open(path, "rb") as fb:
        if _looks_binary(fb.read(8192)):
            yield Reject(src, "unreadable file: binary content (NUL bytes)", "file")
            return
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        rows = _csv_rows(csv.reader(f), src)
        header = None
        for header in rows:  # the first parseable row is the header
            if not isinstance(header, Reject):
                break
            yield header
        if not isinstance(header, list):
            return  # no rows at all: read_sources reports an empty file
        records = _csv_records(rows, header, src)
        head = list(islice(records, SNIFF_ROWS))
        name = spec.text_field or pick_text_field([r for _, r in (h for h in head if not isinstance(h, Reject))])
        if name is None or name not in header:
            reason = f"missing text field {name!r}" if name else "no text field found (set text_field)"
            yield Reject(src, reason, "file", preview=_preview(",".join(header)))
            return
        for item in chain(head, records):
            if isinstance(item, Reject):
                yield item
            else:
                row, record = item
                yield from _record_passages(_field_text(src, row, f"row {row}", record, name, spec), spec, src)


def _csv_rows(reader, src: str) -> Iterator[list[str] | Reject]:
    """Non-empty rows; a row the csv module cannot parse is a Reject (too many in a row end the file)."""
    errors = 0
    while True:
        try:
            row = next(reader)
            errors = 0
        except StopIteration:
            return
        except csv.Error as exc:
            errors += 1
            yield Reject(src, f"unreadable row: {exc}", f"line {reader.line_num}")
            if errors >= _CSV_ERROR_LIMIT:
                yield Reject(src, "unreadable file: too many unparseable rows", f"line {reader.line_num}")
                return
            continue
        if row:
            yield row


def _csv_records(
    rows: Iterator[list[str] | Reject], header: list[str], src: str
) -> Iterator[tuple[int, dict] | Reject]:
    for row_index, row in enumerate(rows):
        location = f"row {row_index}"
        if isinstance(row, Reject):
            yield row
        elif len(row) != len(header):
            yield Reject(src, f"wrong number of fields ({len(row)}, expected {len(header)})", location,
                         preview=_preview(",".join(row)))
        elif _SURROGATE.search("".join(row)):
            yield Reject(src, "invalid UTF-8", location, preview=_preview(",".join(row)))
        else:
            yield row_index, dict(zip(header, row))


_PARQUET_BATCH = 1024


def read_parquet(path: Path, spec: SourceSpec) -> Iterator[_Passage | Reject]:
    """Parquet, read in record batches (never the whole table at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = str(path)
    row = 0
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        name = spec.text_field
        if name is None and strings:
            sample = next(pf.iter_batches(batch_size=SNIFF_ROWS, columns=strings), None)
            name = pick_text_field(sample.to_pylist()) if sample is not None else None
        if name is None or name not in schema.names:
            reason = f"missing text field {name!r}" if name else "no text field found (set text_field)"
            yield Reject(src, reason, "file", preview=_preview(", ".join(schema.names)))
            return
        columns = [name] + [c for c in ("title", "id") if c in schema.names and c != name]
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
            for record in batch.to_pylist():
                yield from _record_passages(_field_text(src, row, f"row {row}", record, name, spec), spec, src)
                row += 1
    except (OSError, pa.ArrowException) as exc:  # not parquet, a corrupt footer or page: the rest is one reject
        yield Reject(src, f"unreadable file: {exc}", f"row {row}" if row else "file")


def _record_passages(record: _Record | Reject, spec: SourceSpec, src: str) -> list[_Passage | Reject]:
    """One row as passages: oversized and empty rows rejected, genre decided per row."""
    if isinstance(record, Reject):
        return [record]
    return _row_passages(record.text, record.title, record.row, spec, src, {"id": record.id}, record.location)


def _record_id(record: dict[str, Any]) -> str | None:
    rid = record.get("id")
    return str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def _row_passages(
    text: str, title: str | None, row: int, spec: SourceSpec, src: str, record: dict[str, Any], location: str
) -> list[_Passage | Reject]:
    """The passages of one row's text (a list: most rows are one passage); ``record`` gives the id of a reject."""
    if len(text) > spec.max_doc_chars:
        return [Reject(src, f"oversized ({len(text)} chars > max_doc_chars)", location, _record_id(record),
                       _preview(text))]
    ascii_text = text.isascii()
    if not ascii_text and _SURROGATE.search(text):
        return [Reject(src, "invalid UTF-8", location, _record_id(record), _preview(text))]
    cleaner = spec.clean
    if cleaner == "auto":
        cleaner = "wikitext" if " @" in text and any(t in text for t in _WIKI_TOKENS) else "none"
    if cleaner == "gutenberg":
        start, end, _ = gutenberg_body(text)
        text = text[start:end]
    elif cleaner == "wikitext":
        text = untokenize_wikitext(text)
    clean = normalize_text(text)
    if len(clean) < spec.min_chars:
        return [Reject(src, "empty or too short", location, _record_id(record), _preview(clean))]
    genre = detect_genre(clean) if spec.genre == "auto" else spec.genre
    if len(clean) <= spec.max_chars:
        return [_Passage(clean, genre, title, "row", row, row)]
    out: list[_Passage | Reject] = []
    units, _ = _units(clean, 0, len(clean), wikitext=False, headings=False, bad_bytes=False)
    for span in _pack(clean, units, spec.max_chars):
        piece = normalize_text(clean[span.start : span.end])
        if len(piece) < spec.min_chars:
            out.append(Reject(src, "empty or too short", f"{location} chars {span.start}-{span.end}",
                              _record_id(record), piece))
        else:
            out.append(_Passage(piece, genre, title, "row", row, row))
    return out


_READERS = {".txt": read_txt, ".jsonl": read_jsonl, ".jsonl.gz": read_jsonl, ".csv": read_csv, ".parquet": read_parquet}


def read_file(path: Path, spec: SourceSpec) -> Iterator[_Passage | Reject]:
    """One file's passages; a file that cannot be opened or parsed at all is one Reject at "file"
    (a directory that cannot be listed: one Reject at "directory")."""
    if path.is_dir() or not path.exists():
        reason = unreadable(path) or "unreadable file: not found"
        yield Reject(str(path), reason, "directory" if reason.startswith("unreadable directory") else "file")
        return
    reader = _READERS[file_suffix(path) or ""]
    try:
        yield from reader(path, spec)
    except OSError as exc:
        yield Reject(str(path), f"unreadable file: {exc.strerror or exc}", "file")
    except _DATA_ERRORS as exc:  # a corrupt container must not stop the run (a bug, e.g. a TypeError, still raises)
        log.debug("unreadable %s", path, exc_info=True)
        yield Reject(str(path), f"unreadable file: {type(exc).__name__}: {exc}", "file")


_DATA_ERRORS = (ValueError, EOFError, csv.Error, zlib.error)  # what a corrupt file raises


# --------------------------------------------------------------------------------------------------
# The stream


def read_sources(
    specs: list[SourceSpec], stats: SourceStats | None = None, dedup: bool = True, defer_genre: bool = False
) -> Iterator[Document | Reject]:
    """Documents and Rejects of every source, in a deterministic order (files sorted, passages in order).

    Exact duplicates (same cleaned text, across all files) are dropped and counted when dedup is on;
    with dedup off, a repeated text gets its id suffixed "-2", "-3", ... so ids stay unique.
    With ``defer_genre``, records of tabular files (decided one by one) get the genre
    ``GENRE_DEFERRED`` and the caller decides it with :func:`resolve_genre`, e.g. in parallel workers.
    """
    stats = stats if stats is not None else SourceStats()
    seen: set[str] = set()
    repeats: Counter[str] = Counter()
    for path, spec in expand_sources(specs):
        if defer_genre and spec.genre == "auto" and file_suffix(path) != ".txt":
            spec = spec.model_copy(update={"genre": GENRE_DEFERRED})
        stats.files += 1
        name, src = source_name(path), str(path)
        docs = rejects = dropped = 0
        per_genre, limit = stats.per_genre, spec.limit
        for item in apply_special_token_policy(read_file(path, spec), path, spec.min_chars):  # see special_text
            if type(item) is not _Passage:
                rejects += 1
                stats.add_reject(item)
                yield item
                continue
            text = item.text
            digest = sha256(text.encode("utf-8")).hexdigest()
            doc_id = f"{name}-{digest[:12]}"
            if dedup:
                if digest in seen:
                    stats.duplicates += 1
                    dropped += 1
                    continue
                seen.add(digest)
            else:
                repeats[doc_id] += 1
                if repeats[doc_id] > 1:
                    doc_id = f"{doc_id}-{repeats[doc_id]}"
            genre = item.genre
            doc = Document(text, doc_id, {
                "source": src,
                "source_name": name,
                "genre": genre,
                "title": item.title,
                "offsets": {"unit": item.unit, "start": item.start, "end": item.end},
                "source_chars": len(text),
            })
            docs += 1
            stats.documents += 1  # stats.add_document(doc), inline
            stats.chars += len(text)
            per_genre[genre] = per_genre.get(genre, 0) + 1
            stats.per_source[src] = stats.per_source.get(src, 0) + 1
            yield doc
            if limit is not None and docs >= limit:
                break
        if not docs and not rejects and not dropped:
            empty = Reject(src, "empty file", "file")
            stats.add_reject(empty)
            yield empty
            rejects = 1
        stats.per_source.setdefault(src, 0)
        log.info("read %s: %d documents, %d rejects, %d duplicates", path, docs, rejects, dropped)
