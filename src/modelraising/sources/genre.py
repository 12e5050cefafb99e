"""A passage's genre (fiction, factual, dialogue, post, ...) from cheap word and layout cues."""

from __future__ import annotations

import logging
import re
from collections import Counter

from modelraising.document import Document
from modelraising.sources.spec import GENRE_VOTES, GENRES

log = logging.getLogger(__name__)


_TURN_OWN_LINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Za-z'.\-]*(?:[ \t]+[A-Za-z][A-Za-z'.\-]*){0,3})[ \t]*:[ \t]*$")
_TURN_INLINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Za-z]{0,20}(?: [A-Z][A-Za-z]{0,20})?):[ \t]+\S")
_WORD_RE = re.compile(r"[A-Za-z]+(?:['\u2019][a-z]+)?")
_YEAR = re.compile(r"\b1[0-9]{3}s?\b|\b20[0-9]{2}\b")
# A handle or tag starts a word, or follows an opening quote: a retweet is quoted ('"@name: ...').
_SOCIAL = re.compile(r"(?:^|[\s\"'\u201c(])[@#]\w|https?://|&amp;|&#\d+;|\bRT\b")
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


_CUES = {
    w: cue
    for cue, words in (
        ("speech", _SPEECH),
        ("third", _THIRD),
        ("personal", _PERSONAL),
        ("fact_words", _FACT),
        ("slang", _SLANG),
    )
    for w in words
}


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
    social = (
        len(_SOCIAL.findall(text))
        if ("@" in text or "#" in text or "&" in text or "http" in text or "RT" in text)
        else 0
    )
    informal = (
        cues["slang"]
        + lower_i
        + text.count("!!")
        + text.count("??")
        + text.count("...")
        + (0 if _ENDS_SENTENCE.search(text) else 1)
    )
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
        if short and (
            found["slang"]
            or lower_i
            or text.count("!!")
            or text.count("??")
            or text.count("...")
            or not _ENDS_SENTENCE.search(text)
        ):
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
    factual = (
        0.25 * (1000 * digits / n_chars)
        + 1.5 * years
        + 0.6 * (1000 * text.count("(") / n_chars)
        + 12 * (found["fact_words"] / n_words)
    )
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
