"""A record's text as HTML: every character escaped, the raising markup made visible.

Speaker turns (``<|mentor|> Grandpa Elias: ...``) become a speaker badge and a turn coloured by role;
value and harm tags (``<|value:care|>...<|/value|>``) become a marked region with its label; the
source's own words are marked, from ``metadata.quoted`` when the record has it, else by matching
the words of the source passage (a word-level diff, runs of at least four words). The text is never
put into the page as markup: only :func:`markupsafe.escape` output and fixed tags are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

_TAG = re.compile(r"<\|(?:(value|harm):([^|\n]{1,60})|/(value|harm)|([a-z]+))\|>")
_TURN = re.compile(r"^<\|([a-z]+)\|> ([^:\n]{1,60}): ", re.M)
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
MIN_RUN = 4  # words: shorter common runs ("and the") are not the source's words
MAX_DIFF_WORDS = 20_000


@dataclass
class Span:
    start: int
    end: int
    cls: str
    title: str = ""


def quoted_spans(meta: dict, length: int) -> list[Span] | None:
    """``metadata.quoted`` as spans (None when the record does not say which words are the source's)."""
    quoted = meta.get("quoted")
    if not isinstance(quoted, list):
        return None
    spans = []
    for item in quoted:
        try:
            a, b = int(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        who = item[2] if len(item) > 2 and item[2] else ""
        if 0 <= a < b <= length:
            spans.append(
                Span(a, b, "src", f"the source's words ({who})" if who else "the source's words (unattributed)")
            )
    return spans


def _blank_tags(text: str) -> str:
    return _TAG.sub(lambda m: " " * len(m.group(0)), text)


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0).lower().replace("\u2019", "'")) for m in _WORD.finditer(_blank_tags(text))]


def match_source(raised: str, source: str) -> tuple[list[Span], list[Span]]:
    """Runs of at least :data:`MIN_RUN` words the raised text shares with the source, in order:
    (spans in the raised text, spans in the source)."""
    rw, sw = _words(raised), _words(source)
    if not rw or not sw or len(rw) > MAX_DIFF_WORDS or len(sw) > MAX_DIFF_WORDS:
        return [], []
    matcher = SequenceMatcher(None, [w for *_, w in rw], [w for *_, w in sw], autojunk=False)
    in_raised, in_source = [], []
    for i, j, size in matcher.get_matching_blocks():
        if size >= MIN_RUN:
            in_raised.append(Span(rw[i][0], rw[i + size - 1][1], "src", "matches the source passage"))
            in_source.append(Span(sw[j][0], sw[j + size - 1][1], "kept", "in the raised text"))
    return in_raised, in_source


def _tokens_and_regions(text: str) -> tuple[list[tuple[int, int, Markup]], list[Span]]:
    """Special tags as badges (start, end, html) and the regions they open: turns, value/harm spans."""
    tokens: list[tuple[int, int, Markup]] = []
    regions: list[Span] = []
    turn_starts = set()
    for m in _TURN.finditer(text):
        role, name = m.group(1), m.group(2)
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        tokens.append(
            (
                m.start(),
                m.end(),
                Markup('<span class="spk r-{}" title="{}">{}</span> ').format(role, f"speaker, role {role}", name),
            )
        )
        regions.append(Span(m.end(), line_end, f"turn r-{role}"))
        turn_starts.add(m.start())
    open_tags: dict[str, list[tuple[int, str]]] = {"value": [], "harm": []}
    for m in _TAG.finditer(text):
        if m.start() in turn_starts:
            continue
        kind, label, closing, other = m.groups()
        if kind:
            open_tags[kind].append((m.end(), label))
            tokens.append((m.start(), m.end(), Markup('<span class="tag t-{}">{}:{}</span>').format(kind, kind, label)))
        elif closing:
            if open_tags[closing]:
                start, label = open_tags[closing].pop()
                regions.append(Span(start, m.start(), f"reg g-{closing}", f"{closing}: {label}"))
            tokens.append(
                (m.start(), m.end(), Markup('<span class="tag t-{} end">/{}</span>').format(closing, closing))
            )
        else:
            tokens.append((m.start(), m.end(), Markup('<span class="tag">{}</span>').format(other)))
    tokens.sort()
    return tokens, regions


def render_text(text: str, spans: list[Span] | None = None, *, markup: bool = True) -> Markup:
    """``text`` as escaped HTML with ``spans`` marked; with ``markup`` the special tags are rendered
    (turns, value/harm regions), without it they are shown as the characters they are."""
    tokens, regions = _tokens_and_regions(text) if markup else ([], [])
    intervals = [s for s in (spans or []) if s.end > s.start] + regions
    cuts = {0, len(text)}
    for s in intervals:
        cuts.update((max(0, s.start), min(len(text), s.end)))
    for a, b, _ in tokens:
        cuts.update((a, b))
    points = sorted(cuts)
    out: list[str] = []
    t = 0  # next token
    skip_to = -1
    for a, b in zip(points, points[1:]):
        if a < skip_to:
            continue
        while t < len(tokens) and tokens[t][1] <= a:
            t += 1
        if t < len(tokens) and tokens[t][0] <= a < tokens[t][1]:
            out.append(str(tokens[t][2]))
            skip_to = tokens[t][1]
            continue
        piece = escape(text[a:b])
        covering = [s for s in intervals if s.start <= a and s.end >= b]
        if covering:
            classes = " ".join(dict.fromkeys(c for s in covering for c in s.cls.split()))
            title = "; ".join(dict.fromkeys(s.title for s in covering if s.title))
            out.append(str(Markup('<span class="{}" title="{}">{}</span>').format(classes, title, piece)))
        else:
            out.append(str(piece))
    return Markup("".join(out))


def highlight_pair(raised: str, meta: dict, source: str | None) -> tuple[Markup, Markup | None, str]:
    """The raised text and its source passage as HTML, with the shared words marked; and how the
    source's words were found ("quoted" from the record, "matched" by the diff, or "none")."""
    quoted = quoted_spans(meta, len(raised))
    matched_raised, matched_source = match_source(raised, source) if source else ([], [])
    if quoted is not None:
        raised_spans, how = quoted, "quoted"
    elif source:
        raised_spans, how = matched_raised, "matched"
    else:
        raised_spans, how = [], "none"
    source_html = render_text(source, matched_source, markup=False) if source is not None else None
    return render_text(raised, raised_spans), source_html, how
