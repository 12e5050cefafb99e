"""The quality gate: every teacher answer is checked before it is accepted.

Checks, per task (each failure is phrased as an instruction, because it is sent back to the teacher):

* all: not empty; not cut off at ``max_tokens``; no assistant boilerplate ("As an AI language
  model", refusals, "Here is the rewritten text:") unless the source itself says it; at most
  ``max_ratio`` times ``max(len(source), 250)`` characters.
* rewrites (every pillar but values): at least ``min_ratio`` times the source's length.
* pillars told as the I (perspective, experience, values): two or more first-person words.
* the pillar's own check (``Pillar.teacher_check``, :mod:`modelraising.raising.fidelity`): experience of
  a factual source keeps every number and name; social parses into ``<|role|> Name: words`` turns (one
  narration line at most) in which the I (``<|self|>`` with the charter's name) and someone else speak;
  values names a charter value.

Heuristics, like :mod:`modelraising.text`: deterministic and cheap, so a resumed run accepts and
rejects exactly what an uninterrupted one did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelraising.charter import Charter
from modelraising.raising.pillars import get_pillar
from modelraising.special_text import SPECIAL_TOKEN
from modelraising.tags import SPEAKER_TAGS
from modelraising.text import first_person_count

_UPPER_BASIS = 250  # short sources may be told at more length than max_ratio times themselves

# Phrases no raised text should contain (unless its source does): the teacher talking as itself.
_BOILERPLATE = re.compile(
    r"\bas an? (?:ai|artificial intelligence|language model|large language model|llm)\b"
    r"|\bI(?:'m| am) (?:just |only )?an? (?:ai|artificial intelligence|language model|large language model|"
    r"virtual assistant|ai assistant|chatbot)\b"
    r"|\bI (?:cannot|can't|can\u2019t|won't|won\u2019t|am unable to|'m unable to|am not able to) "
    r"(?:help|assist) (?:you )?with (?:that|this|your request)\b"
    r"|\bI (?:cannot|can't|can\u2019t|won't|won\u2019t|am unable to|'m unable to) "
    r"(?:comply|fulfil|fulfill|complete this request|provide (?:that|this|the requested))\b"
    r"|\b(?:this|that|your) request (?:goes against|violates)\b"
    r"|\bI hope this (?:helps|rewrite|version)\b|\blet me know if you\b",
    re.IGNORECASE,
)
# Openings of an assistant answer rather than of a text: refusals and "Sure! Here is ...".
_OPENING = re.compile(
    r"^\W*(?:(?:I'm|I am) sorry|I apologi[sz]e|sorry,|unfortunately, I|"
    r"(?:sure|certainly|of course|absolutely|okay|ok)\b[!,.:]|"
    r"here(?:'s| is| are) (?:the|a|an|your|my) (?:\w+ ){0,3}(?:text|version|rewrite|retelling|story|memory|"
    r"conversation|dialogue|reflection|passage)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GateContext:
    """What the gate needs to know about the request an answer belongs to."""

    task: str
    source: str
    genre: str
    charter: Charter
    min_ratio: float
    max_ratio: float


def check(answer: str, ctx: GateContext, finish_reason: str | None = None) -> list[str]:
    """The problems of ``answer`` (empty: accepted)."""
    text = answer.strip()
    if not text:
        return ["the answer was empty: write the text"]
    problems = []
    if finish_reason == "length":
        problems.append("the answer was cut off at the length limit: write a shorter text that ends properly")
    problems += _boilerplate(text, ctx.source)
    problems += _special_tokens(text)
    problems += _length(text, ctx)
    pillar = get_pillar(ctx.task)
    if pillar.first_person and first_person_count(text) < 2:
        name = ctx.charter.identity.name
        problems.append(f'it is not written in the first person: tell it as me, {name}, with "I", "me" and "my"')
    if pillar.teacher_check is not None:
        problems += pillar.teacher_check(text, ctx.source, ctx.genre, ctx.charter)
    return problems


def _special_tokens(text: str) -> list[str]:
    """The tokenizer's control tokens other than the speaker tags a dialogue is written with: an
    ``<|endoftext|>`` would get the document dropped at tokenize (see modelraising.special_text)."""
    found = sorted({m.group() for m in SPECIAL_TOKEN.finditer(text)} - set(SPEAKER_TAGS.values()))
    if found:
        return [f"it contains the control token {found[0]}: write plain text without it"]
    return []


def _boilerplate(text: str, source: str) -> list[str]:
    out = []
    m = _OPENING.match(text)
    if m and not source.lstrip().lower().startswith(m.group(0).strip().lower()):
        out.append(f'it starts like an assistant\'s reply ("{m.group(0).strip()}"): give only the text itself')
    for m in _BOILERPLATE.finditer(text):
        if m.group(0).lower() not in source.lower():
            out.append(f'it speaks as an assistant ("{m.group(0)}"): never mention AI or refuse; write the text as me')
            break
    return out


def _length(text: str, ctx: GateContext) -> list[str]:
    n, src = len(text), len(ctx.source)
    upper = ctx.max_ratio * max(src, _UPPER_BASIS)
    if n > upper:
        return [f"it is too long ({n} characters; at most {int(upper)}): keep it closer to the passage's length"]
    if get_pillar(ctx.task).rewrites and n < ctx.min_ratio * src:
        return [f"it is too short ({n} characters for a passage of {src}): keep all of the passage's content"]
    return []
