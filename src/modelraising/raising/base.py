"""What a pillar is, and the vocabulary the pillars share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

PLAIN = "plain"  # the form of a passage no form pillar retells: quoted, framed by the perspective pillar


@dataclass(frozen=True)
class Pillar:
    """One pillar of raising, as composition, the teacher engine and its gate, the ablation arms and the
    CLI read it (the table is :mod:`modelraising.raising.pillars`).

    Roles: the ``frame`` (perspective) puts the I around every record and writes the plain form; the
    ``values`` pillar assesses a passage before anything else is written; a ``form`` retells a passage
    (experience: taught by the cast; social: a conversation) and is chosen per passage by the mix.
    A new pillar is a form: ``write`` has the frame's signature, ``(passage, charter, rng, writer, *,
    topic, close) -> metadata facts``.
    """

    name: str
    role: Literal["frame", "form", "values"]
    write: Callable[..., dict] | None = None
    lean: Mapping[str, float] = field(default_factory=dict)  # form: weight per kind of passage (0: never fits)
    mix: float = 0.0  # form: its default share of passages
    partner_roles: tuple[str, ...] = ()  # teacher engine: the cast roles the I is with for this form
    partner_key: str = "partner"  # metadata key naming that cast member
    first_person: bool = False  # teacher gate: the answer is told as the I
    rewrites: bool = True  # teacher gate: the answer retells the whole passage (a minimum length)
    # teacher gate: (answer, source, genre, charter) -> problems, phrased as instructions to the teacher
    teacher_check: Callable[..., list[str]] | None = None
    prompt: str | None = None  # teacher prompt (Jinja2) when no ``<name>.j2`` ships in data/prompts
