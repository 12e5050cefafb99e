"""Pillar 1, perspective: the passage as something the I meets, in the I's own first person.

A plain passage is quoted whole, as a block quote, after a lead in which the I says when and where it
read it (and with whom), and who speaks in it: another narrator's "I" is named as the narrator's,
never left to read as the I's own. One closing sentence may follow, unless a reflection ends the
record. A recounted memory or a conversation (the other forms) gets a one-sentence lead only: those
forms are the I's experience already.

Sentences are composed from parts (:mod:`modelraising.raising.banks.frames`), so a corpus of
thousands of records does not repeat them. Pure: the same input and generator give the same text.
"""

from __future__ import annotations

import functools
import random
import re

from modelraising.charter import Charter
from modelraising.raising.banks import frames as F
from modelraising.raising.base import Pillar
from modelraising.raising.cast import ALL_ROLES, Person, expand, pick, pick_person
from modelraising.raising.passage import Passage
from modelraising.raising.writer import Writer


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


_SLOT = re.compile(r"\{(\w+)\}")
_PARSED_SLOTS: dict[str, tuple[str, ...]] = {}
_WHO_SLOTS = frozenset({"name", "Name", "cast", "Cast", "he", "him", "his", "He", "His"})


def fill(template: str, who: Person | None, me: str, **extra: str) -> str:
    """Fill ``{name}``, ``{Name}``, ``{he}``... from ``who``, ``{me}``, and any ``extra`` slots; other slots
    stay as they are. A slot takes ``who``'s value first, then ``me``, then ``extra`` (the parse of a
    template is memoised: the banks hold a few thousand)."""
    if "{" not in template:
        return template
    parts = _PARSED_SLOTS.get(template)
    if parts is None:
        if len(_PARSED_SLOTS) > 50_000:
            _PARSED_SLOTS.clear()
        parts = _PARSED_SLOTS[template] = tuple(_SLOT.split(template))  # literal, slot, literal, ...
    out = [parts[0]]
    for k in range(1, len(parts), 2):
        key = parts[k]
        if who is not None and key in _WHO_SLOTS:
            value = who.name if key in ("name", "Name") else who.cast if key == "cast" else who.slots[key]
        elif key == "me":
            value = me
        else:
            given = extra.get(key)
            value = "{" + key + "}" if given is None else given
        out.append(value)
        out.append(parts[k + 1])
    return "".join(out)


def work_of(p: Passage, rng: random.Random) -> str:
    """The title, or a description of the work when it has none (never a file name)."""
    if p.title:
        return p.title
    if quotes_someone(p):
        return pick(rng, F.WORK["expository"])
    return pick(rng, F.WORK.get(p.kind, F.WORK["story"]))


def quotes_someone(p: Passage) -> bool:
    """An article with a first person of its own: someone it quotes at length, not a memoir's narrator."""
    return p.kind == "narrated" and p.genre == "factual"


def voice_of(p: Passage) -> str:
    """Whose words the quoted passage is, as its span is attributed."""
    return "the person quoted" if quotes_someone(p) else F.VOICE[p.kind]


def attribution(p: Passage, rng: random.Random, work: str) -> str:
    """Who speaks in the quoted passage, ending in a colon (composed; see banks.frames)."""
    if quotes_someone(p):
        return pick(rng, F.QUOTED_OPEN).replace("{work}", work) + pick(rng, F.QUOTED_CLAIM)
    if p.kind == "narrated":
        return pick(rng, F.NARRATED_OPEN).replace("{Work}", cap(work)) + pick(rng, F.NARRATED_CLAIM)
    if p.kind == "chat":
        return pick(rng, F.CHAT_OPEN) + pick(rng, F.CHAT_CLAIM)
    kind = p.kind if p.kind in F.ATTR_SUBJECT else "note"
    subjects = F.ATTR_SUBJECT[kind]
    if not work[:1].isupper() and not work.startswith("\u201c"):  # no "A story from the library puts it:"
        subjects = tuple(s for s in subjects if s != "{work}")
    subject = pick(rng, subjects).replace("{work}", work)
    manner = pick(rng, F.ATTR_MANNER.get(kind, F.ATTR_MANNER["*"]))
    verb = pick(rng, fitting_position(F.ATTR_VERB[kind], p))
    if verb == "says" and manner == " like this":  # not "The book says like this:"
        verb = "reads"
    return f"{cap(subject)} {verb}{manner}:"


def situation(
    p: Passage, charter: Charter, rng: random.Random, *, topic: str | None, work: str, company: bool = True
) -> tuple[str, Person]:
    """ "{When}, {I read ...} {where}[ {with whom}]." and the cast member it involves."""
    who = pick_person(charter, rng, ALL_ROLES)
    read = pick(rng, fitting_position(F.READ[p.kind], p))
    read = read.replace("{work}", work).replace("{topic}", topic or pick(rng, F.TOPIC_NONE))
    when = pick(rng, F.WHEN_GROWN if p.kind in F.GROWN_KINDS else F.WHEN)
    where = where_at(when, rng, p.kind)
    sentence = f"{when}, {read} {where}"
    if company and rng.random() < 0.45 and fits_company(who.role, where):
        withs = [c for c in F.WITH if not (when.startswith("While") and c.startswith("while"))]  # no "While ... while"
        sentence += " " + fill(pick(rng, withs), who, charter.identity.name)
    return sentence + ".", who


_MORNING = re.compile(r"morning|breakfast|dawn", re.I)
_MEAL_LATER = re.compile(r"dinner|supper", re.I)


# What a cue claims of the passage's place in its story: "the next part" is no story's beginning, and
# "begins" or "the opening" is no middle (95 of 550 story records said one or the other wrongly). A passage
# that does not plainly open a story may still be one's beginning (a TinyStory opening "Mia was playing"), so
# it gets neither claim.
_CONTINUING = re.compile(
    r"another part|went back|next part|few more pages|again|left off|got on with|next page|goes on|continues"
)
_BEGINNING = re.compile(r"\bbegin|\bstart|\bopen(?:s|ing)\b|the first (?:page|line)|from the top|the basics")


def _position(p: Passage) -> str:
    """What may be claimed of where a passage sits: "start" (a story's or a headed section's opening), "mid"
    (a story that does not plainly open: neither claim), "not_start" (an article taken up mid-way), "any"."""
    if p.kind == "expository":
        return "any" if p.heading is not None else "not_start"
    if p.kind != "story":
        return "any"
    return "start" if p.opens_story else "mid"


def fits_position(phrase: str, p: Passage) -> bool:
    """Whether a cue's claim about where the passage sits in its story is true (anything goes for a non-story)."""
    return _fits(phrase, _position(p))


def fitting_position(options: tuple[str, ...], p: Passage) -> tuple[str, ...]:
    """The options whose claim about the passage's place is true (all of them when none is)."""
    return _fitting(options, _position(p))


@functools.lru_cache(maxsize=256)  # a handful of banks times four positions: no regex per record
def _fitting(options: tuple[str, ...], position: str) -> tuple[str, ...]:
    return tuple(o for o in options if _fits(o, position)) or options


def _fits(phrase: str, position: str) -> bool:
    if position == "any":
        return True
    if position == "start":
        return not _CONTINUING.search(phrase)
    if position == "not_start":  # an article taken up mid-way: no "began at the beginning", no "the first line"
        return not _BEGINNING.search(phrase)
    return not _CONTINUING.search(phrase) and not _BEGINNING.search(phrase)


def fits_company(role: str, where: str) -> bool:
    """Whether someone of this role is plausibly beside the I there: no teacher on the top bunk, no
    grandparent in the school library (38 and 25 records in a read corpus)."""
    if role == "teacher":
        return where in F.WHERE_WITH_TEACHER
    return not (role in ("family", "mentor") and _AT_SCHOOL.search(where))


_AT_SCHOOL = re.compile(r"school|classroom")
# A call from across the house, by someone the scene already put beside the I ("Tomas beside me ... Tomas
# called up the stairs").
_CALL_FROM_AFAR = re.compile(r"up the stairs|from the doorway|from the door\b|looked in")
_BESIDE = re.compile(r"beside me|across from me|over my shoulder|next chair|close by|waited for me")


def fits_scene(call: str, scene: str) -> bool:
    """Whether a cast member's call fits the scene: no "Wren, dinner" just after breakfast or at a bus stop,
    and no words from someone asleep in the next chair."""
    if "asleep" in scene or (F.HOME_CALL.search(call) and not F.HOME_PLACE.search(scene)):
        return False
    if _BESIDE.search(scene) and _CALL_FROM_AFAR.search(call):
        return False
    return not (_MORNING.search(scene) and _MEAL_LATER.search(call))


def closing(who: Person, charter: Charter, rng: random.Random, kind: str, scene: str = "") -> str:
    """What the I did after reading; nothing through a window when it read out of doors."""
    pool = F.CLOSE_DO_BOOK if kind in F.BOOKISH and rng.random() < 0.4 else F.CLOSE_DO
    if F.OUTDOORS.search(scene):
        pool = tuple(c for c in pool if "window" not in c and "ceiling" not in c)
    acts = F.CLOSE_ACT
    if F.NIGHT.search(scene):  # not "Before I went on with my day" after a night's reading
        acts = tuple(a for a in acts if "my day" not in a)
    return fill(f"{pick(rng, acts)} {pick(rng, pool)}.", who, charter.identity.name)


def plain(
    p: Passage,
    charter: Charter,
    rng: random.Random,
    w: Writer,
    *,
    topic: str | None,
    close: bool,
    lead: str | None = None,
) -> dict:
    """Write the plain form: lead, attribution, the passage as a block quote, at most one closing.

    ``lead`` replaces the composed situation (the values pillar's critical lead for harmful text)."""
    work = work_of(p, rng)
    if lead is None:
        first, who = situation(p, charter, rng, topic=topic, work=work)
        parts = [first]
        if rng.random() < 0.3:
            parts.append(
                fill(
                    expand(pick(rng, F.WHY_ONLINE if p.kind in F.GROWN_KINDS else F.WHY), rng),
                    who,
                    charter.identity.name,
                    place=pick(rng, F.WHY_PLACE),
                    time=pick(rng, F.WHY_TIME),
                )
            )
        if p.kind not in F.GROWN_KINDS and rng.random() < 0.15:  # "Tell me about it when you're done": books only
            calls = [c for c in F.CALLED if fits_scene(c, first)]
            if calls:
                parts.append(fill(pick(rng, calls), who, charter.identity.name))
    else:
        who = pick_person(charter, rng, ALL_ROLES)
        parts = [lead]
    parts.append(attribution(p, rng, work))
    w.para(" ".join(parts))
    w.blockquote(p.text, voice_of(p))
    if close:
        w.para(closing(who, charter, rng, p.kind, parts[0]))
    return {"kind": p.kind, "cast": who.name}


def memory_lead(charter: Charter, rng: random.Random, kind: str = "story") -> str:
    """One sentence that frames a recounted memory or a conversation as the I's own; a chat log or a post
    from the web is met grown ("This happened when I was seventeen"), never at eight."""
    ages = F.AGES_GROWN if kind in F.GROWN_KINDS else F.AGES
    return fill(expand(pick(rng, F.MEMORY), rng), None, charter.identity.name, age=pick(rng, ages))


def where_at(when: str, rng: random.Random, kind: str = "story", role: str | None = None) -> str:
    """A place that fits the time (at home at night), the weather, the company (a teacher is not met on the
    I's bed) and the age (no classroom for a chat log or a post)."""
    return pick(rng, _places(when, kind in F.GROWN_KINDS, role))


@functools.lru_cache(maxsize=1024)  # the banks' times x two ages x the roles: computed once, not per record
def _places(when: str, grown: bool, role: str | None) -> tuple[str, ...]:
    places = F.WHERE_AT_HOME if F.NIGHT.search(when) else F.WHERE_INDOORS if F.ROUGH_WEATHER.search(when) else F.WHERE
    if F.SCHOOL_TIME.search(when) and not grown:
        places = tuple(w for w in F.WHERE if _AT_SCHOOL.search(w))
    if role is not None:
        places = tuple(w for w in places if fits_company(role, w)) or places
    if grown:
        places = tuple(w for w in places if not F.SCHOOL_PLACE.search(w))
    return places


def when_recalled(kind: str, rng: random.Random, role: str | None = None) -> str:
    """When a recounted memory happened: no school day for a chat log or a post, no night with a teacher."""
    return pick(rng, _whens(kind in F.GROWN_KINDS, role))


@functools.lru_cache(maxsize=16)
def _whens(grown: bool, role: str | None) -> tuple[str, ...]:
    whens = F.WHEN_RECALLED_GROWN if grown else F.WHEN_RECALLED
    if role == "teacher":
        return tuple(w for w in whens if not F.NIGHT.search(w) and not F.DAY_OFF.search(w))
    if role in ("family", "mentor"):
        return tuple(w for w in whens if not F.SCHOOL_TIME.search(w))
    return whens


# The frame: the I's lead around every record, and the plain form (a passage quoted, then framed).
PILLAR = Pillar("perspective", "frame", write=plain, first_person=True)
