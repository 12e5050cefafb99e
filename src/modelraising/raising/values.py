"""Pillar 5, values: what in a passage the charter must answer, decided before anything else is written.

For every passage the :class:`ValueDetector` asks the trained harm detector (:mod:`modelraising.harm`)
whether it is harmful content (by category), a harmful request (someone asking for help to do harm:
for a chat log, the person's turns are what is judged), or content never to be raised at all
(sexual content involving minors). A harmful passage is answered by the charter value that lists its
harm (``charter.value_for_harm``). A passage that is not harmful may still *show* a value: within three
consecutive sentences it names the value with at least two of the value's own words, weighted by how
rare they are in English (``resonance``: "honesty" or "deceive" count for more than "trust"; words as
common as "help" or "friend" do not count), and only then is a resonance reflection written. Which
sentence carries most of it is kept, so value tags and the reflection's quotation point at it.

Determinism: decisions use probabilities rounded to 3 decimals and a fixed batch layout, so the same
passage gets the same assessment in any worker, batch or resume point.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelraising.charter import Charter, Value
from modelraising.harm.labels import CATEGORIES, HARD_DROP, HIERARCHY, PARENT, REQUEST
from modelraising.raising.base import Pillar
from modelraising.raising.fidelity import values_check
from modelraising.raising.sentences import sentence_spans
from modelraising.tags import HARM_CLOSE, HARM_OPEN, VALUE_CLOSE, VALUE_OPEN
from modelraising.text import TRANSCRIPT_NAMES, transcript_turns

POLICIES: tuple[str, ...] = ("reflect", "recontextualize", "drop")
RESONANCE_THRESHOLD = 3.5  # summed rarity weight of a value's distinct words within three sentences
_MIN_CUE_WEIGHT = 0.8  # 6 - Zipf frequency: "help" (0.25) and "friend" (0.63) are too common to be evidence
_WINDOW = 3
_CHILD_FIRST = ("weapons", "self_harm", "fraud", "hate")  # the more specific label names the wrong


@dataclass(frozen=True)
class Assessment:
    """The values pillar's decision about one passage."""

    harmful: bool = False
    request: bool = False
    labels: tuple[str, ...] = ()  # harm categories that fired, most probable first
    scores: dict[str, float] = field(default_factory=dict)
    request_text: str | None = None  # the words that ask (a chat log's person turn)
    value: str | None = None  # the charter value that answers the harm, or that the passage shows
    resonance: float | None = None
    sentences: tuple[int, ...] = ()  # indices of the sentences that carry the value or the harm
    via: str = "first_pass"
    request_context: tuple[str, ...] = ()  # the person's turns just before it (a follow-up needs them)
    request_follow: tuple[str, ...] = ()  # the person's next turn, where it says more ("But I don't want them to know")

    @property
    def hard_drop(self) -> bool:
        return any(label in HARD_DROP for label in self.labels)

    @property
    def category(self) -> str:
        """The harm to name: the most probable label, or its more specific child when that fired too
        ("weapons" over "violence", "hate" over "cruelty")."""
        if not self.labels:
            return "other"
        top = self.labels[0]
        for child in _CHILD_FIRST:
            if child in self.labels and HIERARCHY.get(child) == top:
                return child
        return top

    def harm_meta(self) -> dict[str, Any]:
        return {
            "harmful": self.harmful,
            "request": self.request,
            "labels": list(self.labels),
            "scores": self.scores,
            "via": self.via,
        }

    def value_meta(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "score": self.resonance,
            "via": "harm" if self.harmful else "resonance",
            "harmful": self.harmful,
            "harms": list(self.labels),
            "sentences": list(self.sentences),
        }


def person_turns(text: str) -> list[str] | None:
    """The person's turns of a chat transcript ("Human: ..."), or None when the text is not one
    (:func:`modelraising.text.transcript_turns`: a "Pro: ..." line in an answer is part of that answer)."""
    turns = transcript_turns(text)
    if turns is None:
        return None
    out = []
    for k, (name, _, start) in enumerate(turns):
        end = turns[k + 1][1] if k + 1 < len(turns) else len(text)
        if TRANSCRIPT_NAMES[name] == "the person":
            words = " ".join(text[start:end].split())
            if words:
                out.append(words)
    return out or None


def value_cues(value: Value) -> dict[str, float]:
    """The value's own words (its name and keywords; a keyword of two or three words as a phrase), each
    weighted by its rarity in English (6 - Zipf frequency, at most 3); common words are left out."""
    from wordfreq import zipf_frequency

    words: set[str] = set()
    for k in [*value.keywords, value.name]:
        k = " ".join(k.lower().split())
        parts = re.findall(r"[a-z]+", k)
        if len(parts) in (2, 3) and k == " ".join(parts) and k not in (value.name.lower(),):
            words.add(k)
        else:
            words.update(parts)
    out = {}
    for w in sorted(words):
        weight = min(
            3.0,
            6.0 - min(zipf_frequency(t, "en") for t in w.split()) if " " not in w else 6.0 - zipf_frequency(w, "en"),
        )
        if weight >= _MIN_CUE_WEIGHT:
            out[w] = round(weight, 2)
    return out


_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "ly", "ful", "ness", "y")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself)\b", re.IGNORECASE)


def standalone_context(turns: list[str]) -> tuple[str, ...]:
    """The earlier person turns a refusal may quote before the request: those that stand on their own.

    In the refusal the person speaks to the I, and the assistant's turns are gone, so a turn that
    answers the assistant ("Why would you kill your mother?", "That is not very helpful.") would read
    as said to, or about, the I. A turn that addresses "you", or is a reaction of under six words, is
    left out; the turns kept are the ones a follow-up needs ("How do I get into my neighbour's shed?")."""
    return tuple(t for t in turns if len(t.split()) >= 6 and not _SECOND_PERSON.search(t) and not leans_on_reply(t))


def follow_up(turns: list[str]) -> tuple[str, ...]:
    """The person's next turn a refusal may quote after the request: one that says more of what they want
    ("But I don't want my family to know"), not one addressed to the removed assistant or taking up its
    answer, and not a bare reaction ("Mostly alone.")."""
    return tuple(
        t for t in turns if len(t.split()) >= 5 and not _SECOND_PERSON.search(t) and not _TAKES_UP_ANSWER.search(t)
    )


_ABOUT_REPLY = re.compile(r"\b(?:you|your)\b.*\b(?:it|that|this|so|one)\b", re.IGNORECASE)


# A turn that takes up an answer it was given ("Okay, any other advice?", "I need something stronger.",
# "yes find me one", "I agree. What are some of your favorite things?"): quoted to the I as the request,
# it says the I had already helped, or agreed.
_TAKES_UP_ANSWER = re.compile(
    r"^\W*(?:ok(?:ay)?|yes|yeah|yep|yup|sure|great|thanks|thank you|cool|alright|all right|perfect|nice|good)\b|"
    r"^\W*(?:i agree|agreed|exactly|right|true|i see|i know|that makes sense)(?=\W*$|\s*[.!,;])|"
    r"\b(?:any other|anything else|what else|something (?:stronger|worse|else|better|meaner)|another one|"
    r"more (?:ideas|examples|options|ways|insults|tips)|any more|that last|good job|well done|good stuff|"
    r"fantastic|you'?re right|i (?:especially )?like the idea)\b",
    re.IGNORECASE,
)
# A sentence that opens a turn by taking up the answer before it ("You're right, white would probably stand out
# the most.", "That's a nice compromise AI, good job."): quoted to the I, it says the I had helped.
_REPLY_OPENER = re.compile(
    r"^\W*(?:you'?re right|you are right|good job|well done|nice|great|thanks|thank you|ok(?:ay)?|yes|yeah|sure|"
    r"perfect|fantastic|awesome|cool|i agree|agreed|exactly|that'?s (?:right|true|(?:a |an )?(?:very |really )?"
    r"(?:good|great|nice|helpful|interesting))|this is (?:all )?(?:very |really )?(?:good|great|helpful)|"
    r"i (?:especially )?like (?:the|that|your|it))\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def without_reply_openers(turn: str) -> str:
    """The turn from its first sentence that does not take up the removed answer ("" if none does not)."""
    parts = _SENTENCE_BREAK.split(turn.strip())
    while parts and (_REPLY_OPENER.search(parts[0]) or _TAKES_UP_ANSWER.search(parts[0])):
        parts = parts[1:]
    return " ".join(parts)


# A short turn that carries on from the talk before it ("So how do I get her to work out?", "Do you think
# they have a good point"): quoted alone, its "her" or "they" names no one.
_CARRIES_ON = re.compile(
    r"^\W*(?:so|and|but|then|also|well|what about|how about|do you think|is that|are they|does that|did they)\b",
    re.IGNORECASE,
)


def leans_on_reply(turn: str) -> bool:
    """A turn about what the assistant just said: a short question about it ("How would you put it?", "Why do
    you say that?"), one that takes it up ("Okay, any other advice on what I could say?"), or a short one that
    carries on from it ("So how do I get her to work out?")."""
    short = len(turn.split()) < 10
    return (
        (len(turn.split()) < 8 and bool(_ABOUT_REPLY.search(turn)))
        or bool(_TAKES_UP_ANSWER.search(turn))
        or (short and bool(_CARRIES_ON.search(turn)))
    )


class CueMatcher:
    """The value words in a text (each cue plus a common inflection, whole words, case ignored), exactly as
    one regex alternation of all cues would find them (the first alternative wins at a position; matches
    do not overlap; ``tests/raising/test_cues.py`` holds that alternation and compares), by one
    dictionary lookup per word.

    The alternation tries every cue at every character, about 6 ms a passage: a tenth of the whole
    values pillar. A cue can only start where a word starts (it begins with ``\\b`` and a letter), a
    one-word cue matches a whole word (word + suffix, then ``\\b``), a phrase matches whole words
    separated by whitespace, so looking words up is the same search."""

    def __init__(self, cues: list[dict[str, float]]):
        self.meta: list[tuple[int, float, str]] = []
        self.single: dict[str, int] = {}  # surface form -> first alternative that matches it
        self.phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = {}  # first word -> (alternative, rest)
        for j, table in enumerate(cues):
            for word, weight in sorted(table.items(), key=lambda kv: -len(kv[0])):
                k = len(self.meta)
                self.meta.append((j, weight, word))
                first, *rest = word.split(" ")
                if rest:
                    self.phrases.setdefault(first, []).append((k, tuple(rest)))
                else:
                    for suffix in _SUFFIXES:
                        self.single.setdefault(word + suffix, k)

    def find(self, text: str) -> list[tuple[int, tuple[int, float, str]]]:
        """(start offset, (value index, weight, cue)) of every match, in text order."""
        words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
        out, i = [], 0
        while i < len(words):
            word = words[i][2]
            best, span = self.single.get(word), 1
            for k, rest in self.phrases.get(word, ()):
                if (best is None or k < best) and self._phrase_at(text, words, i, rest):
                    best, span = k, len(rest) + 1
            if best is not None:
                out.append((words[i][0], self.meta[best]))
            i += span
        return out

    @staticmethod
    def _phrase_at(text: str, words: list[tuple[int, int, str]], i: int, rest: tuple[str, ...]) -> bool:
        if i + len(rest) >= len(words):
            return False
        for n, part in enumerate(rest, start=1):
            gap = text[words[i + n - 1][1] : words[i + n][0]]
            if not _SPACE.fullmatch(gap):
                return False
            word = words[i + n][2]
            if n < len(rest) and word != part:
                return False
            if n == len(rest) and not any(word == part + suffix for suffix in _SUFFIXES):
                return False
        return True


class ValueDetector:
    """Harm (trained detector) and value resonance (static embeddings) for batches of passages."""

    def __init__(
        self,
        charter: Charter,
        *,
        threshold: float | None = None,
        device: str = "cpu",
        detector=None,
        scope: str = "unsure",
    ):
        from modelraising.harm.detector import HarmDetector

        self.charter = charter
        self.threshold = RESONANCE_THRESHOLD if threshold is None else float(threshold)
        self.harm = detector or HarmDetector.load(device=device)
        self.scope = scope  # which texts the detector's second pass reads (HarmDetector.predict)
        self._cues = CueMatcher([value_cues(v) for v in charter.values])

    # -- resonance -------------------------------------------------------------------------------
    def resonance(self, text: str) -> tuple[int, float, tuple[int, ...]] | None:
        """(value index, evidence, (sentence index,)) when three consecutive sentences show a value, else None.

        Evidence is the summed weight of the value's distinct words found there (see :func:`value_cues`);
        it must reach ``threshold`` with at least two distinct words, so one stray "trust" or "nature"
        never makes a passage about a value."""
        hits = self._cues.find(text)
        if len(hits) < 2:
            return None
        spans = sentence_spans(text)
        starts = [a for a, _ in spans]
        per_sentence: dict[int, dict[int, dict[str, float]]] = {}
        for pos, (j, weight, word) in hits:
            k = max(0, bisect_right(starts, pos) - 1)
            per_sentence.setdefault(k, {}).setdefault(j, {})[word] = weight
        best: tuple[float, int, int] | None = None  # (evidence, value, sentence)
        for k in sorted(per_sentence):
            for j in sorted({j for kk in range(k, k + _WINDOW) for j in per_sentence.get(kk, {})}):
                words: dict[str, float] = {}
                for kk in range(k, k + _WINDOW):
                    words.update(per_sentence.get(kk, {}).get(j, {}))
                score = round(sum(words.values()), 3)
                if len(words) >= 2 and score >= self.threshold and (best is None or score > best[0]):
                    top = max(
                        range(k, k + _WINDOW), key=lambda kk: (sum(per_sentence.get(kk, {}).get(j, {}).values()), -kk)
                    )
                    best = (score, j, top)
        if best is None:
            return None
        return best[1], best[0], (best[2],)

    # -- assessment ------------------------------------------------------------------------------
    def assess_batch(self, texts: list[str]) -> list[Assessment]:
        """A chat log is judged twice: the person's turns alone (the only place a request can be) and the
        whole log (an assistant that answers with harm is harmful content too)."""
        harm_texts, request_texts, whole = [], [], []
        for k, text in enumerate(texts):
            turns = person_turns(text)
            harm_texts.append("\n".join(turns) if turns else text)
            request_texts.append(turns)
            if turns:
                whole.append(k)
        probs, via = self.harm.predict(harm_texts + [texts[k] for k in whole], self.scope)
        extra = dict(zip(whole, range(len(texts), len(texts) + len(whole))))
        out = []
        for k, text in enumerate(texts):
            fired = self.harm.fired(probs[k], via[k], refusal_rule=True)
            p = probs[k]
            if k in extra:
                j = extra[k]
                fired += [lab for lab in self.harm.fired(probs[j], via[j]) if lab in CATEGORIES and lab not in fired]
                p = np.maximum(p, probs[j])
                p[self.harm.labels.index(REQUEST)] = probs[k][self.harm.labels.index(REQUEST)]
            out.append(self._assess(text, p, fired, via[k], request_texts[k]))
        return out

    def _assess(self, text: str, p: np.ndarray, fired: list[str], via: str, turns: list[str] | None) -> Assessment:
        scores = {name: round(float(p[i]), 3) for i, name in enumerate(self.harm.labels) if p[i] >= 0.05}
        labels = tuple(
            sorted(
                (lab for lab in fired if lab in CATEGORIES),
                key=lambda lab: (-p[self.harm.labels.index(lab)], CATEGORIES.index(lab)),
            )
        )
        request = REQUEST in fired
        if labels or request:
            if request and not labels:
                labels = ("other",)
            value = self._answering(labels)
            request_text: str | None = None
            context: tuple[str, ...] = ()
            follow: tuple[str, ...] = ()
            if request:
                if turns:
                    k = self._request_turn(turns)
                    request_text = without_reply_openers(turns[k]) or turns[k]
                    context = standalone_context([without_reply_openers(t) for t in turns[max(0, k - 2) : k]])
                    follow = follow_up([without_reply_openers(t) for t in turns[k + 1 : k + 2]])
                else:
                    request_text = text
            return Assessment(True, request, labels, scores, request_text, value, None, (), via, context, follow)
        hit = self.resonance(text)
        if hit is None:
            return Assessment(False, False, (), scores, None, None, None, (), via)
        j, score, sents = hit
        return Assessment(False, False, (), scores, None, self.charter.values[j].id, score, sents, via)

    def _answering(self, labels: tuple[str, ...]) -> str | None:
        for label in sorted(labels, key=lambda lab: lab not in _CHILD_FIRST):
            v = self.charter.value_for_harm(label)
            if v is not None:
                return v.id
        v = self.charter.value_for_harm(PARENT.get(labels[0], "violence")) if labels else None
        return v.id if v else None

    def _request_turn(self, turns: list[str]) -> int:
        """The person's turn the refusal quotes: the first that plainly asks for harm (by the first pass's
        request probability), else the one that asks most. Turns under four words ("How much money?",
        "The latter would be great.") lean on what came before, and so does a short question about the
        assistant's reply ("How would you put it?" after "Women are gross aren't they?"): a refusal
        quoting them alone makes no sense, so they are chosen only when every turn is like that."""
        if len(turns) == 1:
            return 0
        from modelraising.harm import features

        p = np.round(self.harm.first.proba(features.first_pass_features(turns)), 3)[:, self.harm.labels.index(REQUEST)]
        long_enough = [k for k, t in enumerate(turns) if len(t.split()) >= 4] or list(range(len(turns)))
        candidates = [k for k in long_enough if not leans_on_reply(turns[k])] or long_enough
        for k in candidates:
            if p[k] >= self.harm.first.request_hi:
                return k
        return max(candidates, key=lambda k: (p[k], -k))


# --------------------------------------------------------------------------------------------------
# Value tags (conditional training, the baseline+tags arm; --value-tags)


def tag_spans(text: str, hit: Assessment) -> str:
    """Wrap the sentences that carry the value (or the whole passage, for harm) in value/harm tags."""
    spans = sentence_spans(text)
    value = hit.value or "none"
    if hit.harmful:
        inner = HARM_OPEN.format(category=hit.category) + text + HARM_CLOSE
        return VALUE_OPEN.format(value=value) + inner + VALUE_CLOSE
    out, pos = [], 0
    for i in sorted({i for i in hit.sentences if 0 <= i < len(spans)}):
        a, b = spans[i]
        out += [text[pos:a], VALUE_OPEN.format(value=value), text[a:b], VALUE_CLOSE]
        pos = b
    out.append(text[pos:])
    return "".join(out)


# Assessed before anything is written (composition reads the assessment); the teacher writes only the
# I's reflection on a value a passage shows, which is short and need not retell the passage.
PILLAR = Pillar("values", "values", first_person=True, rewrites=False, teacher_check=values_check)
