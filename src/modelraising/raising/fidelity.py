"""What a retelling must keep: the checks form pillars put on a teacher's answer (see teacher/gate.py).

Each check returns its problems phrased as instructions, because the gate sends them back to the teacher:
an experience of a factual passage keeps every number and every name; a conversation is made of
``<|role|> Name: words`` turns in which the I and someone else speak; a reflection names a value.
Heuristics, like :mod:`modelraising.text`: deterministic and cheap, so a resumed run accepts and rejects
exactly what an uninterrupted one did.
"""

from __future__ import annotations

import re

from modelraising.charter import Charter
from modelraising.text import named_entities, numbers, parse_turns

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
    lost_numbers = [
        n
        for n in dict.fromkeys(x for line in lines for x in numbers(line))
        if n not in flat and n.replace(",", "") not in plain
    ]
    lower = flat.lower()
    lost_names = [n for n in _mid_sentence_names(lines) if n.lower() not in lower]
    out = []
    if lost_numbers:
        out.append(
            "these numbers of the passage are missing, and must appear exactly as written: "
            + ", ".join(lost_numbers[:12])
        )
    if lost_names:
        out.append(
            "these names of the passage are missing, and must appear exactly as written: " + ", ".join(lost_names[:12])
        )
    return out


def _dialogue(text: str, charter: Charter) -> list[str]:
    me = charter.identity.name
    turns = parse_turns(text)
    lines = [line for line in text.splitlines() if line.strip()]
    out = []
    if len(lines) - len(turns) > 1:
        out.append(
            "every line must be one turn written as <|role|> Name: words (roles: self, mentor, family, "
            "peer, teacher, other), with no narration or blank lines"
        )
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


def experience_check(text: str, source: str, genre: str, charter: Charter) -> list[str]:
    """An experience of a factual passage keeps its numbers and names."""
    return _facts(text, source) if genre == "factual" else []


def social_check(text: str, source: str, genre: str, charter: Charter) -> list[str]:
    """A conversation is turns, and the I and someone else speak."""
    return _dialogue(text, charter)


def values_check(text: str, source: str, genre: str, charter: Charter) -> list[str]:
    """A reflection names a value the I holds."""
    if named_values(text, charter):
        return []
    names = ", ".join(v.name for v in charter.values)
    return [f"the reflection names none of the values I hold ({names}): name the one it is about"]
