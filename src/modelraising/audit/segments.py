"""Which parts of a raised record are the source's words and which were written by the raising engine.

The template engine records the source spans it placed in a record as ``metadata.quoted``: a list of
``[start, end, who]`` (character offsets into the text, and to whom the span is attributed: "the
narrator", "the person", "Menenius"; an empty ``who`` is unattributed). For records without it (an
older engine, the teacher engine, a foreign corpus) the spans are found by matching the source
passage's sentences in the text, when the source can be read; such spans carry ``who=None`` (unknown).

Everything the audit measures about *generated* language (repetition, frames, closings, questions)
is read from the text with the source spans cut out, so a source that repeats itself does not count
against the engine, and an engine that copies its source cannot hide behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelraising.text import split_sentences

PLACEHOLDER = "\u00abQ\u00bb"  # stands for a source span inside generated text ("«Q»")
# "Menenius: «Q»": a source's speaker label before its quoted line is attribution, not a generated sentence.
_SPEAKER_LABEL = re.compile(r"(?:[A-Z][\w'.-]*\s?){1,3}:")
_TURN = re.compile(r"^<\|(?P<role>[a-z]+)\|> (?P<name>[^:\n]{1,60}): ", re.M)
_MIN_MATCH = 16  # characters: shorter source sentences ("Yes.") are not searched for


@dataclass
class Span:
    start: int
    end: int
    who: str | None  # "" unattributed, None unknown (matched, not recorded)


@dataclass
class Segmented:
    """A record cut into source spans and generated text, with its speaker turns."""

    text: str
    spans: list[Span]
    generated: str  # the text with every source span replaced by PLACEHOLDER
    turns: list[tuple[str, int, int]] = field(default_factory=list)  # (role, start, end) of each turn line

    def generated_sentences(self) -> list[str]:
        """Sentences of the generated text, paragraph by paragraph, speaker tags removed."""
        out = []
        for para in re.split(r"\n\s*\n|\n(?=<\|)", self.generated):
            para = _TURN.sub("", para.strip())
            for s in split_sentences(para):
                s = " ".join(s.split())
                rest = s.replace(PLACEHOLDER, "").strip(" .,;!?\"'\u201c\u201d")
                if rest.strip(":") and not (PLACEHOLDER in s and _SPEAKER_LABEL.fullmatch(rest)):
                    out.append(s)
        return out

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]

    def role_at(self, pos: int) -> str | None:
        """Speaker role of the turn line holding ``pos`` (None outside turns)."""
        for role, a, b in self.turns:
            if a <= pos < b:
                return role
        return None

    @property
    def source_chars(self) -> int:
        return sum(s.end - s.start for s in self.spans)


def _turns(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in _TURN.finditer(text):
        end = text.find("\n", m.end())
        out.append((m.group("role"), m.start(), len(text) if end < 0 else end))
    return out


def _merge(spans: list[Span]) -> list[Span]:
    spans = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    for s in spans:
        if out and s.start <= out[-1].end:
            if s.end > out[-1].end:
                out[-1].end = s.end
            continue
        out.append(Span(s.start, s.end, s.who))
    return out


def _nested(s: str) -> str:
    return s.replace('"', "'").replace("\u201c", "\u2018").replace("\u201d", "\u2019")


def match_source(text: str, source: str) -> list[Span]:
    """Spans of ``text`` that repeat a sentence of ``source`` (as is, with quotation marks nested the way
    the engines nest them, or with its whitespace collapsed as dialogue turns do)."""
    spans: list[Span] = []
    for sentence in split_sentences(source):
        if len(sentence) < _MIN_MATCH:
            continue
        found = False
        for variant in dict.fromkeys(
            (sentence, _nested(sentence), " ".join(sentence.split()), _nested(" ".join(sentence.split())))
        ):
            pos = text.find(variant)
            while pos >= 0:
                spans.append(Span(pos, pos + len(variant), None))
                found = True
                pos = text.find(variant, pos + len(variant))
            if found:
                break
    return _merge(spans)


def segment(text: str, metadata: dict, source: str | None = None) -> Segmented:
    """Cut a record into source spans and generated text (see the module docstring)."""
    quoted = metadata.get("quoted")
    if quoted is not None:
        spans = _merge([Span(int(a), int(b), str(who) if who is not None else "") for a, b, who in quoted])
    elif source:
        spans = match_source(text, source)
    else:
        spans = []
    parts, pos = [], 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(PLACEHOLDER)
        pos = s.end
    parts.append(text[pos:])
    return Segmented(text, spans, "".join(parts), _turns(text))
