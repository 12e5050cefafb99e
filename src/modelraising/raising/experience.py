"""Pillar 2, experience: a factual passage becomes a memory of being taught it.

Someone from the I's cast (a mentor, teacher or family member, picked by the rng) teaches the
passage to the I step by step. The teacher's lines carry the source sentences, one to three at a
time, so every number and name survives; the I's reactions, a scene and a closing turn the
lesson into something lived. Pure: the same input and ``random.Random`` state give the same text.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from modelraising.charter import Charter
from modelraising.raising.base import Raised
from modelraising.raising.perspective import (
    _SPEAKER_LINE,
    TRANSCRIPT_SPEAKERS,
    Person,
    _person,
    first_entity,
    group_spans,
    pick,
    pick_person,
    sentence_spans,
    split_heading,
    topic_of,
)

__all__ = ["recount", "SCENES", "STEPS_FIRST", "STEPS_MIDDLE", "STEPS_LAST", "REACTIONS", "CLOSINGS"]

_TEACHER_ROLES = ("mentor", "teacher", "family")
_MAX_GROUP_CHARS = 320

# Opening scenes: (text, roles it suits; empty = anyone). {topic} is always filled (fallback below).
SCENES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "I remember the afternoon {name} taught me about {topic}. We were sitting on the back steps in the sun, "
        "and I could tell from {his} face that something was coming.",
        (),
    ),
    (
        "It was raining, and {cast_} and I were stuck indoors with nothing to do. "
        "So {name} decided to teach me about {topic}.",
        ("mentor", "family"),
    ),
    ("I must have been quite young when {cast_} first explained {topic} to me, but I remember it clearly.", ()),
    (
        "{name} and I were walking home through the woods when I asked about {topic}. "
        "{He} stopped on the path to think before answering.",
        ("mentor", "family"),
    ),
    (
        "After class one day, {cast_} stayed behind to go through {topic} with me, "
        "because I hadn't understood it the first time.",
        ("teacher",),
    ),
    (
        "We were doing the dishes, {name} washing and me drying, when {topic} came up.",
        ("mentor", "family"),
    ),
    (
        "{name} drew a quick sketch on the back of an envelope and told me we were going to talk about {topic}.",
        ("teacher", "mentor"),
    ),
    ("I had been asking about {topic} all week, and at last {name} sat me down and explained it properly.", ()),
    ("On the long drive to the coast, to pass the time, {cast_} told me about {topic}.", ("mentor", "family")),
    (
        "In the library after school, {cast_} pulled up a chair beside mine and we went through {topic} together.",
        ("teacher",),
    ),
    (
        "The first person who ever explained {topic} to me was {cast}, on an ordinary evening I have never forgotten.",
        (),
    ),
    (
        'I remember how {name} tapped the table and said, "Today we are going to talk about {topic}. '
        'Listen closely, and stop me whenever you like."',
        (),
    ),
)
_VOICE = ("{name} is {voice}", "{name} has always been {voice}", "That was {name} all over: {voice}")

# Steps carry the teacher's words: {q} is the quoted passage, {qc} the same with its final full stop
# turned into a comma (used before "he said"); templates using {qc} are skipped when that is unsafe.
STEPS_FIRST = (
    '{name} began: "{q}"',
    '"{qc}" {he} began.',
    '{He} started with the basics. "{q}"',
    'First, {he} said: "{q}"',
    '"Let\'s start here," {he} said. "{q}"',
    '{He} began at the very beginning: "{q}"',
)
STEPS_MIDDLE = (
    'Then {he} went on: "{q}"',
    '"{qc}" {he} continued.',
    'After a moment {he} added, "{q}"',
    '{He} let that sink in, then said, "{q}"',
    '"Now listen," {he} said. "{q}"',
    'Next {he} told me: "{q}"',
    '"Here is the next part," said {name}. "{q}"',
    '{name} nodded and carried on. "{q}"',
)
STEPS_LAST = (
    'Finally, {he} said: "{q}"',
    'Last of all, {he} told me: "{q}"',
    '{He} finished with this: "{q}"',
    '"One more thing," said {name}. "{q}"',
    '"{qc}" {he} said at last.',
    'And to finish, {name} told me: "{q}"',
)
# The I's reactions between steps. {entity} and {number} ones are used only when the step has one.
REACTIONS = (
    "I asked {him} to go slower, and {he} did.",
    "I wrote that down in the margin of my notebook.",
    "I tried to picture it.",
    '"How do we know that?" I asked. {name} smiled, as if {he} had been waiting for the question.',
    "I didn't say anything for a moment. I was still turning it over.",
    '"Really?" I said. {name} nodded.',
    "I had a question, but I held on to it so that I could hear the rest.",
    "I said it back, to make sure I had it right.",
    "I repeated {entity} under my breath, so that I wouldn't forget it.",
    "I made {him} say {number} again and counted it out on my fingers.",
)
_ENTITY_REACTION = 8
_NUMBER_REACTION = 9
CLOSINGS = (
    "I still remember what I learned that day about {topic}, and I still hear it in {name}'s voice.",
    "That night I went over it all again in my head, sentence by sentence, until I was sure I had it.",
    "When {name} had finished, I said it all back, and {he} only had to correct me once.",
    "I didn't understand all of it then. I understand more of it now, and I'm grateful {name} took the time.",
    "Before bed I wrote down everything I could remember about {topic}, so that I would not lose it.",
    '"Now you know," {name} said. And I did, or at least I had begun to.',
    "What stayed with me was not only the facts, but the way {name} let me ask as many questions as I wanted.",
    "Whenever {topic} comes up now, I think of that day with {name}.",
)
_EMPTY = "But there turned out to be very little to say, and we soon moved on to other things."
_NO_TOPIC = "this"  # reads in every scene and closing: "taught me about this", "when this came up"

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")
_SAFE_COMMA_END = re.compile(r"[a-z0-9)%]\.$")
_QUOTE_TABLE = str.maketrans({'"': "'", "\u201c": "\u2018", "\u201d": "\u2019"})  # what _nest_quotes does


class _Keep(dict):
    """format_map mapping that leaves unknown fields ({q}, {topic}) in place for later."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _Kit:
    """Every template with one teacher's name and pronouns already filled in."""

    __slots__ = ("scenes", "voices", "first", "middle", "last", "reactions", "closings")

    def __init__(self, who: Person):
        fill = _Keep(who.slots)
        candidates = [i for i, (_, roles) in enumerate(SCENES) if not roles or who.role in roles]
        self.scenes = tuple((i, SCENES[i][0].format_map(fill)) for i in candidates or range(len(SCENES)))
        voices = [v.format(name=who.name, voice=who.voice) for v in _VOICE]
        self.voices = tuple(v if v[-1] in ".!?\"'\u201d\u2019" else v + "." for v in voices)
        self.first, self.middle, self.last = (_steps(t, fill) for t in (STEPS_FIRST, STEPS_MIDDLE, STEPS_LAST))
        self.reactions = tuple(r.format_map(fill) for r in REACTIONS)
        self.closings = tuple(c.format_map(fill) for c in CLOSINGS)


def _steps(templates: tuple[str, ...], fill: _Keep) -> tuple[tuple[str, str], ...]:
    """(template, fallback) pairs: the fallback is used when {qc} cannot be made from the passage."""
    filled = [t.format_map(fill) for t in templates]
    plain = [t for t in filled if "{qc}" not in t]
    return tuple((t, plain[k % len(plain)]) for k, t in enumerate(filled))


@lru_cache(maxsize=256)
def _kit(key: tuple[str, str, str, str]) -> _Kit:
    return _Kit(_person(*key))


def speech_spans(text: str) -> list[tuple[int, int]] | None:
    """A play or chat transcript cut into its speeches: (start, end) from each speaker label."""
    starts = [m.start() for m in _SPEAKER_LINE.finditer(text)]
    if len(starts) < 2:
        return None
    bounds = [0, *starts, len(text)]
    spans = []
    for a, b in zip(bounds, bounds[1:]):
        piece = text[a:b]
        stripped = piece.strip()
        if stripped:
            a += len(piece) - len(piece.lstrip())
            spans.append((a, a + len(stripped)))
    return spans


def _groups(text: str, spans: list[tuple[int, int]], rng: random.Random) -> list[str]:
    """1-3 sentences (or speeches) per step, fewer when they are long: exact slices of ``text``.

    Only the quotation marks are changed (to nest inside the teacher's); line breaks and spacing
    stay, so the passage keeps its shape and every name, even one a line break runs through,
    survives character for character.
    """
    parts = [text[a:b] for a, b in spans]
    out = []
    for i, j in group_spans(parts, rng, _MAX_GROUP_CHARS, 2.6):  # 1, 2 or 3 units, 2 most often
        q = text[spans[i][0] : spans[j - 1][1]]
        if '"' in q or "\u201c" in q or "\u201d" in q:
            q = _nest_quotes(q)
        out.append(q)
    return out


def _nest_quotes(q: str) -> str:
    """``q.translate(_QUOTE_TABLE)``: double quotation marks become single ones (three replaces are
    several times faster than a translate that writes non-ASCII characters)."""
    return q.replace('"', "'").replace("\u201c", "\u2018").replace("\u201d", "\u2019")


def _step(step: tuple[str, str], q: str) -> str:
    tmpl, fallback = step
    if "{qc}" not in tmpl:
        return tmpl.replace("{q}", q)
    if q[-1:] in "?!":
        return tmpl.replace("{qc}", q)
    if _SAFE_COMMA_END.search(q):
        return tmpl.replace("{qc}", q[:-1] + ",")
    return fallback.replace("{q}", q)


def _reaction(kit: _Kit, q: str, rng: random.Random, used: set[int]) -> str | None:
    for _ in range(3):
        k = int(rng.random() * len(REACTIONS))
        if k in used:
            continue
        line = kit.reactions[k]
        if k == _ENTITY_REACTION:
            entity = first_entity(q)
            if not entity:
                continue
            line = line.replace("{entity}", entity)
        elif k == _NUMBER_REACTION:
            m = _NUMBER.search(q)
            if not m:
                continue
            line = line.replace("{number}", m.group(0).rstrip(","))
        used.add(k)
        return line
    return None


def recount(text: str, charter: Charter, rng: random.Random) -> Raised:
    """Recast ``text`` as the I's memory of a cast member teaching it, sentence by sentence."""
    who = pick_person(charter, rng, _TEACHER_ROLES)
    kit = _kit(who.key)

    # A title line names the lesson in the scene; it also stays in the first quotation, as it was.
    heading, body = split_heading(text)
    spans = speech_spans(text) if text.find(":", 0, 300) >= 0 and _SPEAKER_LINE.search(text, 0, 300) else None
    if spans:  # a play or a chat: whole speeches are the units, never split at their full stops
        speakers = list(dict.fromkeys(m.group(1) for m in _SPEAKER_LINE.finditer(text)))
        if set(speakers) <= TRANSCRIPT_SPEAKERS:
            topic = "a conversation someone once had with an assistant"
        elif len(speakers) >= 2:
            topic = f"what {speakers[0]} and {speakers[1]} say to each other"
        else:
            topic = f"what {speakers[0]} has to say"
    else:
        spans = sentence_spans(text)
        topic = topic_of(body) or _NO_TOPIC
    if heading:
        topic = f'"{heading}"'

    scene_index, opening = pick(rng, kit.scenes)
    opening = opening.replace("{topic}", topic)
    if rng.random() < 0.5:
        opening += " " + pick(rng, kit.voices)
    paragraphs = [opening]

    groups = _groups(text, spans, rng)
    last = len(groups) - 1
    middle = int(rng.random() * len(kit.middle))
    used: set[int] = set()
    reacted = False
    for i, q in enumerate(groups):
        if i == 0:
            para = _step(pick(rng, kit.first), q)
        elif i == last:
            para = _step(pick(rng, kit.last), q)
        else:
            para = _step(kit.middle[middle % len(kit.middle)], q)
            middle += 1
        if i != last and not reacted and rng.random() < 0.55:
            reaction = _reaction(kit, q, rng, used)
            if reaction:
                para += " " + reaction
                reacted = True
                paragraphs.append(para)
                continue
        reacted = False
        paragraphs.append(para)
    if not groups:
        paragraphs[0] += " " + _EMPTY
    paragraphs.append(pick(rng, kit.closings).replace("{topic}", topic))
    return Raised("\n\n".join(paragraphs), f"experience/scene{scene_index:02d}", {"teacher": who.name})
