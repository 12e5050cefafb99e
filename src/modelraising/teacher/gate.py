"""The quality gate: every teacher answer is checked before it is accepted.

Checks, per task (each failure is phrased as an instruction, because it is sent back to the teacher):

* all: not empty; not cut off at ``max_tokens``; no assistant boilerplate ("As an AI language
  model", refusals, "Here is the rewritten text:") unless the source itself says it; at most
  ``max_ratio`` times ``max(len(source), 250)`` characters.
* rewrites (perspective, experience, social): at least ``min_ratio`` times the source's length.
* perspective, experience, values: written in the first person (two or more first-person words).
* experience of a factual source: every number and every name of the source kept.
* social: parses into ``<|role|> Name: words`` turns (one narration line at most), the I (``<|self|>``
  with the charter's name) speaks, and someone else does.
* values: the reflection names a charter value.

Heuristics, like :mod:`modelraising.text`: deterministic and cheap, so a resumed run accepts and
rejects exactly what an uninterrupted one did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelraising.charter import Charter
from modelraising.special_text import SPECIAL_TOKEN
from modelraising.tags import SPEAKER_TAGS
from modelraising.text import first_person_count, named_entities, numbers, parse_turns

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
    if ctx.task in ("perspective", "experience", "values") and first_person_count(text) < 2:
        name = ctx.charter.identity.name
        problems.append(f'it is not written in the first person: tell it as me, {name}, with "I", "me" and "my"')
    if ctx.task == "experience" and ctx.genre == "factual":
        problems += _facts(text, ctx.source)
    if ctx.task == "social":
        problems += _dialogue(text, ctx.charter)
    if ctx.task == "values" and not named_values(text, ctx.charter):
        names = ", ".join(v.name for v in ctx.charter.values)
        problems.append(f"the reflection names none of the values I hold ({names}): name the one it is about")
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
    if ctx.task != "values" and n < ctx.min_ratio * src:
        return [f"it is too short ({n} characters for a passage of {src}): keep all of the passage's content"]
    return []


_HEADING = re.compile(r"^[^\n]{1,80}$")
_ENDS = ".!?:;\"'\u201d\u2019)"


def _body_lines(source: str) -> list[str]:
    """The source's lines without headings (short lines that end without punctuation): a retelling
    need not repeat a title word for word."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    return [line for line in lines if not (_HEADING.match(line) and line[-1] not in _ENDS)] or lines


def _mid_sentence_names(lines: list[str]) -> list[str]:
    """Names that are names wherever they stand: multi-word, or capitalised mid-sentence.

    A capitalised word met only at the start of sentences ("Lobsters are ...") may fairly be
    lower-cased or rephrased in a retelling; a name met mid-sentence ("... near Ashford") may not.
    """
    out: dict[str, None] = {}
    for line in lines:
        for name in (part for entity in named_entities(line) for part in entity.split(" and ")):
            if " " in name:  # "Neil Armstrong and Buzz Aldrin": either order will do
                out[name] = None
                continue
            for m in re.finditer(rf"(?<![\w'\u2019-]){re.escape(name)}(?![\w'\u2019-])", line):
                before = line[: m.start()].rstrip(" \t\"'\u201c\u2018(")
                if before and before[-1] not in ".!?:;":
                    out[name] = None
                    break
    return list(out)


def _facts(text: str, source: str) -> list[str]:
    """Numbers and names of a factual source (outside its headings) that the retelling lost."""
    lines = _body_lines(source)
    flat = " ".join(text.split())
    plain = flat.replace(",", "")
    lost_numbers = [n for n in dict.fromkeys(x for line in lines for x in numbers(line))
                    if n not in flat and n.replace(",", "") not in plain]
    lower = flat.lower()
    lost_names = [n for n in _mid_sentence_names(lines) if n.lower() not in lower]
    out = []
    if lost_numbers:
        out.append("these numbers of the passage are missing, and must appear exactly as written: "
                   + ", ".join(lost_numbers[:12]))
    if lost_names:
        out.append("these names of the passage are missing, and must appear exactly as written: "
                   + ", ".join(lost_names[:12]))
    return out


def _dialogue(text: str, charter: Charter) -> list[str]:
    me = charter.identity.name
    turns = parse_turns(text)
    lines = [line for line in text.splitlines() if line.strip()]
    out = []
    if len(lines) - len(turns) > 1:
        out.append("every line must be one turn written as <|role|> Name: words (roles: self, mentor, family, "
                   "peer, teacher, other), with no narration or blank lines")
    mine = [t for t in turns if t.role == "self" and t.name.strip().lower() == me.lower()]
    others = [t for t in turns if t.role != "self"]
    if not mine:
        out.append(f"I never speak: my turns are written <|self|> {me}: words")
    if not others:
        out.append("nobody else speaks: the other person's turns are written <|role|> Name: words")
    return out


def named_values(text: str, charter: Charter) -> list[str]:
    """Ids of the charter values a text names (by name, id or a long word of a long name; whole words, any case)."""
    found = []
    for v in charter.values:
        names = {v.name, v.id.replace("_", " "), v.id.replace("_", "-")}
        # a long word of a long name: "stewardship" of "Responsibility and stewardship"
        names |= {w for w in re.findall(r"[\w-]+", v.name) if len(w) >= 6}
        if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.IGNORECASE) for n in names):
            found.append(v.id)
    return found
