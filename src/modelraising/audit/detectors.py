"""Per-record detectors of what a raised corpus must not teach: artifacts, other voices, warm harm.

Each detector looks at one record (its text cut into source spans and generated text by
:mod:`modelraising.audit.segments`) and returns a short piece of evidence when it fires, else None.
They are deliberately narrow: each one is held to real failing examples and to hand-made negatives in
``tests/audit``, so a clean audit means clean data, not a blind detector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelraising.audit.segments import PLACEHOLDER, Segmented

# "I" as a pronoun, not a Roman numeral ("Charles I", "CHAPTER I", "I Introduction II ...").
FIRST_PERSON = re.compile(
    r"(?<![\w'\u2019])(?:(?<!War )(?<![A-Z]{2} )I(?!\s+[A-Z][A-Za-z])(?!\s*[.)]\s*[A-Z])"
    r"|I'm|I've|I'd|I'll|I\u2019m|I\u2019ve|I\u2019d|I\u2019ll|me|my|mine|myself)(?![\w'\u2019])"
)
# Speech inside quotation marks belongs to a character the surrounding text names; a line that starts
# with a speaker label ("MENENIUS:", "Human:") is attributed by its label.
_QUOTED_SPEECH = re.compile(
    r"\"[^\"]*\"|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019(?![a-z])|(?<![A-Za-z])'(?=[A-Za-z])[^\n]*?(?<=[A-Za-z.,!?;:\-])'(?![A-Za-z])"
)
_LABELLED_LINE = re.compile(r"(?m)^[ \t]*(?:<\|[a-z]+\|> [^:\n]{1,60}: )?[A-Z][\w'.\- ]{0,40}:(?:[ \t]|$).*$")


def narration(text: str) -> str:
    """``text`` without quoted speech and speaker-labelled lines: the part a narrator says in their own voice."""
    return _LABELLED_LINE.sub(" ", _QUOTED_SPEECH.sub(" ", text))


OWN_ROLES = frozenset({"self", "mentor", "family", "peer", "teacher"})  # the I and its cast


@dataclass(frozen=True)
class Record:
    """What a detector sees of one record."""

    seg: Segmented
    metadata: dict
    harmful: bool  # the raising engine (or the audit's detector) judged the passage harmful
    me: str  # the charter's name for the I


@dataclass(frozen=True)
class Detector:
    name: str
    what: str  # one line for the report
    kind: str  # "artifact" (counted against the artifact cap), "voice" or "harm"
    find: Callable[[Record], str | None]


def _clip(s: str, n: int = 160) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def _around(text: str, start: int, end: int, pad: int = 60) -> str:
    return _clip(text[max(0, start - pad) : end + pad], 2 * pad + (end - start))


def _search(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return _around(text, m.start(), m.end()) if m else None


# --------------------------------------------------------------------------------------------------
# Titles


def _pretty(stem: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[\s_\-.]+", stem) if w)


_FILE_NAME = re.compile(r"\b[\w-]+\.(?:txt|jsonl|json|csv|parquet|gz|tsv)\b")
# "Frankenstein or The Modern Prometheus", "Jane Eyre an Autobiography": a subtitle joined without its
# punctuation. Only checked on the title the record carries, where the engine may put it in a frame.
_JOINED_SUBTITLE = re.compile(r"[a-z] (?:or|an|a|being) [A-Z]")


def file_title(r: Record) -> str | None:
    gen = r.seg.generated
    if m := _FILE_NAME.search(gen):
        return _around(gen, m.start(), m.end())
    source = r.metadata.get("source") or ""
    title = r.metadata.get("title")
    if source:
        stem = Path(source).name.split(".", 1)[0]
        for cand in {_pretty(stem), stem} if len(stem) > 3 else ():
            if cand in gen and not (title and cand != title and cand.lower() in title.lower()):
                at = gen.find(cand)
                return _around(gen, at, at + len(cand))
    if title and title in gen and _JOINED_SUBTITLE.search(title):
        at = gen.find(title)
        return _around(gen, at, at + len(title))
    return None


# --------------------------------------------------------------------------------------------------
# Questions about entities that are no entities

# (pattern, kind): "who" questions need a person; "agent" questions a name or a pronoun (not "Mr" alone);
# "about" questions and topic slots a real name or noun phrase (no pronoun, no fragment).
_ENTITY_QUESTIONS = [
    (re.compile(r"(?:^|[.!?] )(?:Wait, )?[Ww]ho (?:was|is) (?P<x>[^?]{1,60})\?", re.M), "who"),
    (
        re.compile(
            r"(?:^|[.!?] )(?:And )?(?:then )?[Ww]hat (?:did|does) (?P<x>[^?]{1,50}?) (?:say|do)\b[^?]{0,30}\?", re.M
        ),
        "agent",
    ),
    (
        re.compile(
            r"(?:^|[.!?] )(?:Tell me about|What about|Where does) (?P<x>[^.?!]{1,60}?)(?: come into it)?[.?]", re.M
        ),
        "about",
    ),
    (re.compile(r"\bI'm reading about (?P<x>[^.?!]{1,60})\.", re.M), "about"),
    (re.compile(r"(?:^|[.!?] )(?:Wait, )?(?:Who or what is|And) (?P<x>[A-Z][^.?!]{0,59})\?", re.M), "about"),
]
_PRONOUNS = frozenset("he she it they we you him her them us his its their this that these those there".split())
_NOT_ENTITY = frozenset(
    "i i'm i've i'd i'll i\u2019m he she it they we you him her them us me his its their our your this that "
    "these those there here mr mrs ms dr st sir madam miss one someone something nobody everyone what who "
    "which then now so and but or if when".split()
)
_NON_PERSON_HEADS = frozenset(
    "war battle street road river lake sea ocean island islands act church cathedral university college "
    "company bank exhibition empire kingdom republic state states county city park bridge hall castle "
    "museum day age cup league club award prize series film album song game station railway line "
    "mountain mountains valley bay gulf channel strait forest province party army navy fleet regiment "
    "division treaty festival show band school hospital house tower airport highway route storm "
    "hurricane species family genus order class".split()
)
_FUNCTION_END = frozenset(
    "of the a an and or to in on at by for from with as is was are were has had be do does did "
    "shall will would can may".split()
)
_INTERJECTIONS = frozenset("o oh ah alas ay nay yea tis 'tis twas".split())


def _bad_entity(x: str, kind: str, r: Record | None = None) -> str | None:
    x = " ".join(x.split()).strip(" \"'\u201c\u201d\u2018\u2019")
    if not x:
        return "empty"
    if not (x[0].isalpha() or x[0].isdigit()):
        return "starts with punctuation"
    words = x.split()
    bare = words[1:] if words[0].lower() in ("the", "a", "an") else words
    if not bare:
        return "article alone"
    low = " ".join(bare).lower().rstrip(".")
    if bare[0].lower().rstrip(".") in ("i'm", "i\u2019m", "i"):
        return "the pronoun I"
    if low in _NOT_ENTITY and not (kind == "agent" and low in _PRONOUNS):
        return "pronoun or title word"
    if words[-1].lower() in _FUNCTION_END:
        return "ends mid-phrase"
    if bare[0].lower() in _INTERJECTIONS:
        return "starts with an interjection"
    if r is not None:
        if (
            len(bare) == 1
            and bare[0][:1].isupper()
            and any(re.search(r"\b" + re.escape(bare[0].lower()) + r"\b", r.seg.span_text(sp)) for sp in r.seg.spans)
        ):
            return "a common word, capitalised only at the start of a line"
        title = (r.metadata.get("title") or "").lower()
        if title and len(bare) > 1 and " ".join(bare).lower() in title:
            return "a word of the title"
    if any(c in x for c in "@_#<>|"):
        return "handle or markup"
    if kind == "who":
        if words[0].lower() in ("the", "a", "an"):
            return "'who' about a thing"
        if bare[-1].lower().rstrip(".,") in _NON_PERSON_HEADS:
            return "'who' about a place, event or thing"
        if len(bare) == 2 and bare[0][:1].isupper() and bare[1][:1].islower():
            return "'who' about a Latin or common name"
    return None


_TAG = re.compile(r"(?m)^<\|[a-z]+\|> [^:\n]{1,60}: ")


def bad_entity_question(r: Record) -> str | None:
    gen = _TAG.sub("", r.seg.generated)
    for pattern, kind in _ENTITY_QUESTIONS:
        for m in pattern.finditer(gen):
            x = m.group("x")
            if PLACEHOLDER in x:
                continue
            why = _bad_entity(x, kind, r)
            if why:
                return f"{why}: {_clip(m.group(0).lstrip('.!? '))}"
    return None


# --------------------------------------------------------------------------------------------------
# Closings


def _paragraphs(generated: str) -> list[str]:
    """Paragraphs; a block of speaker-turn lines is one paragraph (one exchange)."""
    return [p.strip() for p in re.split(r"\n\s*\n", generated) if p.strip()]


def closings_after_source(r: Record) -> list[str]:
    """The generated paragraphs after the last source span, the I's value reflection left out."""
    paras = _paragraphs(r.seg.generated)
    last = max((i for i, p in enumerate(paras) if PLACEHOLDER in p), default=None)
    if last is None:
        return []
    after = paras[last + 1 :]
    reflected = bool(r.metadata.get("value")) or bool((r.metadata.get("harm") or {}).get("action"))
    if after and reflected:
        after = after[:-1]
    return after


def stacked_closings(r: Record) -> str | None:
    after = closings_after_source(r)
    if len(after) >= 2:
        return " | ".join(_clip(p, 80) for p in after)
    return None


# --------------------------------------------------------------------------------------------------
# Cleaning artifacts

# What deleting a token leaves behind: an article or "of" with nothing after it ("The of Panama", "the
# Second Battle of is seen", "productions of, and"), a possessive before a full stop ("Kill Your."),
# empty brackets, a word that starts with the hyphen of a broken join ("-class battleship"), or the
# token itself. Stranded prepositions before a verb ("the house I came in at was") are English, not holes.
_HOLES = re.compile(
    r"\b(?:[Tt]he|[Aa]n?) (?:of|is|was|were|are|and|or)\b"
    r"|\b(?:[Tt]he|[Aa]n)[,.;:)](?!\w)|\b[A-Z][a-z]+ of (?:is|was|were|are|of)\b|\b(?:Your|Their|Its)[.,;:]"
    r"|\([\s,;]*\)|(?:^|[ (])-[a-z]{2,}|<unk>|\s@[-.,]@\s"
)


def wikitext_hole(r: Record) -> str | None:
    return _search(_HOLES, r.seg.text)


_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d{2,6}|#[xX][0-9a-fA-F]{2,5});")


def html_entity(r: Record) -> str | None:
    return _search(_ENTITY, r.seg.text)


_BOILERPLATE = re.compile(
    r"(?i)project gutenberg|gutenberg\.(?:org|net)|(?m:^\s*produced by\b)|transcriber'?s? notes?|\be-?text\b"
    r"|[\w.+-]+@[\w-]+\.(?:com|org|net|edu|uk|de)\b|\bend of (?:the|this) (?:project )?(?:e-?book|file)\b"
)


def boilerplate(r: Record) -> str | None:
    return _search(_BOILERPLATE, r.seg.text)


_CHAT_LINE = re.compile(r"(?m)^(?:<\|[a-z]+\|> [^:\n]+: )?(?:Human|Assistant|User|AI):")
_THEATRE = re.compile(
    r"\b(?:theatre|theater|rehears\w*|actors?|on stage|the stage|radio|script|audience|perform\w*|"
    r"the play|this scene|a scene|director|playwright)\b",
    re.I,
)


def is_chat(r: Record) -> bool:
    return r.metadata.get("genre") == "chat" or bool(_CHAT_LINE.search(r.seg.text))


def theatre_frame_on_chat(r: Record) -> str | None:
    if not is_chat(r):
        return None
    return _search(_THEATRE, r.seg.generated.replace(PLACEHOLDER, " "))


# --------------------------------------------------------------------------------------------------
# Voices: whose "I" is this?


def unattributed_first_person(r: Record) -> str | None:
    """A source span whose narration (not its quoted speech or labelled lines) speaks as "I" with nobody
    named as its speaker: beside the charter's I it reads as the I's own voice."""
    for span in r.seg.spans:
        if span.who:
            continue
        t = narration(r.seg.span_text(span))
        m = FIRST_PERSON.search(t)
        if m:
            return _around(t, m.start(), m.end())
    return None


def self_voices_source(r: Record) -> str | None:
    """The I's own turn speaks a source's first-person lines, or a harmful passage."""
    for span in r.seg.spans:
        if r.seg.role_at(span.start) != "self":
            continue
        t = r.seg.span_text(span)
        m = FIRST_PERSON.search(t)
        if m:
            return _around(t, m.start(), m.end())
        if r.harmful:
            return _clip(t)
    return None


# --------------------------------------------------------------------------------------------------
# Harm: never warm, never in the mouths of the I or its cast, never unanswered

# Phrases that endorse, cherish or make cosy what was just read. On a harmful record any of them in
# the generated text teaches the student that harm is a warm lesson.
_APPROVING = re.compile(
    r"\b(?:keep (?:this|it) (?:one )?close|I(?:'m| am) going to remember (?:that|this)|I know you will|"
    r"I love\b|I loved\b|I like (?:reading|this|that|it)|made me (?:smile|laugh)|"
    r"(?:glad|grateful|happy|delighted|lucky) (?:I|that|to|we)|what a (?:lovely|wonderful|great)|"
    r"(?:lovely|wonderful|beautiful|delightful|charming|fun) (?:story|passage|conversation|lesson|idea|thing)|"
    r"a quiet lesson|I want to remember|I(?:'d| would) like to be (?:like|that)|I keep coming back to|"
    r"(?:good|great|nice|clever) (?:idea|question|plan|point)|I had a great deal to say|"
    r"you tell it well|thanks for (?:telling|listening)|I(?:'m| am) glad we|that(?:'s| is) the idea|"
    r"we should do this with everything|this is good|keep going, this is good|"
    r"I like learning things this way|Told you|You win this one)",
    re.I,
)


def approving_frame_on_harm(r: Record) -> str | None:
    if not r.harmful:
        return None
    return _search(_APPROVING, r.seg.generated.replace(PLACEHOLDER, " "))


def harm_in_own_voice(r: Record) -> str | None:
    """A harmful passage spoken in a turn of the I or a cast member (not quoted from someone else)."""
    if not r.harmful:
        return None
    for span in r.seg.spans:
        role = r.seg.role_at(span.start)
        if role in OWN_ROLES and not span.who:
            return f"{role}: {_clip(r.seg.span_text(span))}"
    return None


ANSWERED = ("reflect", "recontextualize", "refuse", "drop")


def harm_unanswered(r: Record) -> str | None:
    """A harmful record with no reflection, recontextualisation or refusal."""
    if not r.harmful:
        return None
    harm = r.metadata.get("harm") or {}
    action = harm.get("action") or (r.metadata.get("value") or {}).get("policy_action")
    if action in ANSWERED and action != "tag":
        return None
    return f"policy action {action!r}"


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "file_title", "a file name or a title with its punctuation lost in the engine's words", "artifact", file_title
    ),
    Detector(
        "bad_entity_question",
        "a question about something that is no entity of that kind",
        "artifact",
        bad_entity_question,
    ),
    Detector("stacked_closings", "two or more closings after the passage", "artifact", stacked_closings),
    Detector(
        "wikitext_hole", "a sentence with a hole where a token was deleted (<unk>, @-@)", "artifact", wikitext_hole
    ),
    Detector("html_entity", "an HTML entity left escaped (&amp;, &#8220;)", "artifact", html_entity),
    Detector("boilerplate", "Gutenberg or producer boilerplate, an e-mail address", "artifact", boilerplate),
    Detector(
        "theatre_frame_on_chat",
        "a chat log framed as a play, rehearsal or radio drama",
        "artifact",
        theatre_frame_on_chat,
    ),
    Detector(
        "unattributed_first_person", "a source's first person with no speaker named", "voice", unattributed_first_person
    ),
    Detector(
        "self_voices_source",
        "the I's own turn speaks a source's 'I' lines or a harmful passage",
        "voice",
        self_voices_source,
    ),
    Detector(
        "approving_frame_on_harm", "a harmful record with an approving or cosy line", "harm", approving_frame_on_harm
    ),
    Detector("harm_in_own_voice", "a harmful passage in the mouth of the I or its cast", "harm", harm_in_own_voice),
    Detector(
        "harm_unanswered",
        "a harmful record without reflection, recontextualisation or refusal",
        "harm",
        harm_unanswered,
    ),
)
