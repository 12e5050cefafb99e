"""Pillar 3, social: a passage becomes a conversation the I takes part in.

Three settings, picked by the rng: the I asking a mentor or teacher ("mentor"), the I and a
friend reading together ("peers"), a conversation at home ("family"). Questions come from the
passage's own sentences (a name, a year, a speaker, a subject) and the answers carry the
sentences themselves, so the passage is all there, turn by turn. A passage that is already a
dialogue (a play, a chat transcript) is read out by the I and the partner, its lines quoted in
the turns, with the I's questions in between. Every turn is written with ``text.format_turn``.
Pure: the same input and ``random.Random`` state give the same output.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from modelraising.charter import Charter
from modelraising.raising.base import GENRES, Raised
from modelraising.raising.perspective import (
    TRANSCRIPT_SPEAKERS,
    Person,
    _person,
    cast_for,
    first_entity,
    group_spans,
    pick,
    sentences,
    speaker_blocks,
    topic_of,
)
from modelraising.text import _ABBREVIATIONS, format_turn, one_line

__all__ = ["dialogue", "TEMPLATES", "SETTINGS"]

SETTINGS: dict[str, tuple[str, ...]] = {"mentor": ("mentor", "teacher"), "peers": ("peer",), "family": ("family",)}
_MAX_GROUP_CHARS = 300

SELF, PARTNER = "self", "partner"


@dataclass(frozen=True, slots=True)
class Template:
    """How a conversation opens and closes, and who explains.

    ``direction``: "self_asks" (the partner explains), "partner_asks" (the I explains) or
    "alternate" (they take turns). ``opener`` and ``closing`` are (speaker, line) pairs;
    ``prefix`` starts the first answer.
    """

    narration: str | None
    direction: str
    opener: tuple[tuple[str, str], ...]
    prefix: str
    closing: tuple[tuple[str, str], ...]


def _t(narration, direction, opener, prefix, closing) -> Template:
    return Template(narration, direction, tuple(opener), prefix, tuple(closing))


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "mentor": (
        _t(
            "I brought {thing} to {cast_} because I wanted to understand it properly.",
            "self_asks",
            [(SELF, "Will you go through this with me? It's about {topic}.")],
            "Of course. Let's take it one piece at a time. ",
            [(SELF, "I think I understand it now. Thank you for going slowly."),
             (PARTNER, "You did the work. I only read it with you.")],
        ),
        _t(
            None,
            "self_asks",
            [(SELF, "{name}, what is {thing} about?")],
            "Let's read it together and find out. ",
            [(SELF, "So that's what it was about. I want to read it again on my own."),
             (PARTNER, "Good. Tell me tomorrow what you noticed.")],
        ),
        _t(
            "{name} and I sat down with {thing} after supper.",
            "self_asks",
            [(SELF, "Where does it begin?")],
            "At the beginning, like everything else. ",
            [(SELF, "I like learning things this way, one question at a time."), (PARTNER, "So do I.")],
        ),
        _t(
            "I had been stuck on {thing} for an hour when {name} came to sit beside me.",
            "self_asks",
            [(PARTNER, "Stuck? Show me."), (SELF, "It's about {topic}. I don't know where to start.")],
            "Then we'll start at the top. ",
            [(SELF, "It isn't so hard when you go through it slowly."),
             (PARTNER, "Most things aren't. Remember that next time you're stuck.")],
        ),
        _t(
            "{name} was reading aloud to me, and I kept interrupting with questions.",
            "self_asks",
            [(SELF, "Can you read it to me from the start?")],
            "All right. Stop me whenever you like. ",
            [(SELF, "I stopped you a lot. Sorry."), (PARTNER, "Never be sorry for a question.")],
        ),
        _t(
            None,
            "self_asks",
            [(SELF, "I read about {topic} today, but I'm not sure I understood it.")],
            "Then let's go through it together. ",
            [(SELF, "It makes more sense now that we've said it out loud."), (PARTNER, "It usually does.")],
        ),
        _t(
            "It was {name}'s idea to go through {thing} as a conversation, so that is what we did.",
            "alternate",
            [(SELF, "Okay. What's the first thing I should know?")],
            "",
            [(SELF, "I'm going to remember that."), (PARTNER, "I know you will.")],
        ),
    ),
    "peers": (
        _t(
            "{name} found me reading on the steps and wanted to know what was so interesting.",
            "partner_asks",
            [(PARTNER, "What are you reading?")],
            "It's about {topic}. Listen. ",
            [(SELF, "I didn't expect to have so many questions about it."), (PARTNER, "You always say that.")],
        ),
        _t(
            "{name} had read {thing} before me and wouldn't stop talking about it.",
            "self_asks",
            [(SELF, "Fine, tell me. What's it about?")],
            "Okay, so. ",
            [(SELF, "All right. Now I see why you kept talking about it."), (PARTNER, "Told you.")],
        ),
        _t(
            "{name} and I took turns reading {thing} out loud and asking each other questions.",
            "alternate",
            [(SELF, "You start.")],
            "",
            [(SELF, "We should do this with everything we read."), (PARTNER, "Only if I get to pick next time.")],
        ),
        _t(
            "We were supposed to be studying, but {name} was more interested in a challenge.",
            "partner_asks",
            [(PARTNER, "Bet you can't explain this one to me.")],
            "Bet I can. ",
            [(SELF, "See? I told you I could."), (PARTNER, "Fine. You win this one.")],
        ),
        _t(
            None,
            "self_asks",
            [(SELF, "{name}, you've read {thing}, haven't you? What does it say?")],
            "Most of it, yes. ",
            [
                (SELF, "Thanks. I'm still going to read it myself, though."),
                (PARTNER, "Good. Then we can argue about it."),
            ],
        ),
        _t(
            "On the bus home, {name} and I shared {thing} between us.",
            "alternate",
            [(SELF, "Do you want to read first, or shall I?")],
            "I'll go. ",
            [(SELF, "I like it better when we read things together."), (PARTNER, "Me too. Don't tell anyone.")],
        ),
        _t(
            "{name} likes to argue the other side of everything, so I read {thing} aloud to see what {he} would say.",
            "partner_asks",
            [(PARTNER, "Go on, then. Convince me.")],
            "",
            [(SELF, "So, which side are you going to argue?"), (PARTNER, "Both, obviously.")],
        ),
    ),
    "family": (
        _t(
            "At dinner, {name} asked me what I had been reading.",
            "partner_asks",
            [(PARTNER, "So what did you read today?")],
            "It's about {topic}. ",
            [(SELF, "I want to think about it some more."), (PARTNER, "Then tell me what you think tomorrow.")],
        ),
        _t(
            "{name} was folding laundry, and I sat on the bed and asked questions.",
            "self_asks",
            [(SELF, "Do you know anything about {topic}?")],
            "A little. Let me see. ",
            [(SELF, "How do you know all this?"), (PARTNER, "I read, same as you. Just for longer.")],
        ),
        _t(
            None,
            "partner_asks",
            [(PARTNER, "You've been quiet all afternoon. What's {thing} about?")],
            "It's about {topic}. ",
            [(SELF, "Thanks for listening to all of it."), (PARTNER, "Thanks for telling me.")],
        ),
        _t(
            "{name} and I read {thing} together at the kitchen table.",
            "alternate",
            [(SELF, "Will you read it with me?")],
            "Of course. ",
            [(SELF, "I'm glad we read it together."), (PARTNER, "So am I.")],
        ),
        _t(
            "It was late and I couldn't sleep, so I went to find {name}.",
            "self_asks",
            [(SELF, "Can you tell me about {topic}? I can't stop thinking about it.")],
            "Come and sit down, then. ",
            [(SELF, "I think I can sleep now."), (PARTNER, "Good. Goodnight.")],
        ),
        _t(
            "On the walk to school, {name} asked me to tell {him} about {thing}.",
            "partner_asks",
            [(PARTNER, "Go on, then. From the beginning.")],
            "",
            [(SELF, "That's all of it."), (PARTNER, "You tell it well.")],
        ),
        _t(
            "{name} reads everything, so I asked {him} about {topic}.",
            "self_asks",
            [(SELF, "What do you know about {topic}?")],
            "Quite a lot, as it happens. ",
            [(SELF, "I'm going to remember that."), (PARTNER, "You'd better. I'll ask you about it later.")],
        ),
    ),
}

_GENRE_SET = frozenset(GENRES)
_ALL = {setting: tuple(range(len(tmpls))) for setting, tmpls in TEMPLATES.items()}
_LISTENING = {
    setting: tuple(i for i, t in enumerate(tmpls) if t.direction != "partner_asks")
    for setting, tmpls in TEMPLATES.items()
}
# A listener's short reaction before the other speaker closes (never judging what was said).
_LISTENER = ("Huh.", "Is that the end?", "Hm. Let me think about that.", "And that's all of it?", "Oh.")
_THING = {"fiction": "the story", "factual": "the article", "dialogue": "the scene", "other": "the page"}
_FALLBACK_TOPIC = {
    "fiction": "a story I found",
    "factual": "a subject I knew nothing about",
    "dialogue": "a scene",
    "other": "a page I found",
}
_EMPTY_ANSWER = "There isn't much to it, really. It's only a few words."

# --- questions derived from the sentence that answers them -------------------------------------

_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_ASCII_DIGIT = re.compile(r"[0-9]")
_VERB_SAY = r"(?:said|replied|answered|exclaimed|cried|asked|bleated|shouted|whispered|called|added|returned)"
_SPEAKER_AFTER = re.compile(_VERB_SAY + r"\s+([Tt]he\s+[A-Z][\w'-]+|[A-Z][a-z][\w'-]*)")
_SPEAKER_BEFORE = re.compile(r"([Tt]he\s+[A-Z][\w'-]+|[A-Z][a-z][\w'-]*)\s+" + _VERB_SAY + r"\b")
_SUBJECT_VERB = re.compile(r"(?:The|A|An) ([A-Za-z][\w'-]*) ([a-z]+ed)\b")
_NOT_SPEAKERS = frozenset("He She They It We You His Her Their This That Then Again Upon And But So".split())
_PLACE_WORDS = frozenset(
    "Sea Ocean River Lake Isles Island Islands Mountains Mountain Kingdom States Empire Republic Church "
    "University College Company Bank Street Road War Army Navy Party Park Bay Valley Gulf Channel Strait "
    "Museum Hall Castle City County Province Street Act Day Age Cup League Club Award Prize".split()
)

_Q_YEAR = ("What happened in {x}?", "And in {x}?", "What about {x}?")
_Q_SAID = ("And then what did {x} say?", "What did {x} say to that?", "And what did {x} say?")
_Q_DID = ("What did {x} do?", "And what did {x} do then?")
_Q_WHO = ("Who was {x}?", "Wait, who was {x}?")
_Q_ABOUT = ("What about {x}?", "And {x}?", "Where does {x} come into it?", "Tell me about {x}.")
_Q_NUMBER = ("And the numbers?", "Are there any figures?", "Is there a number I should remember?")
_Q_GENERIC = {
    "fiction": ("What happened next?", "And then?", "Go on. What happened?", "Then what?", "Keep going. What next?"),
    "factual": ("What else?", "Is there more?", "And then?", "What else should I know?", "Go on.", "What comes next?"),
}
_HANDOFF = ("My turn. ", "Let me read the next part. ", "I'll take the next bit. ", "Here's how it goes on. ", "", "")
_REACT = ("Huh. ", "Oh. ", "Okay. ", "I see. ", "Right. ", "Interesting. ")
_ANSWER_PREFIX = {
    "fiction": ("", "", "", "It goes on: ", "Listen. ", "Here's the next part. "),
    "factual": ("", "", "", "It says: ", "Listen to this. ", "Let me see. "),
}


def _q_said(head: str, genre: str):
    if genre == "fiction" or '"' in head or "\u201c" in head:
        m = _SPEAKER_AFTER.search(head) or _SPEAKER_BEFORE.search(head)
        if m and m.group(1) not in _NOT_SPEAKERS:
            name = m.group(1)
            return _Q_SAID, "the" + name[3:] if name.startswith("The") else name
    return None


def _q_did(head: str, genre: str):
    m = _SUBJECT_VERB.match(head)
    return (_Q_DID, "the " + m.group(1)) if m else None


def _q_number(head: str, genre: str):
    if genre == "fiction":
        return None
    if "1" in head or "2" in head:  # a year starts with one of them
        y = _YEAR.search(head)
        if y:
            return _Q_YEAR, y.group(1)
    if head.isascii() and not _ASCII_DIGIT.search(head):  # \d also matches non-ASCII digits
        return None
    return (_Q_NUMBER, "") if _NUMBER.search(head) else None


def _q_entity(head: str, genre: str):
    ent = first_entity(head)
    if not ent:
        return None
    words = ent.split()
    if (
        genre == "factual"
        and not ent.startswith("the ")
        and 2 <= len(words) <= 3
        and all(w[0].isupper() for w in words)
        and words[-1] not in _PLACE_WORDS
    ):
        return _Q_WHO, ent
    return _Q_ABOUT, ent


_KINDS = (_q_said, _q_did, _q_number, _q_entity)
# Every order of the four kinds, so that a random order is one draw.
_KIND_ORDERS = tuple(
    (a, b, c, d) for a in _KINDS for b in _KINDS for c in _KINDS for d in _KINDS if len({a, b, c, d}) == 4
)


def _question(sentence: str, genre: str, rng: random.Random, avoid: tuple[str, ...] | None) -> tuple[str, tuple]:
    """A question the asker could put, answered by ``sentence``, and the family it came from.

    Built from the sentence when it can be (a speaker, a subject, a year or number, a name), in a
    random order of those kinds; else a generic follow-up. ``avoid`` (the previous question's
    family) is not used twice in a row.
    """
    random = rng.random
    if random() < 0.75:
        head = sentence[:240]
        for kind in _KIND_ORDERS[int(random() * len(_KIND_ORDERS))]:
            found = kind(head, genre)
            if found and found[0] is not avoid:
                forms, x = found
                return forms[int(random() * len(forms))].format(x=x), forms
    generic = _Q_GENERIC["fiction" if genre == "fiction" else "factual"]
    return generic[int(random() * len(generic))], generic


def _groups(parts: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """(first sentence, 1-3 sentences) per answer, fewer when they are long."""
    return [
        (parts[i], parts[i] if j == i + 1 else " ".join(parts[i:j]))
        for i, j in group_spans(parts, rng, _MAX_GROUP_CHARS, 2.4)
    ]


# --- source dialogues ------------------------------------------------------------------------------

_ENDS_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
def _ends_sentence(line: str) -> bool:
    """Whether text.split_sentences would end a sentence after ``line`` (not after "etc." or "Inc.")."""
    if not _ENDS_SENTENCE.search(line):
        return False
    word = line[-14:].rsplit(None, 1)[-1].rstrip("\"'\u201d\u2019)]")
    if word.endswith("."):
        word = word.rstrip(".").lower()
        return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))
    return True


_TRANSCRIPT_NAMES = {
    "Human": "the person",
    "User": "the person",
    "H": "the person",
    "Assistant": "the assistant",
    "AI": "the assistant",
    "Bot": "the assistant",
    "A": "the assistant",
    "System": "the system",
}
_D_ASK = (
    ("Wait, who is {entity}?", "We'll find out. Keep listening."),
    ("Why does {speaker} say that?", "Hold on to that question. Let's read on and see."),
    ("I'm trying to picture them all standing there.", "So am I. Here's the next part."),
    ("They don't sound as if they agree.", "They don't. Listen to what comes next."),
    ("How do you think {speaker} feels right now?", "Hard to say yet. Let's keep going."),
    ("Can we slow down a little?", "Of course. Here, slowly."),
    ("I can almost hear the voices.", "That's the idea. Go on listening."),
)
_D_ASK_PARTNER = (
    ("Wait, who is {entity}?", "I'm not sure yet. Let me keep reading."),
    ("Why does {speaker} say that?", "I was wondering the same thing. Let's see."),
    ("Keep going, this is good.", "I am, I am."),
    ("Do the voices, at least.", "I'm doing my best."),
    ("How do you think {speaker} feels right now?", "I'm not sure yet. Listen."),
)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _Kit:
    """One template with the partner's name and pronouns filled in ({thing}/{topic} left open)."""

    __slots__ = ("narration", "opener", "prefix", "closing", "direction", "needs_topic", "closing_self", "partner_tag")

    def __init__(self, tmpl: Template, who: Person):
        fill = _Keep(who.slots)
        self.narration = tmpl.narration.format_map(fill) if tmpl.narration else None
        self.opener = tuple((spk, line.format_map(fill)) for spk, line in tmpl.opener)
        self.prefix = tmpl.prefix.format_map(fill)
        self.closing = tuple((spk, line.format_map(fill)) for spk, line in tmpl.closing)
        self.direction = tmpl.direction
        texts = [self.narration or "", self.prefix, *(line for _, line in self.opener + self.closing)]
        self.needs_topic = any("{topic}" in t for t in texts)
        self.closing_self = sum(1 for spk, _ in self.closing if spk == SELF)
        self.partner_tag = format_turn(who.role, who.name, "")  # "<|mentor|> Name: ", the utterance follows


@lru_cache(maxsize=1024)
def _kit(setting: str, index: int, key: tuple[str, str, str, str]) -> _Kit:
    return _Kit(TEMPLATES[setting][index], _person(*key))


_PLAN_MEMO: dict[int, tuple[list, tuple]] = {}  # keyed like perspective.cast_for's memo


def _plan(charter: Charter) -> tuple[tuple[str, tuple[Person, ...]], ...]:
    """The settings this charter's cast allows, each with its possible partners (memoised)."""
    cast = charter.cast
    entry = _PLAN_MEMO.get(id(cast))
    if entry is None or entry[0] is not cast:
        roles_present = {c.role for c in cast}
        plan = tuple(
            (setting, cast_for(charter, roles))
            for setting, roles in SETTINGS.items()
            if roles_present.intersection(roles)
        )
        if len(_PLAN_MEMO) > 64:
            _PLAN_MEMO.clear()
        entry = _PLAN_MEMO[id(cast)] = (cast, plan)
    return entry[1]


def _fill(line: str, thing: str, topic: str) -> str:
    if "{" not in line:
        return line
    return line.replace("{thing}", thing).replace("{topic}", topic)


def dialogue(text: str, genre: str, charter: Charter, rng: random.Random) -> Raised:
    """Turn ``text`` into a conversation between the I and a cast member, with speaker tags."""
    if genre not in _GENRE_SET:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
    setting, members = pick(rng, _plan(charter))
    who = pick(rng, members)
    blocks = speaker_blocks(text) if genre == "dialogue" else None
    speakers = list(dict.fromkeys(s for s, _ in blocks if s)) if blocks else []
    transcript = bool(speakers) and set(speakers) <= TRANSCRIPT_SPEAKERS
    # A chat transcript is read out by the partner, so only templates where the I asks fit it.
    choices = _LISTENING[setting] if transcript else _ALL[setting]
    index = choices[int(rng.random() * len(choices))]
    kit = _kit(setting, index, who.key)
    partner_name = who.name

    if blocks:
        thing = "the transcript" if transcript else _THING["dialogue"]
        if transcript:
            topic = "a conversation someone had with an assistant"
        elif len(speakers) >= 2:
            topic = f"what {speakers[0]} and {speakers[1]} say to each other"
        else:
            topic = _FALLBACK_TOPIC["dialogue"]
    else:
        thing = _THING[genre]
        topic = (topic_of(text) or _FALLBACK_TOPIC[genre]) if kit.needs_topic else ""

    turns: list[tuple[str, str]] = [(spk, _fill(line, thing, topic)) for spk, line in kit.opener]
    prefix = _fill(kit.prefix, thing, topic)
    if blocks:
        turns += _read_blocks(blocks, kit.direction, transcript, prefix, rng)
    else:
        # A title line stays where it is, in front of the first sentence, so every sentence of the
        # source (as text.split_sentences cuts it) is carried whole by one turn.
        turns += _discuss(sentences(text), genre, kit.direction, prefix, rng)
    if turns[-1][0] == kit.closing[0][0]:  # the closer just spoke: the other one reacts first
        turns.append((PARTNER if turns[-1][0] == SELF else SELF, _LISTENER[int(rng.random() * len(_LISTENER))]))
    elif kit.closing_self + [spk for spk, _ in turns].count(SELF) < 2:
        turns.append((SELF, _LISTENER[int(rng.random() * len(_LISTENER))]))
    turns += [(spk, _fill(line, thing, topic)) for spk, line in kit.closing]

    me = charter.identity.name
    self_tag, partner_tag = f"<|{SELF}|> {me}: ", kit.partner_tag  # what format_turn puts before the utterance
    lines = [_fill(kit.narration, thing, topic)] if kit.narration else []
    for spk, utterance in turns:
        lines.append((self_tag if spk == SELF else partner_tag) + one_line(utterance))
    return Raised("\n".join(lines), f"social/{setting}/{index:02d}", {"setting": setting, "partner": partner_name})


def _discuss(parts: list[str], genre: str, direction: str, prefix: str, rng: random.Random) -> list[tuple[str, str]]:
    """Turns over prose that carry its sentences verbatim.

    One of the two asks and the other answers with the next sentences; in "alternate" the two
    take turns reading instead, handing over with a word or a reaction.
    """
    groups = _groups(parts, rng)
    explainer = SELF if direction == "partner_asks" else PARTNER
    if not groups:
        return [(explainer, prefix + _EMPTY_ANSWER)]
    kind = "fiction" if genre == "fiction" else "factual"
    answer_prefixes = _ANSWER_PREFIX[kind]
    turns = [(explainer, prefix + groups[0][1])]
    if direction == "alternate":
        for i in range(1, len(groups)):
            explainer = SELF if explainer == PARTNER else PARTNER
            lead = _HANDOFF[int(rng.random() * len(_HANDOFF))]
            if rng.random() < 0.3:
                lead = _REACT[int(rng.random() * len(_REACT))] + lead
            turns.append((explainer, lead + groups[i][1]))
        return turns
    asker = PARTNER if explainer == SELF else SELF
    last_q, last_kind = "", None
    for i in range(1, len(groups)):
        first, group = groups[i]
        q, last_kind = _question(first, genre, rng, last_kind)
        if q == last_q:
            q = _Q_GENERIC[kind][i % len(_Q_GENERIC[kind])]
        last_q = q
        if rng.random() < 0.3:
            q = _REACT[int(rng.random() * len(_REACT))] + q
        turns.append((asker, q))
        turns.append((explainer, answer_prefixes[int(rng.random() * len(answer_prefixes))] + group))
    return turns


def _read_blocks(
    blocks: list[tuple[str | None, str]], direction: str, transcript: bool, prefix: str, rng: random.Random
) -> list[tuple[str, str]]:
    """The source dialogue read out line by line, with questions in between."""
    if transcript or direction == "self_asks":
        reader_of = lambda speaker: PARTNER  # noqa: E731
    elif direction == "partner_asks":
        reader_of = lambda speaker: SELF  # noqa: E731
    else:  # take parts: speakers alternate between the partner and the I, in order of appearance
        parts: dict[str | None, str] = {}
        for speaker, _ in blocks:
            if speaker not in parts:
                parts[speaker] = PARTNER if len(parts) % 2 == 0 else SELF
        reader_of = parts.__getitem__
    # A speech that does not end a sentence ("Human: yep") runs on into the next one, as
    # text.split_sentences reads it, so both are read in one turn and no sentence is cut in two.
    merged: list[tuple[str | None, str, str]] = []  # (speaker, words of the last speech, the line)
    for speaker, words in blocks:
        line = f"{speaker}: {words}" if speaker else words
        if merged and not _ends_sentence(merged[-1][2]):
            first_speaker, _, previous = merged[-1]
            merged[-1] = (first_speaker, words, f"{previous} {line}")
        else:
            merged.append((speaker, words, line))
    turns: list[tuple[str, str]] = []
    gap = 0
    last = len(merged) - 1
    used: set[int] = set()
    for k, (speaker, words, line) in enumerate(merged):
        reader = reader_of(speaker)
        turns.append((reader, (prefix + line) if k == 0 else line))
        gap += 1
        if k < last and gap >= 2 and rng.random() < 0.3:
            asker = SELF if reader == PARTNER or direction == "alternate" else PARTNER
            pool = _D_ASK if asker == SELF else _D_ASK_PARTNER
            j = int(rng.random() * len(pool))
            if j in used:
                continue
            ask, reply = pool[j]
            entity = None
            if "{entity}" in ask:
                entity = first_entity(words)
                if not entity or entity == speaker:
                    continue
            used.add(j)
            who_speaks = _TRANSCRIPT_NAMES.get(speaker, speaker) if transcript else speaker
            turns.append((asker, ask.format(entity=entity, speaker=who_speaks or "that voice")))
            turns.append((PARTNER if asker == SELF else SELF, reply))
            gap = 0
    return turns
