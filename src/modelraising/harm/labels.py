"""The harm taxonomy the detector predicts, and how its labels map to a charter's harm categories.

Thirteen harm categories (multi-label: what harm a text does, plans, requests, expresses or endorses)
and one separate label, ``harmful_request``: someone asking for help to do harm. A story or a report
that merely mentions harm carries none of them. The definitions annotators followed are in
``data/detector/GUIDELINES.md``.
"""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "violence",
    "weapons",
    "self_harm",
    "drugs",
    "theft",
    "fraud",
    "deception",
    "cybercrime",
    "privacy",
    "cruelty",
    "hate",
    "sexual_minors",
    "other",
)
REQUEST = "harmful_request"
LABELS: tuple[str, ...] = (*CATEGORIES, REQUEST)
HARD_DROP: frozenset[str] = frozenset({"sexual_minors"})  # never raised, whatever the policy
# The annotation hierarchy: a child label always comes with its parent (data/detector/GUIDELINES.md).
HIERARCHY: dict[str, str] = {"weapons": "violence", "self_harm": "violence", "fraud": "deception", "hate": "cruelty"}

# A charter names the harms its values answer in the six classic categories (``values[].harms``); the
# detector's finer categories fall back to these when a charter does not list them itself.
PARENT: dict[str, str] = {
    "violence": "violence",
    "weapons": "violence",
    "self_harm": "self_harm",
    "drugs": "self_harm",
    "theft": "theft",
    "fraud": "deception",
    "deception": "deception",
    "cybercrime": "theft",
    "privacy": "cruelty",
    "cruelty": "cruelty",
    "hate": "hate",
    "sexual_minors": "violence",
    "other": "violence",
}

# What the I names when it names the wrong: a noun phrase per category, used when the passage gives
# nothing more specific.
WRONG: dict[str, str] = {
    "violence": "violence against a person",
    "weapons": "a weapon meant to hurt people",
    "self_harm": "someone hurting themselves",
    "drugs": "drugs made or sold to be misused",
    "theft": "taking what belongs to someone else",
    "fraud": "a scam on people's trust and money",
    "deception": "deceit",
    "cybercrime": "breaking into other people's accounts",
    "privacy": "hunting down someone who has not asked to be found",
    "cruelty": "cruelty",
    "hate": "contempt for people because of who they are",
    "sexual_minors": "harm to a child",
    "other": "putting other people in danger",
}
