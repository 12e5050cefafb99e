"""Difficulty features of one document: cheap, deterministic, and stored with the record.

Each feature is a raw, interpretable number (a reading grade, a share, a length), so a user reading
an ordered record can see *why* it sits where it does. Turning them into one difficulty is
``modelraising.curriculum.difficulty``'s job, on a fixed (absolute) scale.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from modelraising.text import parse_turns, split_sentences

# Order of the columns in the per-document feature matrix (and of ``features`` in the records).
FEATURES: tuple[str, ...] = (
    "fk_grade",
    "cl_grade",
    "rarity_mean",
    "rarity_p90",
    "sentence_words",
    "chars",
    "dialogue_share",
)
REFERENCE_FEATURE = "ref_loss"  # appended when a reference model scores the corpus

_TAG = re.compile(r"<\|[^|\n]{1,80}\|>")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_TURN_LINE = re.compile(r"^\s*<\|[a-z]+\|> ")  # a raised speaker turn: <|role|> Name: utterance
_QUOTED = re.compile(r"[\"\u201c][^\"\u201c\u201d\n]{1,2000}[\"\u201d]")
_ZIPF_MAX = 8.0  # wordfreq's Zipf scale: "the" is 7.73; a word it has never seen is 0


def _offline_textstat():
    """textstat, kept from downloading at run time and with its hyphenation memoised.

    textstat 0.7.13 counts English syllables with NLTK's cmudict and calls ``nltk.download`` when that
    corpus is missing; nothing may download at run time here. When cmudict is installed locally it is
    used; otherwise textstat's own Pyphen path counts every word (its fallback for words cmudict lacks).
    Pyphen hyphenates the same few thousand words over and over: its per-word answer is cached, which
    changes no result and makes scoring several times faster.
    """
    import textstat
    from textstat.backend.counts import _count_syllables

    if not getattr(_count_syllables, "_modelraising_offline", False):
        _count_syllables.get_cmudict = _local_cmudict
        _count_syllables.get_pyphen = _memoised_pyphen
        _count_syllables._modelraising_offline = True
    return textstat


class _MemoPyphen:
    """``Pyphen`` with ``positions`` memoised per word (the only method textstat's syllable count uses)."""

    def __init__(self, lang: str):
        from pyphen import Pyphen

        self._pyphen = Pyphen(lang=lang)
        self._positions: dict[str, list[int]] = {}

    def positions(self, word: str) -> list[int]:
        found = self._positions.get(word)
        if found is None:
            if len(self._positions) > 500_000:  # bounded: a corpus of odd tokens must not grow it forever
                self._positions.clear()
            found = self._positions[word] = self._pyphen.positions(word)
        return found


@lru_cache(maxsize=4)
def _memoised_pyphen(lang: str) -> _MemoPyphen:
    return _MemoPyphen(lang)


@lru_cache(maxsize=4)
def _local_cmudict(lang: str):
    if not lang.startswith("en"):
        return None
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
    except LookupError:
        return None
    return nltk.corpus.cmudict.dict()


def syllable_source() -> str:
    """Which syllable counter textstat uses here ("cmudict" or "pyphen"); recorded in the manifest,
    because the grade's calibration depends on it."""
    return "cmudict" if _local_cmudict("en_US") is not None else "pyphen"


_ZIPF: dict[str, float] = {}


def zipf(word: str) -> float:
    """wordfreq's Zipf frequency, memoised: a corpus reuses a few tens of thousands of words, and a
    wordfreq lookup (tokenise + dictionary) costs far more than a dict hit."""
    value = _ZIPF.get(word)
    if value is None:
        from wordfreq import zipf_frequency

        value = _ZIPF[word] = zipf_frequency(word, "en")
    return value


def plain_text(text: str) -> str:
    """The text as a reader sees it: special tags (speaker, value, harm) removed."""
    return _TAG.sub("", text)


def _blocks(text: str) -> list[str]:
    """Paragraphs with hard line wraps joined, and every speaker-turn line on its own: a turn without
    terminal punctuation must not run into the next one, but wrapped prose must not be cut at each
    line end either."""
    blocks: list[str] = []
    for para in re.split(r"\n[ \t\r]*\n", text):
        prose: list[str] = []
        for line in para.splitlines():
            if _TURN_LINE.match(line):
                blocks.append(plain_text(line).strip())
            elif line.strip():
                prose.append(line.strip())
        if prose:
            blocks.append(plain_text(" ".join(prose)))
    return blocks


def _sentence_words(blocks: list[str]) -> float:
    """Mean words per sentence."""
    counts = [
        n for block in blocks for sentence in split_sentences(block) if (n := len(_WORD.findall(sentence.lower())))
    ]
    return float(sum(counts) / len(counts)) if counts else 0.0


def _grade(textstat, block: str) -> float:
    value = (textstat.flesch_kincaid_grade(block) + textstat.coleman_liau_index(block)) / 2
    return value if math.isfinite(value) else 0.0


def harder_half(blocks: list[str], textstat) -> list[str]:
    """The hardest blocks (by mean of the two grades) that together hold at least half the words, in
    document order.

    A raised document wraps its passage in a simple first-person frame ("I was looking something up
    for school..."), and a dialogue splits it into short turns; graded as a whole, the frame would
    dilute a hard passage towards the middle of the scale. A reader has to get through the hard part,
    so the grades and sentence length are taken over it.
    """
    counted = [(i, b, len(_WORD.findall(b.lower()))) for i, b in enumerate(blocks)]
    counted = [c for c in counted if c[2]]
    if len(counted) <= 1:
        return [b for _, b, _ in counted]
    total = sum(n for _, _, n in counted)
    taken, words = [], 0
    for i, block, n in sorted(counted, key=lambda c: (-_grade(textstat, c[1]), c[0])):
        taken.append((i, block))
        words += n
        if 2 * words >= total:
            break
    return [b for _, b in sorted(taken)]


def _dialogue_share(text: str) -> float:
    """Share of characters spoken: raised speaker turns plus quoted speech in prose."""
    if not text:
        return 0.0
    spoken = sum(len(t.text) for t in parse_turns(text))
    prose = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("<|"))
    spoken += sum(len(m.group(0)) for m in _QUOTED.finditer(prose))
    return min(1.0, spoken / len(text))


def document_features(text: str) -> dict[str, float]:
    """Raw difficulty features of one document (see ``FEATURES``): the grades and sentence length of its
    harder half (``harder_half``), lexical rarity over all its words, its length and dialogue share."""
    textstat = _offline_textstat()
    plain = plain_text(text)
    words = _WORD.findall(plain.lower().replace("\u2019", "'"))
    if words:
        rarity = np.clip(_ZIPF_MAX - np.fromiter((zipf(w) for w in words), float, len(words)), 0.0, _ZIPF_MAX)
        rarity_mean, rarity_p90 = float(rarity.mean()), float(np.percentile(rarity, 90))
    else:
        rarity_mean = rarity_p90 = 0.0
    hard = harder_half(_blocks(text), textstat)
    hard_text = "\n\n".join(hard)
    fk = float(textstat.flesch_kincaid_grade(hard_text)) if hard else 0.0
    cl = float(textstat.coleman_liau_index(hard_text)) if hard else 0.0
    return {
        "fk_grade": fk if math.isfinite(fk) else 0.0,
        "cl_grade": cl if math.isfinite(cl) else 0.0,
        "rarity_mean": rarity_mean,
        "rarity_p90": rarity_p90,
        "sentence_words": _sentence_words(hard),
        "chars": float(len(text)),
        "dialogue_share": _dialogue_share(text),
    }
