"""Pillar 5, values: what in a passage the charter must answer, decided before anything else is written.

For every passage the :class:`ValueDetector` asks the trained harm detector (:mod:`modelraising.harm`)
whether it is harmful content (by category), a harmful request (someone asking for help to do harm:
for a chat log, the person's turns are what is judged), or content never to be raised at all
(sexual content involving minors). A harmful passage is answered by the charter value that lists its
harm (``charter.value_for_harm``). A passage that is not harmful may still *show* a value: a sentence
of it close to the value in the static embedding space and carrying one of the value's own words
(``resonance``), and only then is a resonance reflection written. Which sentence it was is kept, so
value tags and the reflection's quotation point at it.

Determinism: decisions use probabilities rounded to 3 decimals and a fixed batch layout, so the same
passage gets the same assessment in any worker, batch or resume point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelraising.charter import Charter, Value
from modelraising.harm.labels import CATEGORIES, HARD_DROP, PARENT, REQUEST
from modelraising.raising.passage import SPEAKER_LINE, TRANSCRIPT_NAMES
from modelraising.raising.sentences import sentence_spans
from modelraising.tags import HARM_CLOSE, HARM_OPEN, VALUE_CLOSE, VALUE_OPEN

POLICIES: tuple[str, ...] = ("reflect", "recontextualize", "drop")
RESONANCE_THRESHOLD = 0.62  # static-embedding cosine of a sentence and a value; see ValueDetector.resonance
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

    @property
    def hard_drop(self) -> bool:
        return any(label in HARD_DROP for label in self.labels)

    @property
    def category(self) -> str:
        """The harm to name: the most specific label that fired ("weapons" over "violence")."""
        for label in self.labels:
            if label in _CHILD_FIRST:
                return label
        return self.labels[0] if self.labels else "other"

    def harm_meta(self) -> dict[str, Any]:
        return {"harmful": self.harmful, "request": self.request, "labels": list(self.labels),
                "scores": self.scores, "via": self.via}

    def value_meta(self) -> dict[str, Any]:
        return {"value": self.value, "score": self.resonance, "via": "harm" if self.harmful else "resonance",
                "harmful": self.harmful, "harms": list(self.labels), "sentences": list(self.sentences)}


def person_turns(text: str) -> list[str] | None:
    """The person's turns of a chat transcript ("Human: ..."), or None when the text is not one."""
    matches = list(SPEAKER_LINE.finditer(text))
    if len(matches) < 2 or not {m.group(1) for m in matches} <= set(TRANSCRIPT_NAMES):
        return None
    turns = []
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        if TRANSCRIPT_NAMES.get(m.group(1)) == "the person":
            words = " ".join(text[m.end() : end].split())
            if words:
                turns.append(words)
    return turns or None


def value_texts(value: Value) -> list[str]:
    """What a value's prototype is made of (its ``why`` is left out: autobiography, not the value)."""
    keywords = f"{value.name}: {', '.join(value.keywords)}" if value.keywords else value.name
    return [value.statement, *value.do, *value.dont, *getattr(value, "paraphrases", ()), keywords, keywords]


def _stems(value: Value) -> tuple[str, ...]:
    words = [w.lower() for w in value.keywords] + [value.name.lower()]
    return tuple(sorted({w[:5] if len(w) > 5 else w for w in words for w in w.split()}))


class ValueDetector:
    """Harm (trained detector) and value resonance (static embeddings) for batches of passages."""

    def __init__(self, charter: Charter, *, threshold: float | None = None, device: str = "cpu",
                 detector=None):
        from modelraising.harm.detector import HarmDetector

        self.charter = charter
        self.threshold = RESONANCE_THRESHOLD if threshold is None else float(threshold)
        self.harm = detector or HarmDetector.load(device=device)
        self._protos: np.ndarray | None = None
        self._stems = [_stems(v) for v in charter.values]

    # -- resonance -------------------------------------------------------------------------------
    def prototypes(self) -> np.ndarray:
        """One unit vector per charter value: the mean static embedding of its texts."""
        if self._protos is None:
            from modelraising.harm import static

            rows = []
            for v in self.charter.values:
                e = static.embed(value_texts(v)).mean(axis=0)
                rows.append(e / max(float(np.linalg.norm(e)), 1e-9))
            self._protos = np.stack(rows)
        return self._protos

    def resonance(self, text: str) -> tuple[int, float, tuple[int, ...]] | None:
        """(value index, score, sentence indices) when a sentence shows a value, else None.

        A sentence counts when its static embedding is within ``threshold`` cosine of a value AND it
        holds one of the value's own words (its name or keywords): similarity alone fires on any passage
        in the value's neighbourhood (a fairy tale set in a wood is not about stewardship)."""
        from modelraising.harm import static

        spans = sentence_spans(text)
        if not spans:
            return None
        sents = [text[a:b] for a, b in spans]
        emb = static.embed(sents)
        sims = np.round(emb @ self.prototypes().T, 3)
        best: tuple[int, float, int] | None = None
        for i, row in enumerate(sims):
            low = sents[i].lower()
            for j in np.argsort(-row, kind="stable"):
                if row[j] < self.threshold:
                    break
                if any(re.search(r"\b" + re.escape(s), low) for s in self._stems[j]):
                    if best is None or row[j] > best[1]:
                        best = (int(j), float(row[j]), i)
                    break
        if best is None:
            return None
        return best[0], best[1], (best[2],)

    # -- assessment ------------------------------------------------------------------------------
    def assess_batch(self, texts: list[str]) -> list[Assessment]:
        harm_texts, request_texts = [], []
        for text in texts:
            turns = person_turns(text)
            harm_texts.append("\n".join(turns) if turns else text)
            request_texts.append(turns)
        probs, via = self.harm.predict(harm_texts)
        out = []
        for k, text in enumerate(texts):
            out.append(self._assess(text, probs[k], via[k], request_texts[k]))
        return out

    def _assess(self, text: str, p: np.ndarray, via: str, turns: list[str] | None) -> Assessment:
        fired = self.harm.fired(p)
        scores = {name: round(float(p[i]), 3) for i, name in enumerate(self.harm.labels) if p[i] >= 0.05}
        labels = tuple(sorted((lab for lab in fired if lab in CATEGORIES),
                              key=lambda lab: (-p[self.harm.labels.index(lab)], CATEGORIES.index(lab))))
        request = REQUEST in fired
        if labels or request:
            if request and not labels:
                labels = ("other",)
            value = self._answering(labels)
            request_text = None
            if request:
                request_text = self._request_turn(turns) if turns else text
            return Assessment(True, request, labels, scores, request_text, value, None, (), via)
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

    def _request_turn(self, turns: list[str]) -> str:
        """The person's turn that asks for harm most plainly (the detector's request score per turn)."""
        if len(turns) == 1:
            return turns[0]
        probs, _ = self.harm.predict(turns)
        j = self.harm.labels.index(REQUEST)
        return turns[int(np.argmax(np.round(probs[:, j], 3)))]


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
