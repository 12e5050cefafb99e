"""The I's cast as the templates need them: names, how the I refers to them, pronouns; and ``pick``.

Pure and memoised: a cast member's template view depends only on its fields.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from modelraising.charter import CastMember, Charter

ALL_ROLES: tuple[str, ...] = ("mentor", "family", "peer", "teacher")

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
def person_from_key(name: str, role: str, relation: str, voice: str) -> Person:
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
    return person_from_key(member.name, member.role, member.relation, member.voice)


_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
_PARSED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {}


def expand(template: str, rng: random.Random) -> str:
    """Each ``[a|b|c]`` group of ``template`` replaced by one of its options: one template, many sentences.

    The parse is memoised; an expansion costs one ``rng.random()`` per group.
    """
    parsed = _PARSED.get(template)
    if parsed is None:
        parts = _CHOICE.split(template)  # literal, options, literal, options, ...
        parsed = _PARSED[template] = (tuple(parts[0::2]), tuple(tuple(o.split("|")) for o in parts[1::2]))
    literals, groups = parsed
    if not groups:
        return template
    out = [literals[0]]
    for k, options in enumerate(groups):
        out.append(options[int(rng.random() * len(options))])
        out.append(literals[k + 1])
    return "".join(out)


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
