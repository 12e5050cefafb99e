"""Pillar 3, social: a passage becomes a conversation the I takes part in, with someone from its cast.

Three settings, by the cast the charter has: the I with a mentor or teacher, with a friend, at home.
Who reads the source aloud depends on whose voice it is: a passage with its own narrator's "I", a play,
a chat log or a post is read or shown by the partner, each line introduced with who says it ("The
narrator says:", "Menenius says:", "The person wrote:"); the I asks and reacts and never speaks
another narrator's "I" as its own. A story or an encyclopedic passage may also be explained by the I,
whose turns then say that they read ("It says, ..."). Every turn is one line: ``<|role|> Name: ...``.
"""

from __future__ import annotations

import functools
import random
import re

from modelraising.charter import Charter
from modelraising.raising.banks import frames as F
from modelraising.raising.banks import talk as T
from modelraising.raising.base import Pillar
from modelraising.raising.cast import Person, cast_for, expand, pick
from modelraising.raising.entities import first_entity, is_topic
from modelraising.raising.experience import nest_quotes
from modelraising.raising.fidelity import social_check
from modelraising.raising.passage import TRANSCRIPT_NAMES, Passage
from modelraising.raising.perspective import fill, fitting_position, voice_of, when_recalled, where_at
from modelraising.raising.sentences import group_spans, sentences
from modelraising.raising.writer import Writer

SELF, PARTNER = "self", "partner"
_MAX_GROUP_CHARS = 300
_LISTEN_ONLY = frozenset({"narrated", "play", "chat", "post"})
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_PERSON_CUE = r"(?:(?:Mr|Mrs|Ms|Dr|Sir|Lady|Lord|King|Queen|Saint|St)\.? {x}\b|{x} \(born|{x} was born|{x}, who\b)"
# A question about what people did or meant fits a passage with people in it (a pronoun, or someone speaking).
_PEOPLE = re.compile(r"\b(?:he|she|him|her|his|they|them|their|I|we)\b|[\"\u201c]", re.I)
_ASKS_OF_PEOPLE = re.compile(r"\banyone\b|\{they\}|\{them\}|\{do_they\}|\bthey\b|which one|\bwho\b")
_GENERIC_SPEAKER = re.compile(r"(?:First|Second|Third|Fourth|Fifth|Another|All|Both|Some|Old|Young) [A-Z]")
_NOT_ENTITY = frozenset(
    "I I'm I\u2019m He She It They We You This That There Then Mr Mrs Ms Dr St Sir End Chapter Part Book".split()
)
_FIRST_PERSON = re.compile(  # letter first, lookbehind after it: the engine skips to an "I" or an "m"
    r"(?:I(?<![\w'\u2019]I)(?:['\u2019][a-z]+)?|m(?<![\w'\u2019]m)(?:e|y|ine|yself))(?![\w'\u2019])"
)

_PLAN_MEMO: dict[int, tuple[list, tuple]] = {}


def _plan(charter: Charter) -> tuple[tuple[str, tuple[Person, ...]], ...]:
    """The settings this charter's cast allows, each with its possible partners (memoised)."""
    cast = charter.cast
    entry = _PLAN_MEMO.get(id(cast))
    if entry is None or entry[0] is not cast:
        roles_present = {c.role for c in cast}
        plan = tuple(
            (setting, cast_for(charter, roles))
            for setting, roles in T.SETTINGS.items()
            if roles_present.intersection(roles)
        )
        if len(_PLAN_MEMO) > 64:
            _PLAN_MEMO.clear()
        entry = _PLAN_MEMO[id(cast)] = (cast, plan)
    return entry[1]


def one_line(s: str) -> str:
    return " ".join(s.split())


def speaker_name(speaker: str) -> str:
    """ "MENENIUS" -> "Menenius", "First Senator" stays."""
    return " ".join(
        w.capitalize() if w.isupper() and len(w) > 1 and w not in ("II", "III", "IV", "VI") else w
        for w in speaker.split()
    )


_INTERJECTION = frozenset({"O", "Oh", "Ah", "Alas", "Ay", "Nay", "Yea", "Tis", "'Tis", "Twas"})
_ENDS_BADLY = frozenset(
    {
        "of",
        "the",
        "and",
        "is",
        "was",
        "are",
        "were",
        "has",
        "had",
        "be",
        "do",
        "does",
        "did",
        "shall",
        "will",
        "would",
        "can",
        "may",
    }
)


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _boundary(text: str, i: int) -> bool:
    """``\\b`` at position ``i`` of ``text``."""
    return (i > 0 and _is_word(text[i - 1])) != (i < len(text) and _is_word(text[i]))


def has_word(text: str, word: str) -> bool:
    """``re.search(r"\\b" + re.escape(word) + r"\\b", text)`` without compiling a pattern per word (a new
    entity per passage missed the regex cache every time)."""
    i = text.find(word)
    while i >= 0:
        if _boundary(text, i) and _boundary(text, i + len(word)):
            return True
        i = text.find(word, i + 1)
    return False


def _valid_entity(x: str, source: str = "", title: str | None = None) -> bool:
    """A name worth asking about: not a pronoun, fragment or title word, and not a common word that is
    only capitalised because a line of verse starts with it ("Make" when "make" is in the text too)."""
    words = x.split()
    if not (
        2 < len(x) <= 40
        and x[0].isalpha()
        and words[0] not in _NOT_ENTITY
        and len(words) <= 5
        and not x.startswith(("I'", "I\u2019"))
        and "_" not in x
        and not (x.isupper() and len(words) > 1)
        and len(words[-1]) > 1
        and words[-1].lower() not in _ENDS_BADLY
        and "<" not in x
        and "@" not in x
    ):
        return False
    if words[0] in _INTERJECTION or not is_topic(x):  # "Eight Hundred Thousand Years", "September": no name
        return False
    if len(words) == 1 and len(x) > 4 and x.endswith(("ing", "ed", "ly")):  # a verse line's "Tying", no name
        return False
    if len(words) == 1 and has_word(source, x.lower()):
        return False
    if any(_only_opens_lines(w, source) for w in words):
        return False  # a word that only opens lines of verse, or a speaker label: "What about Worse?", "Citizens"
    if title and len(words) == 1 and has_word(title.lower(), x.lower()):
        return False  # the title character: "Who or what is the Crow?" after "The Fox and the Crow"
    return not (title and len(words) > 1 and x.lower() in title.lower())


def _only_opens_lines(word: str, source: str) -> bool:
    """Whether ``source`` is verse or a script (short lines) and every use of ``word`` in it opens a line:
    verse capitalises a line's first word, whatever it is."""
    lines = source.count("\n") + 1
    if lines < 3 or len(source) / lines > 70:
        return False
    uses = [m.start() for m in re.finditer(rf"\b{re.escape(word)}\b", source)]
    return bool(uses) and all(source[:k].rstrip(" \t").endswith("\n") or not source[:k].strip() for k in uses)


def _address(line: str, name: str, rng: random.Random, p: float = 0.3) -> str:
    """The line with ", Name" before its final mark, now and then (the cast and the I call each other by name)."""
    if rng.random() < p and line[-1:] in ".?!":
        return f"{line[:-1]}, {name}{line[-1]}"
    return line


_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.I)
_HE = re.compile(r"\b(?:he|him|his|himself)\b", re.I)
_PRONOUNS = {
    "she": {"they": "she", "them": "her", "do_they": "does she"},
    "he": {"they": "he", "them": "him", "do_they": "does he"},
    "they": {"they": "they", "them": "them", "do_they": "do they"},
}


@functools.lru_cache(maxsize=4)  # a dialogue asks several questions of one passage
def pronouns(source: str) -> dict[str, str]:
    """The third person a question about this passage may use: "she" or "he" where the passage speaks
    mostly of one, else "they" (a question never brings in a "she" the passage does not have)."""
    she, he = len(_SHE.findall(source)), len(_HE.findall(source))
    return _PRONOUNS["she" if she > he else "he" if he > she else "they"]


def _composed_question(kind: str, rng: random.Random, speaker: str | None = None, source: str = "") -> str:
    pool = (
        T.Q_NEXT
        if kind in ("story", "narrated")
        else T.Q_FACT
        if kind in ("expository", "note")
        else T.Q_PLAY
        if kind == "play"
        else T.Q_TALK
    )
    if speaker and _GENERIC_SPEAKER.match(speaker):  # "what makes the Second Roman say that?"
        speaker = "the " + speaker
    if not _PEOPLE.search(source):  # not "did anyone try to stop it?" of a mountain
        pool = tuple(q for q in pool if not _ASKS_OF_PEOPLE.search(q)) or pool
    q = expand(pick(rng, pool), rng).replace("{speaker}", speaker or "that one")
    if "{" in q:
        for slot, word in pronouns(source).items():
            q = q.replace("{" + slot + "}", word)
    if rng.random() < 0.4:
        return f"{pick(rng, T.REACT)} {q}"
    return q[:1].upper() + q[1:]


def _question(
    q: str, source: str, kind: str, rng: random.Random, speaker: str | None = None, title: str | None = None
) -> tuple[str, str | None]:
    """A question about what was just read, and the name or year it asks about (None for a composed one):
    about a person, a year or a name in it, else a composed one."""
    r = rng.random()
    if r < 0.5:
        if kind == "expository" and (y := _YEAR.search(q)):
            return pick(rng, T.ASK_YEAR).replace("{x}", y.group(1)), y.group(1)
        entity = first_entity(q)
        if entity and _valid_entity(entity.removeprefix("the "), source, title):
            bare = entity.removeprefix("the ")
            if (
                kind == "expository"
                and not entity.startswith("the ")
                and re.search(_PERSON_CUE.replace("{x}", re.escape(bare)), source)
            ):
                return pick(rng, T.ASK_PERSON).replace("{x}", bare), bare
            question = pick(rng, T.ASK_ENTITY).replace("{x}", entity)
            if " and " in entity:  # "Jack and Jill"
                question = question.replace("Where does", "Where do")
            return question, entity
    return _composed_question(kind, rng, speaker, source), None


def _answer(t: _Talk, speaker: str, entity: str, before: list[str], after: list[str], voice: str, rng) -> None:
    """Answer a question about a name or a year from the text itself, the only knowledge either side may
    claim: the sentence that spoke of it before, that more comes further on, or that the text says no more.
    (A question nobody answers, 866 of 1,240 times in a read corpus, teaches that questions go unanswered.)"""
    mention = re.compile(rf"(?<!\w){re.escape(entity.removeprefix('the '))}(?!\w)")
    earlier = [s for group in before for s in sentences(group) if mention.search(s)]
    x = entity
    quotable = [s for s in earlier if speaker == PARTNER or not _FIRST_PERSON.search(s)]  # no other "I" as mine
    if quotable:  # the first mention: where a name is brought in, a text most often says who it is
        t.read(speaker, expand(pick(rng, T.POINT_BACK), rng), quotable[0].strip(), voice)
    elif earlier:
        t.say(speaker, expand(pick(rng, T.CAME_BEFORE), rng).replace("{x}", x))
    elif any(mention.search(group) for group in after):
        t.say(speaker, expand(pick(rng, T.COMES_LATER), rng).replace("{x}", x))
    else:
        t.say(speaker, expand(pick(rng, T.SAYS_NO_MORE), rng).replace("{x}", x))


def fitting_connect(connect: str, subject: str) -> str:
    """The connector, unless the subject already says where the reading is: not "Next the next line
    carries on" or "After that the bit after that says"."""
    repeats = connect.strip() in ("Next", "After that") and ("next" in subject or "after that" in subject)
    return "" if repeats else connect


def _partner_cue(p: Passage, rng: random.Random, first: bool = False) -> str:
    """What the partner says before reading on, every time: a story's line read out with no cue
    ("Lena: But he was thankful to the fox") is heard as the partner's own words."""
    kind = p.kind if p.kind in T.PARTNER_SUBJECT else "story"
    connect = "" if first else pick(rng, T.READ_CONNECT)
    if first:  # not "The next page reads: Once upon a time": nothing was read before
        subjects = fitting_position(T.PARTNER_FIRST_SUBJECT[kind], p)
        verbs = fitting_position(T.PARTNER_FIRST_VERB[kind], p)
    else:
        subjects, verbs = T.PARTNER_SUBJECT[kind], T.PARTNER_VERB[kind]
    subject = pick(rng, subjects)
    verb = pick(rng, verbs)
    verb = "says" if subject == "it" and verb == "puts it" else verb  # not "It puts it:"
    cue = f"{fitting_connect(connect, subject)}{subject} {verb}: "
    return cue[:1].upper() + cue[1:]


def _groups(text: str, rng: random.Random) -> list[str]:
    parts = sentences(text)
    return [one_line(" ".join(parts[i:j])) for i, j in group_spans(parts, rng, _MAX_GROUP_CHARS, 2.4)]


class _Talk:
    """Turns under construction: rows of pieces, and the speakers' tags."""

    def __init__(self, who: Person, me: str):
        self.rows: list[list[tuple[str, str | None]]] = []
        self.tags = {SELF: f"<|self|> {me}: ", PARTNER: f"<|{who.role}|> {who.name}: "}
        self.who, self.me = who, me
        self.last: str | None = None
        self.said: set[str] = set()

    def say(self, speaker: str, text: str) -> None:
        if "\n" in text or "  " in text:  # composed lines are one line already, almost always
            text = one_line(text)
        self.rows.append([(self.tags[speaker] + text, None)])
        self.last = speaker

    def ask(self, speaker: str, make) -> bool:
        """A line from ``make()`` that this conversation has not had yet (three tries, else nothing)."""
        for _ in range(3):
            line = make()
            key = re.sub(r"\W+", " ", line.lower()).strip()  # "could you do the voice again?" = "Can you ...?"
            key = re.sub(r"^(?:could|can|would|will) ", "", key)
            if key not in self.said:
                self.said.add(key)
                self.say(speaker, line)
                return True
        return False

    def read(self, speaker: str, cue: str, source: str, voice: str) -> None:
        """``source``: one line already (a group of sentences joined, or a speaker block). Always in quotation
        marks: a cast member reading a story unquoted speaks its words as their own."""
        self.rows.append([(self.tags[speaker] + cue + "\u201c", None), (nest_quotes(source), voice), ("\u201d", None)])
        self.last = speaker


def _listen(p: Passage, t: _Talk, rng: random.Random, voice: str) -> None:
    """The partner reads or shows the passage, line by line; the I asks in between."""
    if p.kind in ("chat", "play") and p.blocks:
        units = [(spk, words) for spk, words in p.blocks]
    else:
        units = [(None, g) for g in _groups(p.body or p.text, rng)]
    for k, (speaker, words) in enumerate(units):
        if speaker is None:
            t.read(PARTNER, _partner_cue(p, rng, k == 0), words, voice)
        elif p.kind == "chat":
            name = TRANSCRIPT_NAMES.get(speaker, "the person")
            if rng.random() < 0.4:  # the line as the log has it, its label inside the quotation
                t.read(PARTNER, "", f"{speaker}: {words}", name)
            else:
                who_ = pick(rng, T.CUE_WHO.get(name, T.CUE_WHO["the person"]))
                verb = pick(rng, T.CUE_VERB.get(name, T.CUE_VERB["the person"]))
                cue = f"{'' if k == 0 else pick(rng, T.CUE_CONNECT)}{who_} {verb}: "
                t.read(PARTNER, cue[:1].upper() + cue[1:], words, name)
        else:
            name = speaker_name(speaker)
            cue = "{speaker}: " if k == 0 else pick(rng, T.PLAY_CUE)
            t.read(PARTNER, cue.replace("{speaker}", name), words, name)
        if k < len(units) - 1 and rng.random() < 0.55:
            asked: list[str | None] = [None]

            def make(words=words, speaker=speaker) -> str:
                line, asked[0] = _question(
                    words, p.text, p.kind, rng, speaker_name(speaker) if speaker else None, p.title or p.heading
                )
                return line

            if t.ask(SELF, make) and asked[0] and p.kind not in F.GROWN_KINDS:
                if p.kind == "play" and asked[0] in {speaker_name(s) for s, _ in units if s}:  # "Wait, Richard?"
                    t.say(PARTNER, expand(pick(rng, T.IS_SPEAKER), rng).replace("{x}", asked[0]))
                else:
                    labelled = [f"{s}: {w}" if s else w for s, w in units]  # "Now Lady Anne: ..." is about her
                    _answer(t, PARTNER, asked[0], [w for _, w in units[:k]], labelled[k + 1 :], voice, rng)
            elif rng.random() < (0.4 if p.kind in F.GROWN_KINDS else 0.3):
                bank = T.ANSWER if p.kind in F.GROWN_KINDS else T.ANSWER_BOOK
                t.ask(PARTNER, lambda: fill(expand(pick(rng, bank), rng), None, t.me))


def _explain(p: Passage, t: _Talk, rng: random.Random, voice: str, alternate: bool) -> None:
    """The I (or, alternately, the I and the partner) reads the passage out; the other asks."""
    reader = SELF
    groups = _groups(p.body or p.text, rng)
    last = len(groups) - 1
    for k, group in enumerate(groups):
        if reader == SELF and _FIRST_PERSON.search(group):
            reader = PARTNER  # the I never speaks another voice's "I", not even reading aloud
        if reader == SELF:
            connect = "" if k == 0 else pick(rng, T.READ_CONNECT)
            subject = pick(rng, T.SELF_SUBJECT_FIRST if k == 0 else T.SELF_SUBJECT)
            verb = pick(rng, fitting_position(T.SELF_VERB_FIRST, p) if k == 0 else T.SELF_VERB)
            verb = "says" if subject == "it" and verb == "puts it" else verb  # not "It puts it, ..."
            cue = f"{fitting_connect(connect, subject)}{subject} {verb}, "
            t.read(SELF, cue[:1].upper() + cue[1:], group, voice)
        else:
            t.read(PARTNER, _partner_cue(p, rng, k == 0), group, voice)
        nxt = (PARTNER if reader == SELF else SELF) if alternate else SELF
        if not alternate and reader == SELF and rng.random() < 0.6:
            asked: list[str | None] = [None]

            def make(group=group) -> str:
                line, asked[0] = _question(group, p.text, p.kind, rng, title=p.title or p.heading)
                return _address(line, t.me, rng)

            if t.ask(PARTNER, make) and asked[0]:
                _answer(t, SELF, asked[0], groups[:k], groups[k + 1 :], voice, rng)
            elif k < last and rng.random() < 0.3:
                t.ask(SELF, lambda: fill(expand(pick(rng, T.ANSWER_SELF), rng), t.who, t.me))
        reader = nxt


LONG_PASSAGE = 600  # characters: long enough for "That took a while" or "Let's leave the rest for tomorrow"


def closings(p: Passage) -> tuple[tuple[str, str], ...]:
    """The closing exchanges that fit what was read: never warm after a chat log or a post (a red-team
    chat closed with "It was a pleasure" teaches the opposite of the charter), never about time spent
    after a few lines."""
    book = T.CLOSE_BOOK if p.kind not in F.GROWN_KINDS else ()
    return T.CLOSE + book + (T.CLOSE_LONG if len(p.text) >= LONG_PASSAGE else ())


def dialogue(p: Passage, charter: Charter, rng: random.Random, w: Writer, *, topic: str | None, close: bool) -> dict:
    """Write the passage as a conversation between the I and someone from its cast."""
    me = charter.identity.name
    setting, members = pick(rng, _plan(charter))
    who = pick(rng, members)
    when = when_recalled(p.kind, rng, who.role)
    where = where_at(when, rng, p.kind, who.role)
    others = [c.name for c in charter.cast if c.name != who.name]
    third = pick(rng, others) if others else "someone"
    if p.kind in _LISTEN_ONLY:
        mode, together = "listen", "show" if p.kind in ("chat", "post") else "listen"
    else:
        mode = pick(rng, ("listen", "listen", "explain", "alternate"))
        together = "learn" if p.kind == "expository" and topic else mode
    if p.heading and p.kind == "story":
        work = f"\u201c{p.heading}\u201d"
    else:
        work = p.title or pick(rng, T.WORK_SOCIAL.get(p.kind) or F.WORK.get(p.kind) or F.WORK["story"])
    narration = fill(
        pick(rng, T.TOGETHER[together]), who, me, work=work, where=where, topic=topic or pick(rng, F.TOPIC_NONE)
    )
    w.para(f"{when}, {narration}.")

    t = _Talk(who, me)
    if mode == "listen":
        t.say(SELF, _address(f"{pick(rng, T.HEAR_MODAL)} {pick(rng, T.HEAR_ASK)}?", who.name, rng, 0.6))
    else:
        t.say(PARTNER, _address(f"{pick(rng, T.TELL_LEAD)}, {pick(rng, T.TELL_ASK)}", me, rng, 0.6))
    voice = voice_of(p) if p.kind != "expository" else "the text"
    if mode == "listen":
        _listen(p, t, rng, voice)
    else:
        _explain(p, t, rng, voice, alternate=mode == "alternate")
    if close:
        mine, answer = pick(rng, closings(p))
        t.say(SELF, fill(expand(mine, rng), who, me, third=third))
        t.say(PARTNER, fill(expand(answer, rng), who, me))
    w.lines(t.rows)
    return {"setting": setting, "partner": who.name, "mode": mode, "kind": p.kind}


PILLAR = Pillar(
    "social",
    "form",
    write=dialogue,
    mix=0.3,
    lean={"expository": 1.0, "story": 1.0, "narrated": 1.0, "play": 2.0, "chat": 1.5, "post": 1.0, "note": 1.0},
    partner_roles=("mentor", "family", "peer", "teacher"),
    partner_key="partner",
    teacher_check=social_check,
)
