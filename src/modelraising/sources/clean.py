"""Cleaning raw text: Unicode and whitespace, HTML entities, Gutenberg boilerplate, WikiText tokenisation."""

from __future__ import annotations

import html
import logging
import re
import unicodedata

log = logging.getLogger(__name__)


SURROGATE = re.compile(r"[\udc80-\udcff]")  # bytes that were not UTF-8 (decoded with surrogateescape)
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
WIKI_TOKENS = (" @-@ ", " @,@ ", " @.@ ")
WIKI_HEADING = re.compile(r"((?:= )+)(.+?)((?: =)+)")  # on a stripped line
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
    return sum(head.count(t) for t in WIKI_TOKENS) >= 3 or len(_WIKI_HEADING_LINE.findall(head, 0, 50_000)) >= 2


# A sentence end in tokenised WikiText: " . " before a capital, a quote or a bracket.
_WIKI_SENTENCE_END = re.compile(r"(?<= [.!?]) (?=[A-Z\"'(\[])")


# A sentence that opens by pointing back ("It", "He", "This", "However") cannot follow a dropped one: what it
# points to may be the sentence that is gone.
_POINTS_BACK = re.compile(
    r"(?:It|He|She|They|This|These|Those|That|There|His|Her|Its|Their|Such|Both|However|But|And|Also|Thus"
    r"|Therefore|Instead|Then|Later|Nevertheless|Meanwhile|Afterwards|Consequently|The latter|The former"
    r"|In addition|Despite this|As a result)\b"
)


def drop_unknown(text: str) -> str:
    """Drop every sentence that holds a ``<unk>`` token (and a heading line that does): deleting the token
    alone leaves holes ("the Second Battle of is seen") a model would learn as English.

    Where a sentence goes, the paragraph breaks, and a sentence after the gap that points back ("It was
    fought ...") goes too: joined up, the rest would read as continuous prose whose references are wrong."""
    if "<unk>" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if "<unk>" in line:
            if WIKI_HEADING.fullmatch(line.strip()):
                continue
            line = "\n\n".join(" ".join(run) for run in _runs_without_unknown(line))
        lines.append(line)
    return "\n".join(lines)


def _wiki_sentences(line: str) -> list[str]:
    """A WikiText line cut into sentences; a quote mark that closes a sentence's open quotation stays with it
    (' the " Ole Miss . " They ...' is cut after the second quote mark, not before it)."""
    out: list[str] = []
    for piece in _WIKI_SENTENCE_END.split(line):
        if out and out[-1].count('"') % 2 and piece.startswith('" '):
            out[-1] += ' "'
            piece = piece[2:]
        if piece:
            out.append(piece)
    return out


def _runs_without_unknown(line: str) -> list[list[str]]:
    """The line's sentences in runs of intact, connected ones."""
    runs: list[list[str]] = [[]]
    gap = False
    for sentence in _wiki_sentences(line):
        if "<unk>" in sentence or (gap and _POINTS_BACK.match(sentence.strip())):
            gap = True
            continue
        if gap and runs[-1]:
            runs.append([])
        runs[-1].append(sentence)
        gap = False
    return [run for run in runs if run]


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
