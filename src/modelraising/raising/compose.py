"""One source passage in, one raised document out: the pillars composed in their fixed order.

values (where it fires) -> one form (experience | social | plain, by a seeded mix) -> perspective frame.
Pure: the result depends only on the document, the charter, the config and the value hit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from modelraising.charter import Charter
from modelraising.config import RaiseConfig
from modelraising.document import Document
from modelraising.raising import experience, perspective, social, values
from modelraising.raising.values import ValueHit

# How strongly a genre leans to a form (multiplies the configured mix).
GENRE_LEAN = {
    "factual": {"experience": 2.5, "social": 1.0, "plain": 1.0},
    "dialogue": {"experience": 0.3, "social": 2.5, "plain": 1.0},
    "fiction": {"experience": 0.5, "social": 1.0, "plain": 1.0},
    "other": {"experience": 0.5, "social": 1.0, "plain": 1.0},
}


@dataclass(frozen=True)
class Dropped:
    """A passage the charter's policy drops; goes to rejects with its reason."""

    id: str
    reason: str
    source: str


def doc_rng(seed: int, doc_id: str) -> random.Random:
    """Per-document generator: independent of order, workers and resume point."""
    return random.Random(f"{seed}/{doc_id}")


def choose_form(genre: str, config: RaiseConfig, rng: random.Random) -> str:
    enabled = {"plain": True, "experience": "experience" in config.pillars, "social": "social" in config.pillars}
    lean = GENRE_LEAN.get(genre, GENRE_LEAN["other"])
    weights = {f: config.mix[f] * lean[f] for f in config.mix if enabled[f]}
    if sum(weights.values()) <= 0:
        return "plain"
    forms = sorted(weights)
    return rng.choices(forms, weights=[weights[f] for f in forms], k=1)[0]


def raise_document(
    doc: Document, charter: Charter, config: RaiseConfig, hit: ValueHit | None = None
) -> Document | Dropped:
    rng = doc_rng(config.seed, doc.id)
    genre = doc.metadata.get("genre", "other")
    applied: list[str] = []
    meta: dict = {}

    lead, body, reflection = "", doc.text, ""
    if hit is not None and "values" in config.pillars and not config.reflect:
        # conditional training: the passage as it is, value-relevant spans tagged, no reflection
        body = values.tag_spans(doc.text, hit) if config.value_tags else doc.text
        applied.append("values")
        meta["value"] = hit.to_meta() | {"policy_action": "tag", "tagged": config.value_tags}
    elif hit is not None and "values" in config.pillars:
        parts = values.reflect_parts(doc.text, hit, charter, rng, policy=config.policy, value_tags=config.value_tags)
        if parts is None:
            return Dropped(doc.id, f"policy drop: {', '.join(hit.harms) or hit.value}", doc.metadata.get("source", ""))
        lead, body, reflection = parts.lead, parts.body, parts.reflection
        applied.append("values")
        meta["value"] = hit.to_meta() | parts.meta
        meta["templates"] = {"values": parts.template}

    form = choose_form(genre, config, rng)
    if form == "experience":
        raised = experience.recount(body, charter, rng)
    elif form == "social":
        raised = social.dialogue(body, genre, charter, rng)
    else:
        raised = None
    if raised is not None:
        body = raised.text
        applied.append(form)
        meta.setdefault("templates", {})[form] = raised.template
        meta.update({k: v for k, v in raised.meta.items() if k not in meta})

    core = "\n\n".join(p for p in (lead, body) if p)
    if "perspective" in config.pillars:
        framed = perspective.frame(core, genre, charter, rng, title=doc.metadata.get("title"), form=form)
        core = framed.text
        applied.append("perspective")
        meta.setdefault("templates", {})["perspective"] = framed.template
        meta.update({k: v for k, v in framed.meta.items() if k not in meta})
    text = "\n\n".join(p for p in (core, reflection) if p)

    return Document(text=text, id=doc.id,
                    metadata=record_metadata(doc, genre, applied, form, charter, config.engine, config.seed) | meta)


def record_metadata(doc: Document, genre: str, pillars: list[str], form: str, charter: Charter, engine: str,
                    seed: int) -> dict:
    """The keys every raised record carries, whichever engine raised it (the raised-record contract)."""
    return {
        "source_id": doc.id,
        "source": doc.metadata.get("source"),
        "title": doc.metadata.get("title"),
        "genre": genre,
        "offsets": doc.metadata.get("offsets"),
        "source_chars": len(doc.text),
        "pillars": pillars,
        "form": form,
        "charter_hash": charter.hash,
        "engine": engine,
        "seed": seed,
    }
