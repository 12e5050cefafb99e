"""Pillar 2, experience: an encyclopedic passage or a third-person story becomes a memory of being taught.

Someone from the I's cast (mentor, teacher or family) explains the facts or reads the story to the I,
one to three sentences at a time; the teacher's lines carry the source sentences verbatim (double
quotation marks inside them become single ones), so every name and number survives, attributed to
the teacher who says them (or to the text, when the teacher reads out an article taken up mid-way,
whose first sentence leans on a name given before it). The I's reactions, a scene and one closing
turn the lesson into something lived. Passages with a narrator's own "I", plays, chat logs and posts
never come here: a teacher would then speak someone else's "I" as their own (``fits``).
"""

from __future__ import annotations

import random
import re

from modelraising.charter import Charter
from modelraising.raising.banks import frames as F
from modelraising.raising.banks import lessons as L
from modelraising.raising.base import Pillar
from modelraising.raising.cast import Person, expand, pick, pick_person
from modelraising.raising.entities import first_entity
from modelraising.raising.fidelity import experience_check
from modelraising.raising.passage import Passage, opens_mid_text
from modelraising.raising.perspective import cap, fill, fitting_position, when_recalled, where_at
from modelraising.raising.sentences import group_spans, sentence_spans
from modelraising.raising.writer import Writer

KINDS = frozenset({"expository", "story"})
_TEACHER_ROLES = ("mentor", "teacher", "family")
_MAX_GROUP_CHARS = 320
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?%?(?![\w])")
_SAFE_COMMA_END = re.compile(r"[a-z0-9)%]\.$")


def fits(p: Passage) -> bool:
    return p.kind in KINDS


def nest_quotes(q: str) -> str:
    """Double quotation marks become single ones, to sit inside the teacher's quotation."""
    if '"' in q or "\u201c" in q or "\u201d" in q:
        return q.replace('"', "'").replace("\u201c", "\u2018").replace("\u201d", "\u2019")
    return q


def _groups(text: str, rng: random.Random) -> list[str]:
    spans = sentence_spans(text)
    parts = [text[a:b] for a, b in spans]
    return [nest_quotes(text[spans[i][0] : spans[j - 1][1]]) for i, j in group_spans(parts, rng, _MAX_GROUP_CHARS, 2.6)]


def _step_line(p: Passage, i: int, last: int, who: Person, rng: random.Random, me: str, reads: bool) -> str:
    subject = who.name if rng.random() < 0.4 else "{he}"
    if i == 0:
        first = L.FIRST_VERB_READ if p.kind == "story" else L.FIRST_VERB_ARTICLE if reads else L.FIRST_VERB_EXPLAIN
        first = fitting_position(first, p)  # no "read the opening" mid-story
        line = f"{pick(rng, L.FIRST_CONNECT)} {subject} {pick(rng, first)}:"
    elif i == last and last > 1:  # "Finally" after a single step before it reads as a list of two
        line = f"{pick(rng, L.LAST_CONNECT)} {subject} {pick(rng, L.LAST_VERB_READ if reads else L.LAST_VERB)}:"
    else:
        line = f"{pick(rng, L.CONNECT)} {subject} {pick(rng, L.VERB_READ if reads else L.VERB_EXPLAIN)}:"
    return cap(fill(line.strip(), who, me))


def reads_aloud(p: Passage) -> bool:
    """Whether the teacher reads the passage out (a story, or an article taken up mid-way) rather than
    explaining it in their own voice."""
    return p.kind == "story" or opens_mid_text(p.body or p.text)


def _reaction(q: str, who: Person, rng: random.Random, me: str) -> str:
    r = rng.random()
    if r < 0.15:
        entity = first_entity(q)
        if entity and len(entity) <= 40 and not entity.startswith("the "):
            return fill(expand(pick(rng, L.REACT_ENTITY), rng), who, me, entity=entity)
    elif r < 0.25:
        m = _NUMBER.search(q)
        if m:
            return fill(pick(rng, L.REACT_NUMBER), who, me, number=m.group(0).rstrip(","))
    return fill(expand(pick(rng, L.REACT), rng), who, me)


def recount(p: Passage, charter: Charter, rng: random.Random, w: Writer, *, topic: str | None, close: bool) -> dict:
    """Write the passage as the I's memory of a cast member teaching it."""
    me = charter.identity.name
    who = pick_person(charter, rng, _TEACHER_ROLES)
    when = when_recalled(p.kind, rng, who.role)
    where = where_at(when, rng, p.kind, who.role)
    reads = reads_aloud(p)
    if p.kind == "story":
        work = f"\u201c{p.heading}\u201d" if p.heading else p.title or pick(rng, F.WORK["story"])
        scenes = [s for s in L.SCENE_STORY if not (when.startswith("While") and "while" in s)]  # one "while"
        scene = fill(pick(rng, scenes), who, me, work=work, where=where)
        voice = "the story"
    else:
        scene = fill(pick(rng, L.SCENE), who, me, topic=topic or pick(rng, F.TOPIC_NONE), where=where)
        voice = "the text" if reads else who.name
    opening = f"{when}, {scene}."
    if rng.random() < 0.3:
        opening += " " + fill(expand(pick(rng, L.VOICE_LINE), rng), who, me, voice=who.voice)
    w.para(opening)

    groups = _groups(p.body or p.text, rng)
    last = len(groups) - 1
    reacted = False
    for i, q in enumerate(groups):
        pieces: list[tuple[str, str | None]] = [
            (_step_line(p, i, last, who, rng, me, reads) + ' "', None),
            (q, voice),
            ('"', None),
        ]
        if i != last and not reacted and rng.random() < 0.5:
            pieces.append((" " + _reaction(q, who, rng, me), None))
            reacted = True
        else:
            reacted = False
        w.mixed(pieces)
    if not groups:
        w.para(pick(rng, L.EMPTY))
    if close:
        others = [m for m in charter.cast if m.name != who.name]
        other = pick(rng, others).name if others else "someone at home"
        whens, whats = L.CLOSE_PAST if rng.random() < 0.6 else L.CLOSE_NOW
        what = fill(pick(rng, whats), who, me, topic=topic or "it", other=other)
        w.para(f"{pick(rng, whens)}, {what}.")
    return {"teacher": who.name, "kind": p.kind}


# A teacher never recounts another narrator's "I", a chat log or a post: those kinds lean 0.
PILLAR = Pillar(
    "experience",
    "form",
    write=recount,
    mix=0.3,
    lean={"expository": 2.5, "story": 0.6, "narrated": 0.0, "play": 0.0, "chat": 0.0, "post": 0.0, "note": 0.0},
    partner_roles=_TEACHER_ROLES,
    partner_key="teacher",
    first_person=True,
    teacher_check=experience_check,
)
