"""One source passage in, one raised document out: the pillars composed in their fixed order.

values (where it fires) -> one form (experience | social | plain, by a seeded mix) -> perspective frame.
Pure: the result depends only on the document, the charter, the config and the value hit.
"""

from __future__ import annotations

import random
import struct
from bisect import bisect
from dataclasses import dataclass
from hashlib import blake2b
from itertools import chain

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


# One blake2b-512 digest gives eight draws: the low 52 bits of each 64-bit word become the mantissa of a
# float in [1, 2) (exponent bits set with one mask over all eight words), minus 1.
_UNPACK = struct.Struct("<8d").unpack
_MANTISSAS = int.from_bytes(b"\xff\xff\xff\xff\xff\xff\x0f\x00" * 8, "little")
_ONES = int.from_bytes(b"\x00\x00\x00\x00\x00\x00\xf0\x3f" * 8, "little")
_MINUS_ONE = (-1.0).__add__
_BITS = 4503599627370496.0  # 2**52: a draw times this is an exact 52-bit integer


def _floats(digest: bytes) -> tuple[float, ...]:
    """Eight floats in [1, 2) from a 64-byte digest."""
    return _UNPACK(((int.from_bytes(digest, "little") & _MANTISSAS) | _ONES).to_bytes(64, "little"))


def _more(key: bytes):
    """Draws after the first eight: digests of the key salted with a counter."""
    for counter in range(1, 1 << 64):
        yield from _floats(blake2b(key, digest_size=64, salt=counter.to_bytes(16, "little")).digest())


class DocRandom:
    """The per-document generator: a deterministic stream of floats in [0, 1) from a hash of its key.

    Seeding a Mersenne Twister costs ~4 µs, more than most documents spend drawing from it (most draw
    fewer than ten times); this stream costs one blake2b digest per eight draws (52 random bits each)
    and starts in ~1.5 µs. It offers the ``random.Random`` methods the pillars use (``random``,
    ``getrandbits``, ``choice``, ``choices``, ``sample``, ``randrange``, ``randint``, ``shuffle``,
    ``uniform``), with their algorithms, on this stream. The output depends only on the key: the same on
    every platform, in every process and at every resume point.
    """

    __slots__ = ("random",)

    def __init__(self, key: str):
        data = key.encode("utf-8")
        first = _floats(blake2b(data, digest_size=64).digest())
        # random() is the __next__ of a lazy C pipeline: no Python frame per draw.
        self.random = map(_MINUS_ONE, chain(first, _more(data))).__next__

    def getrandbits(self, k: int) -> int:
        bits, got = 0, 0
        while got < k:
            bits = (bits << 52) | int(self.random() * _BITS)
            got += 52
        return bits >> (got - k)

    _randbelow = random.Random._randbelow_with_getrandbits
    choice = random.Random.choice
    choices = random.Random.choices
    sample = random.Random.sample
    randrange = random.Random.randrange
    randint = random.Random.randint
    shuffle = random.Random.shuffle
    uniform = random.Random.uniform


def doc_rng(seed: int, doc_id: str) -> DocRandom:
    """Per-document generator: independent of order, workers and resume point."""
    return DocRandom(f"{seed}/{doc_id}")


# (config, its mix and pillars when the table was made, {genre: (forms, cumulative weights, total)})
_FORM_TABLES: dict[int, tuple[RaiseConfig, dict, list, dict]] = {}


def _form_table(genre: str, config: RaiseConfig) -> tuple[list[str], list[float], float]:
    entry = _FORM_TABLES.get(id(config))
    if entry is None or entry[0] is not config or entry[1] != config.mix or entry[2] != config.pillars:
        if len(_FORM_TABLES) > 64:
            _FORM_TABLES.clear()
        entry = _FORM_TABLES[id(config)] = (config, dict(config.mix), list(config.pillars), {})
    table = entry[3]
    row = table.get(genre)
    if row is None:
        enabled = {"plain": True, "experience": "experience" in config.pillars, "social": "social" in config.pillars}
        lean = GENRE_LEAN.get(genre, GENRE_LEAN["other"])
        weights = {f: config.mix[f] * lean[f] for f in config.mix if enabled[f]}
        forms = sorted(weights)
        cum, total = [], 0.0
        for f in forms:
            total += weights[f]
            cum.append(total)
        row = table[genre] = (forms, cum, total)
    return row


def choose_form(genre: str, config: RaiseConfig, rng: random.Random) -> str:
    """One form by the configured mix, leaned by genre: one draw (``rng.choices`` on the same weights)."""
    forms, cum, total = _form_table(genre, config)
    if total <= 0:
        return "plain"
    return forms[bisect(cum, rng.random() * total, 0, len(cum) - 1)]


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
        templates = meta.get("templates")
        if templates is None:
            templates = meta["templates"] = {}
        templates[form] = raised.template
        for k, v in raised.meta.items():
            if k not in meta:
                meta[k] = v

    core = f"{lead}\n\n{body}" if lead and body else (lead or body)
    if "perspective" in config.pillars:
        framed = perspective.frame(core, genre, charter, rng, title=doc.metadata.get("title"), form=form)
        core = framed.text
        applied.append("perspective")
        templates = meta.get("templates")
        if templates is None:
            templates = meta["templates"] = {}
        templates["perspective"] = framed.template
        for k, v in framed.meta.items():
            if k not in meta:
                meta[k] = v
    text = f"{core}\n\n{reflection}" if core and reflection else (core or reflection)

    metadata = record_metadata(doc, genre, applied, form, charter, config.engine, config.seed)
    metadata.update(meta)
    return Document(text, doc.id, metadata)


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
