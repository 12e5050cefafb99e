"""Pillar 1, perspective: wrap a passage in the I's first-person experience of meeting it.

``frame`` keeps the passage verbatim and puts a lead-in (and usually a closing line) around it:
the I reading it on a train, being read to by someone from the cast, finding it in an attic.
Frames depend on the genre of a plain passage, or on the form the passage already has (a
recounted memory from :mod:`experience`, a dialogue from :mod:`social`).

The module also holds the small helpers the template pillars share: how to name a cast member
("my grandfather, Grandpa Elias"), which pronouns to use for them, and a cheap topic guess.
Everything is pure: the same input and the same ``random.Random`` state give the same output.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from string import Formatter

from modelraising.charter import CastMember, Charter
from modelraising.raising.base import FORMS, GENRES, Raised

try:  # the abbreviations text.split_sentences does not end a sentence after (tests hold the two in step)
    from modelraising.text import _ABBREVIATIONS
except ImportError:  # pragma: no cover - renamed upstream; the sentence tests then fail loudly
    _ABBREVIATIONS = frozenset()

__all__ = [
    "FRAMES",
    "Person",
    "cast_for",
    "first_entity",
    "frame",
    "frame_counts",
    "group_spans",
    "person",
    "pick",
    "pick_person",
    "sentence_spans",
    "sentences",
    "speaker_blocks",
    "split_heading",
    "topic_of",
]

ALL_ROLES: tuple[str, ...] = ("mentor", "family", "peer", "teacher")

# ---------------------------------------------------------------------------------------------
# Shared helpers: cast members, pronouns, topics, entities.
# ---------------------------------------------------------------------------------------------

_HE = re.compile(
    r"\b(?:grand(?:father|pa|dad|son)|father|dad|daddy|papa|brother|uncle|son|husband|nephew|"
    r"boyfriend|man|boy|king|prince|sir|mr|monsieur|herr|señor)\b",
    re.I,
)
_SHE = re.compile(
    r"\b(?:grand(?:mother|ma|mama|daughter)|mother|mom|mum|mama|mommy|mummy|sister|aunt|auntie|"
    r"daughter|wife|niece|girlfriend|woman|girl|queen|princess|madam|ms|mrs|miss|madame|frau|señora)\b",
    re.I,
)
_PRONOUNS = {
    "he": {"he": "he", "him": "him", "his": "his", "He": "He", "His": "His"},
    "she": {"he": "she", "him": "her", "his": "her", "He": "She", "His": "Her"},
    "they": {"he": "they", "him": "them", "his": "their", "He": "They", "His": "Their"},
}
_DETERMINERS = ("my ", "our ", "a ", "an ", "the ")


class Person:
    """A cast member as the templates need them: names, how the I refers to them, pronouns.

    Pronouns are guessed from the relation and the name ("my grandfather" -> he, "Ms." -> she)
    and fall back to singular "they"; templates only use them with past-tense verbs so that
    every choice stays grammatical. ``slots`` holds every template field about the person:
    name, cast ("my grandfather, Grandpa Elias"), cast_ (the same with the comma that closes the
    apposition, for use before a verb), Cast/Cast_ (capitalised), he/him/his/He/His. Read-only.
    """

    __slots__ = ("name", "role", "relation", "voice", "cast", "slots", "key")

    def __init__(self, name: str, role: str, relation: str, voice: str, pronouns: dict[str, str]):
        self.name, self.role, self.relation, self.voice = name, role, relation, voice
        self.key = (name, role, relation, voice)
        self.cast = relation if name.lower() in relation.lower() else f"{relation}, {name}"
        cast_ = self.cast if self.cast == relation else self.cast + ","
        self.slots: dict[str, str] = {
            "name": name,
            "cast": self.cast,
            "Cast": self.cast[:1].upper() + self.cast[1:],
            "cast_": cast_,
            "Cast_": cast_[:1].upper() + cast_[1:],
            **pronouns,
        }

    def __repr__(self) -> str:
        return f"Person({self.name!r}, {self.role!r})"


@lru_cache(maxsize=512)
def _person(name: str, role: str, relation: str, voice: str) -> Person:
    rel = relation.strip().rstrip(".,;:")
    if not rel.lower().startswith(_DETERMINERS):
        rel = "my " + rel
    if _HE.search(relation):
        key = "he"
    elif _SHE.search(relation):
        key = "she"
    elif _HE.search(name):
        key = "he"
    elif _SHE.search(name):
        key = "she"
    else:
        key = "they"
    voice = voice.strip()
    if len(voice) > 1 and voice[0].isupper() and voice[1].islower():
        voice = voice[0].lower() + voice[1:]
    return Person(name, role, rel, voice, _PRONOUNS[key])


def person(member: CastMember) -> Person:
    """The template view of a cast member (memoised: a pure function of the member's fields)."""
    return _person(member.name, member.role, member.relation, member.voice)


def pick(rng: random.Random, seq):
    """``rng.choice`` at a fraction of its cost (one ``rng.random()`` call)."""
    return seq[int(rng.random() * len(seq))]


# Memo of cast lookups, keyed by the identity of the charter's cast list. The entry keeps a reference
# to that list, so its id cannot be reused by another list while the entry lives; charters are frozen.
_CAST_MEMO: dict[tuple[int, tuple[str, ...]], tuple[list, tuple[Person, ...]]] = {}


def cast_for(charter: Charter, roles: tuple[str, ...]) -> tuple[Person, ...]:
    """``charter.cast_with_role(*roles)`` as Persons (memoised)."""
    cast = charter.cast
    entry = _CAST_MEMO.get((id(cast), roles))
    if entry is None or entry[0] is not cast:
        if len(_CAST_MEMO) > 256:
            _CAST_MEMO.clear()
        entry = _CAST_MEMO[(id(cast), roles)] = (cast, tuple(person(c) for c in charter.cast_with_role(*roles)))
    return entry[1]


def pick_person(charter: Charter, rng: random.Random, roles: tuple[str, ...]) -> Person:
    return pick(rng, cast_for(charter, roles))


# A capitalised run, as in text.named_entities, for cheap per-sentence lookups.
_CAPRUN = re.compile(r"[A-Z][\w'\u2019-]*+(?:[ ](?:(?:of|the|de|von|van|and)[ ])?[A-Z][\w'\u2019-]*+)*")
_FILLER_CAPS = frozenset(
    "I The A An And But Or If In On At It He She They We You This That These Those There Then When While "
    "After Before As For So His Her Their Its My Our Your To Of By With From Not No Yes Oh What Why How Who "
    "Where Which Today One Some All Many Most Once Long Later Meanwhile However Although Though Soon Suddenly "
    "Now Here Every Each Yesterday Tonight Perhaps Also Thus Since During Upon Again Indeed Well "
    "Finally Even Still Yet Just Only Both Either Neither Another Other Such Like "
    "Unlike Despite Because Until Unless Whether Let Do Does Did Is Was Are Were Be Have Has Had Can Could "
    "Will Would Shall Should May Might Must Mr Mrs Ms Dr St".split()
)
_DEMONYM = re.compile(r"(?:an|ese|ish|ic|i)$")


def _entities(sentence: str, end: int):
    """Name-like capitalised runs of ``sentence[:end]`` as (name, is_multi_word), in order.

    Skips sentence-initial filler ("The", "When"), lone sentence-initial words, lone adjectives of
    nationality ("European") and capitals inside words; adds "the " where the sentence has it.
    """
    for m in _CAPRUN.finditer(sentence, 0, end):
        start = m.start()
        if start and sentence[start - 1].isalnum():
            continue  # a capital inside a word ("McDonald")
        ent = m.group(0)
        head, _, rest = ent.partition(" ")
        if head in _FILLER_CAPS:
            if not rest or not rest[0].isupper():
                continue
            ent, start = rest, start + len(head) + 1
        multi = " " in ent
        if not multi:
            if start == 0 or len(ent) < 3 or ent in _FILLER_CAPS or _DEMONYM.search(ent):
                continue
            if sentence[start - 1] in "\"'\u201c\u2018(\n" or sentence[start - 2 : start - 1] in (".", "!", "?", ":"):
                continue  # a capital that only starts a sentence or a quotation
        ent = ent.rstrip("'\u2019-")
        if ent.endswith(("'s", "\u2019s")):
            ent = ent[:-2]
        if len(ent) < 2:
            continue
        before = sentence[max(0, start - 4) : start].lower()
        if before.endswith(("the ", " a ", " an ")) or before in ("a ", "an "):
            ent = "the " + ent
        yield ent, multi


def first_entity(sentence: str) -> str | None:
    """The first capitalised name in a sentence, with "the " when the sentence uses it ("the Lamb")."""
    for ent, _ in _entities(sentence, 300):
        return ent
    return None


_SUBJECT = re.compile(
    r"((?:(?:The|An|A) )?+[A-Z][\w'\u2019.-]*+(?: (?:of |the |de |von |van )?+[\w'\u2019.-]++){0,4}?)"
    r"(?: ?(,|\() ?(\w+)?| (?:is|was|are|were|has|had|refers|remains|became)\b)"
)
# A first line that is a title: short, capitalised, no sentence punctuation, more text below it.
_HEADING_LINE = re.compile(r"\s*([A-Z][^\n.,!?:;\"]{1,60}?)[ \t]*\n(?=\s*[A-Z\"\u201c])")
_APPOSITIVE = frozenset(
    "known also or commonly officially formally formerly born sometimes often usually better "
    "originally properly called nicknamed".split()
)


def _recurs_mid_sentence(head: str, word: str) -> bool:
    at = head.find(" " + word, 1)
    while at > 0:
        end = at + 1 + len(word)
        if head[at - 1] not in ".!?\"'\u201d\n:;" and not head[end : end + 1].isalnum():
            return True
        at = head.find(" " + word, end)
    return False


def topic_of(text: str, limit: int = 60) -> str | None:
    """A short guess at what a passage is about, or None.

    The subject of the first sentence when it looks like a name or a noun phrase ("Homarus
    gammarus, known as ..." -> "Homarus gammarus"; "The European lobster is ..." -> "the European
    lobster"), else the first multi-word or mid-sentence named entity. Looks only at the start.
    """
    head = text[:300].lstrip(" \t\r\n=\"'")
    heading = _HEADING_LINE.match(head)
    if heading:
        topic = heading.group(1).strip(" =")
        if len(topic) <= limit:
            first = topic.split(None, 1)[0]
            return first.lower() + topic[len(first) :] if first in ("The", "A", "An") else topic
    m = _SUBJECT.match(head)
    if m:
        subject = m.group(1).strip()
        words = subject.split()
        first = words[0]
        ok = first not in _FILLER_CAPS or (first in ("The", "A", "An") and len(words) > 1)
        if ok and m.group(2):  # "X, known as ..." / "X (born ...)" only
            ok = m.group(2) == "(" or (m.group(3) or "").lower() in _APPOSITIVE
            ok = ok and len(words) <= 5
        if ok and len(words) == 1:  # "Lobsters are blue": a name only if it recurs mid-sentence
            ok = _recurs_mid_sentence(head, first)
        if ok and len(subject) <= limit and words[-1] not in ("of", "the", "de"):
            if first in ("The", "A", "An"):
                subject = first.lower() + subject[len(first) :]
            return subject
    single = None  # else the first multi-word name ("the Great Exhibition"), else the first name
    for ent, multi in _entities(head, 200):
        if "\n" in ent or len(ent) > limit:
            continue
        if multi:
            return ent
        if single is None:
            single = ent
    return single


def split_heading(text: str) -> tuple[str | None, str]:
    """A leading title line ("The Wolf and the Lamb\nA Wolf, meeting ...") and the text after it.

    Only a short capitalised line without sentence punctuation, followed by a line that starts
    with a capital or a quotation mark, counts; otherwise (None, text).
    """
    m = _HEADING_LINE.match(text)
    if not m:
        return None, text
    return " ".join(m.group(1).split()), text[m.end() :]


# Sentence boundaries as text.split_sentences finds them (a test holds the two equal on the
# corpus), but faster: the regex consumes the stop instead of looking behind for it, and only
# boundaries after a full stop look at the word before it (an abbreviation or a lone letter, "H.",
# is not the end of a sentence).
_BOUNDARY = re.compile(r"([.!?][\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text.split_sentences`` in ``text``, closing quotes included.

    split_sentences drops closing quotes and brackets after the final stop ('me."' -> 'me.'); these
    spans keep them, and a run of spans sliced from ``text`` keeps the original whitespace between.
    """
    spans = []
    start = len(text) - len(text.lstrip())
    for m in _BOUNDARY.finditer(text):
        p = m.start()
        if text[p] == "." and not (p >= 5 and text[p - 5 : p].isalpha()):  # 5+ letters: no abbreviation
            window = text[max(0, p - 12) : p + 1]
            word = window.rsplit(None, 1)[-1].rstrip(".").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((start, m.end(1)))
        start = m.end()
    end = len(text.rstrip())
    if start < end:
        spans.append((start, end))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of ``text.split_sentences``, each the exact slice of ``text`` (see sentence_spans)."""
    return [text[a:b] for a, b in sentence_spans(text)]


_CLOSERS = frozenset(".!?\"'\u201d\u2019)]")


def group_spans(parts: list[str], rng: random.Random, max_chars: int, spread: float) -> list[tuple[int, int]]:
    """Cut a list of sentences into runs of 1 to ``1 + int(spread)`` sentences, as [i, j) spans.

    A run stops growing at ``max_chars``, but not while it leaves a quotation open or ends without
    a full stop (up to four more units), so that a line of speech split at its inner full stop, or
    a speech that runs on into the next, stays in one piece.
    One ``rng.random()`` call per run.
    """
    out = []
    i, n = 0, len(parts)
    while i < n:
        size = 1 + int(rng.random() * spread)
        part = parts[i]
        j, chars = i + 1, len(part)
        straight = part.count('"')
        curly = part.count("\u201c") - part.count("\u201d") if "\u201c" in part or "\u201d" in part else 0
        while j < n:
            if j - i < size and chars + len(parts[j]) <= max_chars:
                pass
            elif (straight % 2 or curly or part[-1] not in _CLOSERS) and j - i < size + 4:
                pass  # a quotation left open, or a unit that ends mid-sentence ("Human: yep")
            else:
                break
            part = parts[j]
            chars += len(part)
            straight += part.count('"')
            if "\u201c" in part or "\u201d" in part:
                curly += part.count("\u201c") - part.count("\u201d")
            j += 1
        out.append((i, j))
        i = j
    return out


# "First Citizen:" alone on its line (plays) or "Human: text" (transcripts), at the start of a line.
_SPEAKER_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'\u2019.-]*(?: (?:[A-Z][\w'\u2019.-]*|of|the|de|la|le|von|van)){0,4}):(?:[ \t]*\n|[ \t]+(?=\S))",
    re.M,
)
TRANSCRIPT_SPEAKERS = frozenset({"Human", "Assistant", "User", "AI", "Bot", "System", "H", "A"})


def speaker_blocks(text: str) -> list[tuple[str | None, str]] | None:
    """A play or transcript as (speaker, words) blocks; None when the text is not one."""
    matches = list(_SPEAKER_LINE.finditer(text))
    if len(matches) < 2:
        return None
    out: list[tuple[str | None, str]] = []
    pre = text[: matches[0].start()].strip()
    if pre:
        out.append((None, " ".join(pre.split())))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        words = " ".join(text[m.end() : end].split())
        if words:
            out.append((m.group(1), words))
    return out if sum(1 for s, _ in out if s) >= 2 else None


def clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(title.split()).strip(" =")
    return title or None


def _fields(*templates: str) -> frozenset[str]:
    out = set()
    for t in templates:
        for _, name, _, _ in Formatter().parse(t):
            if name is not None:
                out.add(name)
    return frozenset(out)


class Frame:
    """A lead-in and a closing line; ``alt`` replaces ``lead`` when its title or topic is unknown."""

    __slots__ = ("lead", "close", "alt", "roles", "fields", "needs_cast", "optional")

    def __init__(self, lead: str, close: str = "", alt: str | None = None, roles: tuple[str, ...] = ALL_ROLES):
        self.lead, self.close, self.alt, self.roles = lead, close, alt, roles
        self.fields = _fields(lead, close, alt or "")
        self.needs_cast = bool(self.fields - {"title", "topic", "partner", "Partner"})
        self.optional = _fields(lead) & {"title", "topic"}

    def __repr__(self) -> str:
        return f"Frame({self.lead!r})"


# ---------------------------------------------------------------------------------------------
# The frames.  {text} never goes through str.format: the passage is joined in as it is.
# ---------------------------------------------------------------------------------------------

FRAMES: dict[str, tuple[Frame, ...]] = {
    "fiction": (
        Frame(
            "Today I'm reading {title}. Let's start where I left off:",
            "I put the book down for a moment and thought about what I had just read.",
            "Today I'm going back to the story I started yesterday. Let's start where I left off:",
        ),
        Frame(
            "{Cast_} read to me every night before bed, and tonight it was {title}. "
            "I pulled the blanket up to my chin and listened.",
            "When {name} closed the book, I lay awake for a long time with the story still going on in my head.",
            "{Cast_} read to me every night before bed, and tonight it was a story I had never heard before. "
            "I pulled the blanket up to my chin and listened.",
            roles=("mentor", "family"),
        ),
        Frame(
            "The library was nearly empty, and I had a whole table to myself. I opened {title} and began to read.",
            "At closing time the librarian switched off the lights one row at a time, and only then did I look up.",
            "The library was nearly empty, and I had a whole table to myself. "
            "I took a book down almost at random and began to read.",
        ),
        Frame(
            "On the train home I read {title}, my forehead against the window and the fields sliding past.",
            "I nearly missed my stop.",
            "On the train home I read a story someone had left on the seat beside me, "
            "my forehead against the window and the fields sliding past.",
        ),
        Frame(
            "It rained all afternoon, so I curled up in the window seat with {title}.",
            "By the time I looked up, the rain had stopped and the light in the room had changed.",
            "It rained all afternoon, so I curled up in the window seat with a battered book I had found in the attic.",
        ),
        Frame(
            '{Cast_} pressed a book into my hands. "Read this," {he} said, "and then tell me what you think." '
            "It was {title}.",
            "I went to find {name} straight afterwards. I had a great deal to say.",
            '{Cast_} pressed a book into my hands. "Read this," {he} said, "and then tell me what you think."',
            roles=("family", "peer"),
        ),
        Frame(
            "I read {title} aloud to {name}, who kept stopping me to ask what I thought would happen next.",
            "By the end I had stopped guessing and was simply listening to my own voice tell the story.",
            "I read this aloud to {name}, who kept stopping me to ask what I thought would happen next.",
        ),
        Frame(
            "{Cast_} had asked us to read {title} before Monday, so on Sunday evening I finally sat down with it.",
            "I underlined the lines I wanted to ask about in class.",
            "{Cast_} had asked us to read a story before Monday, so on Sunday evening I finally sat down with it.",
            roles=("teacher",),
        ),
        Frame(
            "I read {title} by torchlight under the covers, long after I was supposed to be asleep.",
            "Somewhere in the house a clock struck midnight, and I made myself stop.",
            "I read this by torchlight under the covers, long after I was supposed to be asleep.",
        ),
        Frame(
            "This passage is from {title}, a story I have read more than once. Every time, I notice something new.",
            "This time, what stayed with me was everything the story left unsaid.",
            "This passage is from a story I have read more than once. Every time, I notice something new.",
        ),
        Frame(
            "I sat on a bench in the park with {title} open on my knees, while the pigeons argued at my feet.",
            "When I came to the end, I stayed on the bench a while longer, not quite ready to come back.",
            "I sat on a bench in the park with a book open on my knees, while the pigeons argued at my feet.",
        ),
        Frame(
            "{Cast_} read me this part of {title} in the garden, doing all the voices, "
            "which made me laugh even in the serious parts.",
            "Afterwards we sat without talking for a while, which is something we are both good at.",
            "{Cast_} read this to me in the garden, doing all the voices, "
            "which made me laugh even in the serious parts.",
            roles=("mentor", "family"),
        ),
        Frame(
            "I had brought {title} to the doctor's waiting room, "
            "and the wait turned out to be long enough for a good stretch of it.",
            "When they called my name, I was sorry to stop.",
            "I had brought a book to the doctor's waiting room, "
            "and the wait turned out to be long enough for a good stretch of it.",
        ),
        Frame(
            "Here is the part of {title} I read this morning, before anyone else was awake:",
            "",
            "Here is the part of the story I read this morning, before anyone else was awake:",
        ),
        Frame(
            "{name} and I were reading {title} together, one page each, passing the book back and forth.",
            "We argued about the ending before we had even got there.",
            "{name} and I were reading a story together, one page each, passing the book back and forth.",
            roles=("peer", "family"),
        ),
    ),
    "factual": (
        Frame(
            "{Cast_} handed me an article about {topic} and asked me to read it carefully.",
            "When I finished, {name} asked me what I thought mattered most in it, "
            "and I had to read it again before I could answer.",
            "{Cast_} handed me an article and asked me to read it carefully.",
            roles=("mentor", "teacher"),
        ),
        Frame(
            "I was looking something up for school and ended up reading about {topic} instead.",
            "It wasn't what I had gone looking for, but I'm glad I found it.",
            "I was looking something up for school and ended up reading this instead.",
        ),
        Frame(
            "In the reference room of the library there is an old encyclopedia with a cracked spine. "
            "Today I opened it at the entry on {topic}.",
            "I copied a few lines into my notebook so that I would not forget them.",
            "In the reference room of the library there is an old encyclopedia with a cracked spine. "
            "Today I opened it at random.",
        ),
        Frame(
            "{Cast_} and I disagreed about {topic}, so we looked it up together. This is what we found:",
            "It turned out that neither of us had been entirely right.",
            "{Cast_} and I disagreed about something, so we looked it up together. This is what we found:",
            roles=("peer", "family"),
        ),
        Frame(
            "{Cast_} wrote {topic} on the board and told us to read this before the next lesson.",
            "I wrote down two questions to ask in class.",
            "{Cast_} told us to read this before the next lesson.",
            roles=("teacher",),
        ),
        Frame(
            "At the museum there was a panel of text beside one of the exhibits, "
            "and I read every word of it while the others moved on.",
            "{name} had to come back and find me.",
        ),
        Frame(
            "At breakfast {name} slid the newspaper across the table and tapped one of the columns. "
            '"You\'ll like this," {he} said.',
            "I read it twice, and my toast went cold.",
            roles=("family",),
        ),
        Frame(
            "I wanted to understand {topic} properly, so I sat down with a notebook and read slowly, "
            "one sentence at a time.",
            "Some of it I understood at once. The rest I will come back to.",
            "I wanted to understand this properly, so I sat down with a notebook and read slowly, "
            "one sentence at a time.",
        ),
        Frame(
            "This is from a book {cast_} gave me, the kind with small print and no pictures. "
            "I read it at the kitchen table.",
            "I didn't understand every word, but I understood more than I expected to.",
            roles=("mentor", "family"),
        ),
        Frame(
            "On the long bus ride to the coast I read about {topic} in a magazine someone had left behind.",
            "By the time we arrived, I had read it three times.",
            "On the long bus ride to the coast I read this in a magazine someone had left behind.",
        ),
        Frame(
            "{name} asked me to explain {topic} to {him} tomorrow, so tonight I'm reading up on it.",
            "I think I can do it now, if I go slowly.",
            "{name} asked me to explain this to {him} tomorrow, so tonight I'm reading it carefully.",
            roles=("family", "peer"),
        ),
        Frame("I'm reading about {topic}.", "I want to remember this.", "I'm reading something new today."),
        Frame(
            "The entry was called {title}, and I read it standing at the shelf, because I couldn't wait to sit down.",
            "",
            "I read this standing at the shelf, because I couldn't wait to sit down.",
        ),
        Frame(
            "{Cast_} told me once that the best way to learn something is to read it as if you will have to "
            "teach it tomorrow. So that is how I read this, about {topic}.",
            "Then I closed my eyes and tried to say it back to myself.",
            "{Cast_} told me once that the best way to learn something is to read it as if you will have to "
            "teach it tomorrow. So that is how I read this.",
            roles=("mentor",),
        ),
        Frame(
            "I found this in the non-fiction section, wedged between two much thicker books, "
            "and read it sitting on the floor with my back against the shelves.",
            "Nobody came down that aisle the whole time, and I was glad of it.",
        ),
    ),
    "dialogue": (
        Frame(
            "I'm sitting at the back of the theatre while the actors rehearse. "
            "The director keeps stopping them, but this part they run all the way through:",
            "When they finished, nobody said anything for a moment. Then the director clapped, once.",
        ),
        Frame(
            "{Cast_} and I read this scene from {title} aloud at the kitchen table, taking the parts in turn.",
            "Then we swapped parts and read it again, and it sounded different the second time.",
            "{Cast_} and I read this scene aloud at the kitchen table, taking the parts in turn.",
            roles=("peer", "family"),
        ),
        Frame(
            "I found this conversation written down word for word, and I read it slowly, trying to hear each voice.",
            "I kept thinking about what each of them wanted, and what they left unsaid.",
        ),
        Frame(
            "Our class went to see {title}, and this is the part I keep thinking about:",
            "On the bus home I tried to say some of the lines from memory.",
            "Our class went to see a play, and this is the part I keep thinking about:",
        ),
        Frame(
            "{Cast_} gave me a copy of {title} and asked me to read this scene before rehearsal.",
            "I marked the lines I didn't understand and wrote my questions in the margin.",
            "{Cast_} gave me a copy of the script and asked me to read it before rehearsal.",
            roles=("teacher", "mentor"),
        ),
        Frame(
            "The radio was on in the kitchen, playing {title}, and I stopped what I was doing to listen.",
            "Then the music came in, and the scene was over.",
            "The radio was on in the kitchen, playing a drama, and I stopped what I was doing to listen.",
        ),
        Frame(
            "I'm reading this in bed, out loud but very quietly, so as not to wake anyone.",
            "I like hearing how the words sound when someone actually says them, even if that someone is only me.",
        ),
        Frame(
            "This is a conversation I read today. As I read, I tried to picture the people speaking "
            "and the room around them.",
            "I wonder what they said to each other after the last line.",
        ),
        Frame(
            "{name} reads plays the way some people watch football, loudly and with opinions. "
            "Tonight it was {title}, and I followed along.",
            "Afterwards {name} asked me whose side I was on. I said I needed to read it again before I decided.",
            "{name} reads plays the way some people watch football, loudly and with opinions. "
            "Tonight it was a scene I didn't know, and I followed along.",
            roles=("family", "mentor", "peer"),
        ),
        Frame(
            "At the open rehearsal I sat in the front row with a notebook on my knee.",
            "I noticed how much changed when one of the actors paused before answering.",
        ),
        Frame(
            "I copied out this exchange because I wanted to study how the people in it speak to one another.",
            "Reading it again, I noticed who was listening and who was only waiting for a turn to speak.",
        ),
        Frame(
            "Here is a scene from {title}. I read it twice: once for the story, and once for the voices.",
            "The second time, I heard things I had missed.",
            "Here is a scene I read today. I read it twice: once for the story, and once for the voices.",
        ),
        Frame(
            "In the park, a group of actors was performing under the trees, and I stopped to watch.",
            "When they bowed, I clapped harder than I meant to.",
        ),
    ),
    "other": (
        Frame(
            "I found this scribbled on the back of an envelope, tucked inside a library book:",
            "I wondered who had written it, and whether they ever missed it.",
        ),
        Frame(
            '{Cast_} was clearing out a drawer and handed me this. "See what you make of it," {he} said.',
            "I'm still working out what I make of it.",
            roles=("family", "mentor"),
        ),
        Frame("This was pinned to the noticeboard at the corner shop, and I stopped to read it."),
        Frame(
            "I came across this while I was looking for something else entirely:",
            "That happens to me a lot, and I always stop to read.",
        ),
        Frame(
            "Today I read {title}.",
            "I'm not sure yet what to think of it.",
            "Today I read this.",
        ),
        Frame("I keep a folder of things I find: notes, lists, scraps of writing. This one goes in it."),
        Frame(
            "{Cast_} asked me to read this over and tell {him} whether it made sense.",
            "Some of it did, and the rest we talked through together.",
        ),
        Frame(
            "On the train someone had left a few printed pages on the seat. "
            "I read them while I waited to see if anyone would come back for them.",
            "Nobody did, so I left them where they were for the next person.",
        ),
        Frame("I read this in a waiting room, on a page that had clearly been read by a great many people before me."),
        Frame(
            "Here is something I read today, exactly as I found it:",
            "I copied it out word for word, so that I could think about it properly.",
        ),
        Frame(
            "In the attic, in a box of old papers, I found {title}:",
            "I put it back carefully, just as I had found it.",
            "In the attic, in a box of old papers, I found this:",
        ),
        Frame(
            "I read {title} with {cast}, who had an opinion about every line.",
            "I had opinions too. I'm just slower to say mine out loud.",
            "I read this with {cast}, who had an opinion about every line.",
            roles=("family", "peer"),
        ),
        Frame(
            "{Cast_} read this out to me while I was making tea.",
            "By the time {name} had finished, my tea had gone cold.",
            roles=("family", "mentor"),
        ),
    ),
    # Forms: the passage is already the I's own memory or conversation.
    "experience": (
        Frame("I wrote this down in my journal that evening:"),
        Frame("Some memories stay sharp long after others have faded. This is one of mine:"),
        Frame(
            "Before I could forget, I wrote down everything I could remember about that day:",
            "Reading it back now, I can almost hear the way it was said.",
        ),
        Frame(
            "Someone once asked me where I learned what I know. Part of the answer is a day like this one:",
            "I learned a great many things that way, one patient sentence at a time.",
        ),
        Frame("This is a memory I come back to often.", "I think I understand it a little better every time."),
        Frame(
            "I found this in an old notebook of mine, in handwriting I hardly recognise:",
            "I'm glad I wrote it down.",
        ),
        Frame("Here is how I learned this, as well as I can remember it:"),
        Frame("From my journal, on a rainy Tuesday:"),
    ),
    "social": (
        Frame("This is a conversation I had with {partner}, as close to word for word as I can remember it:"),
        Frame(
            "I wrote down this conversation with {partner} afterwards, so that I wouldn't lose it:",
            "I read it over again before bed.",
        ),
        Frame("Some conversations change the way you see things. This was one of them for me:"),
        Frame(
            "{Partner} and I talked this through one evening. Here is how it went:",
            "I learned as much from the questions as from the answers.",
        ),
        Frame(
            "I remember this exchange almost line by line:",
            "Thinking about it now, I'm grateful for the patience I was shown.",
        ),
        Frame(
            "Here is a conversation I keep coming back to:",
            "Every time I read it, I notice a different question.",
        ),
        Frame("I'm keeping this conversation exactly as it happened, so that I can remember how it felt to learn it."),
    ),
}

_PLAIN = frozenset(GENRES)
_PARTNER_LINE = re.compile(r"^<\|(?!self\|)[a-z]+\|> ([^:\n]{1,60}):", re.M)


def frame_counts() -> dict[str, int]:
    """Number of frames per genre (plain form) and per non-plain form."""
    return {key: len(frames) for key, frames in FRAMES.items()}


def _join(lead: str, text: str, close: str) -> str:
    if not text or text.isspace():
        return lead + ("\n\n" + close if close else "") + text
    before = "" if text.startswith("\n\n") else ("\n" if text.startswith("\n") else "\n\n")
    if not close:
        return lead + before + text
    after = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    return lead + before + text + after + close


class _KeepField(dict):
    """format_map mapping that leaves the fields it does not know ({title}, {topic}) as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# A frame with its cast member filled in, as templates for the fields left ({title}, {topic}, {partner}):
# (lead, close, alt, whether any field is left, template id). Keyed by (frame key, index, person key or None).
_FILLED: dict[tuple[str, int, tuple[str, str, str, str] | None], tuple[str, str, str | None, bool, str]] = {}


def _filled(key: str, index: int, fr: Frame, who: Person | None) -> tuple[str, str, str | None, bool, str]:
    """The frame's texts with ``who`` filled in once: ``format_map`` of what is left with the remaining slots
    gives what one ``format_map`` with all the slots gives (the person's braces are escaped in between)."""
    entry = _FILLED.get((key, index, who.key if who else None))
    if entry is None:
        texts = (fr.lead, fr.close, fr.alt)
        fill = _KeepField({k: v.replace("{", "{{").replace("}", "}}") for k, v in who.slots.items()} if who else {})
        lead, close, alt = (t.format_map(fill) if t else t for t in texts)
        left = bool(fr.fields - set(fill))
        if not left:  # nothing else to fill: undo the escaping now
            lead, close, alt = (t.format_map({}) if t else t for t in (lead, close, alt))
        if len(_FILLED) > 4096:
            _FILLED.clear()
        template = f"perspective/{key}/{index:02d}"
        entry = _FILLED[(key, index, who.key if who else None)] = (lead, close, alt, left, template)
    return entry


def frame(
    text: str,
    genre: str,
    charter: Charter,
    rng: random.Random,
    *,
    title: str | None = None,
    form: str = "plain",
) -> Raised:
    """Wrap ``text`` (kept verbatim) in a first-person lead-in and closing line.

    ``form`` is what ``text`` already is: "plain" (a source passage; the frame depends on
    ``genre``), "experience" (a recounted memory) or "social" (a dialogue with speaker tags).
    """
    if form == "plain":
        if genre not in _PLAIN:
            raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
        key = genre
    elif form in FORMS:
        key = form
    else:
        raise ValueError(f"unknown form {form!r}; expected one of {', '.join(FORMS)}")
    frames = FRAMES[key]
    index = int(rng.random() * len(frames))
    fr = frames[index]
    if fr.needs_cast:
        who = pick_person(charter, rng, fr.roles)
        meta = {"cast": who.name}
    else:
        who, meta = None, {}
    lead, close, alt, left, template = _filled(key, index, fr, who)
    if left:
        slots: dict[str, str] = {}
        optional = fr.optional
        if optional:
            title = clean_title(title)
            if "title" in optional:
                if title is None:
                    lead = alt or lead
                else:
                    slots["title"] = title
            if "topic" in optional:
                topic = title or topic_of(text)
                if topic is None:
                    lead = alt or lead
                else:
                    slots["topic"] = topic
        if key == "social":
            m = _PARTNER_LINE.search(text)
            partner = m.group(1).strip() if m else "someone close to me"
            slots["partner"] = partner
            slots["Partner"] = partner[:1].upper() + partner[1:]
        lead = lead.format_map(slots)
        close = close.format_map(slots) if close else ""
    return Raised(_join(lead, text, close), template, meta)
