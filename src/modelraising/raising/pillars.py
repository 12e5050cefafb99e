"""The table of pillars: what composition, the config, the teacher engine, its prompts and gate, the
ablation arms and the CLI read.

Each pillar is one module exporting ``PILLAR`` (:class:`~modelraising.raising.base.Pillar`). Order is
canonical: a config's pillars are listed in it, and the ablation arms follow it. Adding a pillar (a
form): write its module and add it to :data:`BUILTIN`; a pillar from outside the package calls
:func:`register`. The teacher prompt is ``data/prompts/<name>.j2`` where one ships, else the pillar's
``prompt``.
"""

from __future__ import annotations

from modelraising.raising import experience, perspective, social, values
from modelraising.raising.base import PLAIN, Pillar

BUILTIN: tuple[Pillar, ...] = (perspective.PILLAR, experience.PILLAR, social.PILLAR, values.PILLAR)
# The plain form: how strongly each kind of passage leans to being quoted as it is, and its default share.
PLAIN_LEAN = {"expository": 1.0, "story": 1.0, "narrated": 1.2, "play": 1.0, "chat": 1.0, "post": 1.0, "note": 1.0}
PLAIN_MIX = 0.4

_TABLE: dict[str, Pillar] = {p.name: p for p in BUILTIN}


def register(pillar: Pillar) -> Pillar:
    """Add a form pillar from outside the package for this process (before the values pillar in order)."""
    if pillar.role != "form":
        raise ValueError(f"pillar {pillar.name!r}: only form pillars can be added (the frame and values are one each)")
    if pillar.name == PLAIN or pillar.write is None:
        raise ValueError(f"pillar {pillar.name!r}: a form needs a name other than {PLAIN!r} and a write function")
    rest = {n: p for n, p in _TABLE.items() if n != pillar.name}
    order = (
        [p for p in rest.values() if p.role != "values"] + [pillar] + [p for p in rest.values() if p.role == "values"]
    )
    _TABLE.clear()
    _TABLE.update((p.name, p) for p in order)
    return pillar


def unregister(name: str) -> None:
    if name in _TABLE and _TABLE[name] not in BUILTIN:
        del _TABLE[name]


def pillar_names() -> tuple[str, ...]:
    return tuple(_TABLE)


def get_pillar(name: str) -> Pillar:
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"unknown pillar {name!r} (known: {', '.join(_TABLE)})") from None


def form_pillars() -> tuple[Pillar, ...]:
    return tuple(p for p in _TABLE.values() if p.role == "form")


def form_names() -> tuple[str, ...]:
    """Every form a passage can take: plain first, then the form pillars."""
    return (PLAIN, *(p.name for p in form_pillars()))


def default_mix() -> dict[str, float]:
    return {**{p.name: p.mix for p in form_pillars()}, PLAIN: PLAIN_MIX}


def lean(form: str, kind: str) -> float:
    """How strongly a kind of passage leans to a form (multiplies the configured mix); 0: it never fits."""
    table = PLAIN_LEAN if form == PLAIN else _TABLE[form].lean
    return table.get(kind, table.get("note", 0.0))
