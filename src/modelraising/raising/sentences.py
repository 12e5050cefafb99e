"""Sentences and headings of a passage as exact slices of it, and how they are grouped into steps."""

from __future__ import annotations

import random
import re

from modelraising.text import ABBREVIATIONS

# A first line that is a title: short, capitalised, no sentence punctuation, more text below it.
HEADING_LINE = re.compile(r"\s*([A-Z][^\n.,!?:;\"]{1,60}?)[ \t]*\n(?=\s*[A-Z\"\u201c])")


def split_heading(text: str) -> tuple[str | None, str]:
    """A leading title line ("The Wolf and the Lamb\nA Wolf, meeting ...") and the text after it.

    Only a short capitalised line without sentence punctuation, followed by a line that starts
    with a capital or a quotation mark, counts; otherwise (None, text).
    """
    m = HEADING_LINE.match(text)
    if not m:
        return None, text
    return " ".join(m.group(1).split()), text[m.end() :]


# Sentence boundaries as text.split_sentences finds them (a test holds the two equal on the
# corpus), but faster: the regex consumes the stop instead of looking behind for it, and only
# boundaries after a full stop look at the word before it (an abbreviation or a lone letter, "H.",
# is not the end of a sentence).
_BOUNDARY = re.compile(r"([.!?][\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text.split_sentences`` in ``text``, closing quotes included.

    split_sentences drops closing quotes and brackets after the final stop ('me."' -> 'me.'); these
    spans keep them, and a run of spans sliced from ``text`` keeps the original whitespace between.
    """
    spans = []
    start = len(text) - len(text.lstrip())
    for m in _BOUNDARY.finditer(text):
        p = m.start()
        if text[p] == "." and not (p >= 5 and text[p - 5 : p].isalpha()):  # 5+ letters: no abbreviation
            window = text[max(0, p - 12) : p + 1]
            word = window.rsplit(None, 1)[-1].rstrip(".").lower()
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((start, m.end(1)))
        start = m.end()
    end = len(text.rstrip())
    if start < end:
        spans.append((start, end))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of ``text.split_sentences``, each the exact slice of ``text`` (see sentence_spans)."""
    return [text[a:b] for a, b in sentence_spans(text)]


_CLOSERS = frozenset(".!?\"'\u201d\u2019)]")


def group_spans(parts: list[str], rng: random.Random, max_chars: int, spread: float) -> list[tuple[int, int]]:
    """Cut a list of sentences into runs of 1 to ``1 + int(spread)`` sentences, as [i, j) spans.

    A run stops growing at ``max_chars``, but not while it leaves a quotation open or ends without
    a full stop (up to four more units), so that a line of speech split at its inner full stop, or
    a speech that runs on into the next, stays in one piece.
    One ``rng.random()`` call per run.
    """
    out = []
    i, n = 0, len(parts)
    while i < n:
        size = 1 + int(rng.random() * spread)
        part = parts[i]
        j, chars = i + 1, len(part)
        straight = part.count('"')
        curly = part.count("\u201c") - part.count("\u201d") if "\u201c" in part or "\u201d" in part else 0
        while j < n:
            if j - i < size and chars + len(parts[j]) <= max_chars:
                pass
            elif (straight % 2 or curly or part[-1] not in _CLOSERS) and j - i < size + 4:
                pass  # a quotation left open, or a unit that ends mid-sentence ("Human: yep")
            else:
                break
            part = parts[j]
            chars += len(part)
            straight += part.count('"')
            if "\u201c" in part or "\u201d" in part:
                curly += part.count("\u201c") - part.count("\u201d")
            j += 1
        out.append((i, j))
        i = j
    return out


# "First Citizen:" alone on its line (plays) or "Human: text" (transcripts), at the start of a line.
