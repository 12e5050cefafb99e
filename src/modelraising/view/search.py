"""Paging through a directory's records: browse (with filters) and full-text search (with filters).

Browsing pages by offset into the records that pass the filters (a numpy mask), so any page of a
million records costs the same. Search pages by record number (``after`` / ``before``): FTS5 yields
matches in record order inside a window of record numbers, the mask drops what the filters exclude,
and phrases (``"call me ishmael"``; the index keeps no word positions) are checked against the record
text, until a page is full. The total is exact when it can be had within a time budget, otherwise
estimated from the share of word matches looked at, and said to be an estimate.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from modelraising.view.facets import plain_text
from modelraising.view.index import Index

PAGE = 50
COUNT_BUDGET_S = 0.08
COUNT_WINDOW = 1 << 15  # records per counting step: the budget is checked this often
MIN_CHECKED = 25  # phrase checks before an estimate: it needs a basis
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Query:
    """A parsed search: words all of which must occur (``word*``: a prefix), and phrases."""

    text: str
    words: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    phrases: list[re.Pattern] = field(default_factory=list)

    def fts(self) -> str:
        parts = [f'"{w}"' for w in self.words] + [f'"{p}"*' for p in self.prefixes]
        return " ".join(dict.fromkeys(parts))

    def verify(self, text: str) -> bool:
        if not self.phrases:
            return True
        flat = plain_text(text)
        return all(p.search(flat) for p in self.phrases)


def parse_query(text: str) -> Query | None:
    """``whale "call me ishmael" ish*`` -> a :class:`Query`; None when it holds no word."""
    query = Query(text=text.strip())
    for m in _TOKEN.finditer(text):
        phrase, bare = m.group(1), m.group(2)
        if phrase is not None:
            words = _WORD.findall(phrase)
            query.words += words
            if len(words) > 1:
                query.phrases.append(re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", re.I))
        elif bare.endswith("*") and _WORD.findall(bare):
            query.prefixes.append(_WORD.findall(bare)[0])
        else:
            query.words += _WORD.findall(bare)
    return query if query.words or query.prefixes else None


@dataclass
class Page:
    recs: list[int]
    total: int
    exact: bool = True
    offset: int | None = None  # browsing: index of recs[0] among the matches
    more_before: bool = False
    more_after: bool = False


def browse(index: Index, mask: np.ndarray | None, offset: int, limit: int = PAGE) -> Page:
    """Records ``offset`` .. ``offset + limit`` of those passing ``mask`` (all records when None)."""
    if mask is None:
        total = index.n
        offset = max(0, min(offset, max(0, total - 1)))
        recs = list(range(offset, min(total, offset + limit)))
    else:
        hits = _hits(index, mask)
        total = len(hits)
        offset = max(0, min(offset, max(0, total - 1)))
        recs = [int(r) for r in hits[offset : offset + limit]]
    return Page(recs, total, True, offset, offset > 0, offset + len(recs) < total)


def _hits(index: Index, mask: np.ndarray) -> np.ndarray:
    cache = index.__dict__.setdefault("_hits", {})
    key = id(mask)
    if key not in cache or cache[key][0] is not mask:
        if len(cache) > 8:
            cache.clear()
        cache[key] = (mask, np.flatnonzero(mask))
    return cache[key][1]


def search(
    index: Index,
    query: Query,
    mask: np.ndarray | None,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> Page:
    """One page of matches after record ``after`` (or before ``before``), in record order."""
    backwards = before is not None
    recs: list[int] = []
    for window in _windows(index.n, after, before):
        for rec in _window_matches(index, query, mask, window, backwards):
            recs.append(rec)
            if len(recs) == limit:
                break
        if len(recs) == limit:
            break
    full = len(recs) == limit
    if backwards:
        recs.reverse()
    # "more" is a cheap guess: a full page may be followed by an empty one, which says so
    more_before = full if backwards else after is not None
    more_after = before is not None or full
    total, exact = count(index, query, mask)
    return Page(recs, total, exact, None, more_before, more_after)


def _windows(n: int, after: int | None, before: int | None):
    """Windows of record numbers to scan, growing from 4k, forwards from ``after`` or back from ``before``: a
    common word fills a page from the first window, a rare one is reached in a few queries."""
    size = 1 << 12
    if before is not None:
        hi = min(before, n)
        while hi > 0:
            lo = max(0, hi - size)
            yield lo, hi
            hi, size = lo, min(size * 4, 1 << 20)
    else:
        lo = 0 if after is None else after + 1
        while lo < n:
            hi = min(n, lo + size)
            yield lo, hi
            lo, size = hi, min(size * 4, 1 << 20)


def _window_matches(index: Index, query: Query, mask, window: tuple[int, int], backwards: bool):
    lo, hi = window
    order = "DESC" if backwards else "ASC"
    rows = index.con.execute(
        f"SELECT rowid FROM fts WHERE fts MATCH ? AND rowid >= ? AND rowid < ? ORDER BY rowid {order}",
        (query.fts(), lo, hi),
    ).fetchall()
    for (rec,) in rows:
        if mask is not None and not mask[rec]:
            continue
        if query.phrases and not query.verify(_text(index, rec)):
            continue
        yield rec


def _text(index: Index, rec: int) -> str:
    row = index.con.execute("SELECT file, pos, len FROM recs WHERE rec = ?", (rec,)).fetchone()
    return index.corpus.read(*row).text


def count(index: Index, query: Query, mask: np.ndarray | None, budget_s: float = COUNT_BUDGET_S) -> tuple[int, bool]:
    """(matches, exact): word matches are counted by FTS5 itself; filters and phrases are applied to
    them window by window until the budget is spent, then the rest is estimated from the share seen.
    The windows are visited spread over the corpus (0, 1/2, 1/4, 3/4, ...), not from its start, so
    an estimate is not skewed where the order follows a facet (curriculum order follows difficulty)."""
    fts = query.fts()
    (words,) = index.con.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (fts,)).fetchone()
    if (mask is None and not query.phrases) or not words:
        return words, True
    deadline = time.perf_counter() + budget_s
    seen = kept = checked = 0
    n_windows = -(-index.n // COUNT_WINDOW)
    for w in _spread(n_windows):
        rows = np.array(
            index.con.execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? AND rowid >= ? AND rowid < ?",
                (fts, w * COUNT_WINDOW, (w + 1) * COUNT_WINDOW),
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1)
        passing = rows[mask[rows]] if mask is not None and len(rows) else rows
        if query.phrases:
            for rec in passing:
                kept += query.verify(_text(index, int(rec)))
                checked += 1
                if checked >= MIN_CHECKED and time.perf_counter() > deadline:
                    seen += int(np.searchsorted(rows, rec)) + 1
                    return _estimate(kept, seen, words), False
        else:
            kept += len(passing)
        seen += len(rows)
        if seen < words and time.perf_counter() > deadline:
            return _estimate(kept, seen, words), False
    return kept, True


def _spread(n: int) -> list[int]:
    """0 .. n-1 in bit-reversed order: every prefix is spread evenly over the range."""
    bits = max(1, (n - 1).bit_length())
    order = sorted(range(1 << bits), key=lambda i: int(format(i, f"0{bits}b")[::-1], 2))
    return [i for i in order if i < n]


def _estimate(kept: int, seen: int, words: int) -> int:
    return int(round(kept * words / seen)) if seen else 0
