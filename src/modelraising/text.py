"""Small, dependency-free text analysis shared by the pillars, the quality gate and the tests.

Heuristics, not NLP models: they need to be fast (millions of documents) and deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelraising.tags import SPEAKER_ROLES

# Chat transcripts: who each speaker label is, as the I names them.
TRANSCRIPT_NAMES = {
    "Human": "the person",
    "User": "the person",
    "H": "the person",
    "Assistant": "the assistant",
    "AI": "the assistant",
    "Bot": "the assistant",
    "A": "the assistant",
    "System": "the system",
}
TRANSCRIPT_SPEAKERS = frozenset(TRANSCRIPT_NAMES)
# "Name:" at a line start ("First Citizen:", "Duke of York:"), then words or a line break: a turn of a play or
# a transcript. _LABEL also takes a label that ends the text (a log saved right after "Assistant:").
_NAME = r"[A-Z][\w'\u2019.-]*(?: (?:[A-Z][\w'\u2019.-]*|of|the|de|la|le|von|van)){0,4}"
SPEAKER_LINE = re.compile(rf"^[ \t]*({_NAME}):(?:[ \t]*\n|[ \t]+(?=\S))", re.M)
_LABEL = re.compile(rf"^[ \t]*({_NAME}):(?:[ \t]*(?:\n|$)|[ \t]+(?=\S))", re.M)


def transcript_turns(text: str) -> list[tuple[str, int, int]] | None:
    """(speaker, where the label starts, where the words start) for each turn of a chat transcript, or None
    when ``text`` is not one: its first label is a transcript speaker's ("Human:"), it has two turns or
    more, and the person speaks. A "Name: ..." line of no transcript speaker ("Pro: ...", "Atropine: ..."
    in an answer's list) belongs to the turn it sits in, as the raising's reading of a chat has it."""
    labels = list(_LABEL.finditer(text)) if ":" in text else []
    if not labels or labels[0].group(1) not in TRANSCRIPT_SPEAKERS:
        return None
    turns = [(m.group(1), m.start(), m.end()) for m in labels if m.group(1) in TRANSCRIPT_SPEAKERS]
    if len(turns) < 2 or not any(TRANSCRIPT_NAMES[name] == "the person" for name, _, _ in turns):
        return None
    return turns


def person_turn_starts(text: str) -> list[int] | None:
    """Where each of the person's turns of a chat transcript starts, or None (:func:`transcript_turns`)."""
    turns = transcript_turns(text)
    return None if turns is None else [at for name, at, _ in turns if TRANSCRIPT_NAMES[name] == "the person"]


ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "jr",
    "sr",
    "prof",
    "gen",
    "col",
    "capt",
    "lt",
    "sgt",
    "mt",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "no",
    "vol",
    "fig",
    "inc",
    "ltd",
    "co",
    "h",
    "u.s",
    "u.k",
    "a.m",
    "p.m",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|I\u2019m|I\u2019ve|I\u2019d|I\u2019ll)\b")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")
# A named entity: a run of capitalised words (allowing "of", "the", "de" inside), e.g. "Black Sea",
# "Bank of England". Sentence-initial single words are only entities if they recur mid-sentence.
_CAPRUN = re.compile(r"\b[A-Z][\w'\u2019-]*(?:\s+(?:(?:of|the|de|von|van|and)\s+)?[A-Z][\w'\u2019-]*)*")
_STOP_CAPS = {
    "I",
    "The",
    "A",
    "An",
    "And",
    "But",
    "Or",
    "If",
    "In",
    "On",
    "At",
    "It",
    "He",
    "She",
    "They",
    "We",
    "You",
    "This",
    "That",
    "These",
    "Those",
    "There",
    "Then",
    "When",
    "While",
    "After",
    "Before",
    "As",
    "For",
    "So",
    "His",
    "Her",
    "Their",
    "Its",
    "My",
    "Our",
    "Your",
    "To",
    "Of",
    "By",
    "With",
    "From",
    "Not",
    "No",
    "Yes",
    "Oh",
    "What",
    "Why",
    "How",
    "Who",
    "Where",
    "Which",
    "Today",
    "One",
    "Some",
    "All",
    "Many",
    "Most",
}
_TURN = re.compile(r"^<\|(?P<role>[a-z]+)\|> (?P<name>[^:\n]{1,60}): (?P<text>.+)$")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences at terminal punctuation, not after common abbreviations."""
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start : m.start()].strip()
        last_word = candidate.rsplit(None, 1)[-1].rstrip(".").lower() if candidate else ""
        if last_word in ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        if candidate:
            pieces.append(candidate)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def first_person_count(text: str) -> int:
    return len(_FIRST_PERSON.findall(text))


def is_first_person(text: str, min_count: int = 1) -> bool:
    """True when the text speaks as "I" (used to check a statement or a raised document)."""
    return first_person_count(text) >= min_count


def numbers(text: str) -> list[str]:
    return [m.group(0).rstrip(",") for m in _NUMBER.finditer(text)]


def named_entities(text: str) -> list[str]:
    """Capitalised multi-word names and capitalised words that are not sentence-initial filler."""
    found: list[str] = []
    seen: set[str] = set()
    for m in _CAPRUN.finditer(text):
        entity = m.group(0).strip()
        head = entity.split()[0]
        if head in _STOP_CAPS:
            entity = entity[len(head) :].strip()
            if not entity or not entity[0].isupper():
                continue
        if len(entity) < 2 or entity in _STOP_CAPS or entity.isupper() and len(entity) > 12:
            continue
        if entity not in seen:
            seen.add(entity)
            found.append(entity)
    return found


@dataclass(frozen=True)
class Turn:
    role: str
    name: str
    text: str


def format_turn(role: str, name: str, utterance: str) -> str:
    if role not in SPEAKER_ROLES:
        raise ValueError(f"unknown speaker role {role!r}; expected one of {', '.join(SPEAKER_ROLES)}")
    return f"<|{role}|> {name}: {one_line(utterance)}"


def one_line(text: str) -> str:
    """``" ".join(text.split())``: whitespace runs as single spaces, none at the ends (one line).

    A printable text holds no whitespace but the plain space, so one without double or outer spaces is
    returned as it is, without splitting it.
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def parse_turns(text: str) -> list[Turn]:
    """Speaker turns of a raised dialogue (lines ``<|role|> Name: utterance``); other lines are ignored."""
    turns = []
    for line in text.splitlines():
        m = _TURN.match(line.strip())
        if m and m.group("role") in SPEAKER_ROLES:
            turns.append(Turn(m.group("role"), m.group("name"), m.group("text")))
    return turns


def normalize_ws(text: str) -> str:
    return " ".join(text.split())
