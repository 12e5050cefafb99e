"""One source passage in, one raised document out: harm decided first, then the form, then the frame.

1. The values pillar's assessment of the passage (:mod:`modelraising.raising.values`) comes first:
   sexual content involving minors is dropped whatever the policy; a harmful request becomes a
   refusal (the I declining, and saying why in its own values); other harmful text is quoted with a
   neutral or warning lead and always answered by a reflection that names the wrong (or dropped, by
   policy). Harm never goes into a teacher's or a friend's mouth, and never gets a warm frame.
2. Otherwise one form by a seeded mix, among those that fit the passage (:mod:`modelraising.raising.passage`):
   a form pillar's (:mod:`modelraising.raising.pillars`: experience, taught by the cast; social, a
   conversation) or plain (quoted, framed).
3. Perspective: the I's lead, the attribution of whoever speaks in the source, at most one closing;
   a resonance reflection replaces the closing where the passage shows a value.

Every record carries ``metadata.quoted`` (where the source's words are, and whose they are).
Pure: the result depends only on the document, the charter, the config and the assessment.
"""

from __future__ import annotations

import _random
import random
import re
from bisect import bisect
from dataclasses import dataclass
from hashlib import blake2b

from modelraising.charter import Charter
from modelraising.document import Document
from modelraising.raising import perspective, reflection, request
from modelraising.raising.base import PLAIN
from modelraising.raising.config import RaiseConfig
from modelraising.raising.entities import topic_of
from modelraising.raising.passage import Passage, read_passage
from modelraising.raising.pillars import get_pillar, lean
from modelraising.raising.sentences import sentences
from modelraising.raising.values import Assessment, tag_spans
from modelraising.raising.writer import Writer


@dataclass(frozen=True)
class Dropped:
    """A passage the charter's policy drops; goes to rejects with its reason."""

    id: str
    reason: str
    source: str


class DocRandom(random.Random):
    """A Mersenne Twister seeded by the C seeder directly (``random.Random(x)`` goes through a Python
    ``seed`` first: a fifth of the cost, for every document)."""

    def __init__(self, x: int):
        _random.Random.seed(self, x)
        self.gauss_next = None


def doc_rng(seed: int, doc_id: str) -> random.Random:
    """Per-document generator: independent of order, workers and resume point.

    A Mersenne Twister seeded with 128 bits of a blake2b hash of the key: the same stream on every
    platform, in every process and at every resume point (``random()`` from an integer seed is the
    sequence Python guarantees across versions; hash randomisation does not enter). Seeding costs
    ~4 µs, then a draw ~0.05 µs: a document draws about twenty times, and a hash per eight draws cost
    twice as much.
    """
    return DocRandom(int.from_bytes(blake2b(f"{seed}/{doc_id}".encode("utf-8"), digest_size=16).digest(), "little"))


# (config, its mix and pillars when the table was made, {kind: (forms, cumulative weights, total)})
_FORM_TABLES: dict[int, tuple[RaiseConfig, dict, list, dict]] = {}


def _form_table(kind: str, config: RaiseConfig) -> tuple[list[str], list[float], float]:
    entry = _FORM_TABLES.get(id(config))
    if entry is None or entry[0] is not config or entry[1] != config.mix or entry[2] != config.pillars:
        if len(_FORM_TABLES) > 64:
            _FORM_TABLES.clear()
        entry = _FORM_TABLES[id(config)] = (config, dict(config.mix), list(config.pillars), {})
    table = entry[3]
    row = table.get(kind)
    if row is None:
        leans = {f: lean(f, kind) for f in config.mix if f == PLAIN or f in config.pillars}
        weights = {f: config.mix[f] * w for f, w in leans.items() if w > 0}
        forms = sorted(weights)
        cum, total = [], 0.0
        for f in forms:
            total += weights[f]
            cum.append(total)
        row = table[kind] = (forms, cum, total)
    return row


def choose_form(kind: str, config: RaiseConfig, rng: random.Random) -> str:
    """One form by the configured mix, leaned by the kind of passage: one draw."""
    forms, cum, total = _form_table(kind, config)
    if total <= 0:
        return "plain"
    return forms[bisect(cum, rng.random() * total, 0, len(cum) - 1)]


_TOPIC_BAD = re.compile(r"<unk>|[@#_<>|]|^\W")


def topic_for(p: Passage) -> str | None:
    """What a passage is about: an article's title (never a bare section heading), a story's heading,
    or a checked subject."""
    candidates: tuple[str | None, ...]
    if p.kind == "expository":  # without its article's title a heading is a section name ("Flight")
        candidates = (p.title, p.heading) if p.title else ()
    else:
        candidates = (p.heading,)
    for cand in candidates:
        if cand and 2 < len(cand) <= 60 and not _TOPIC_BAD.search(cand):
            return cand
    if p.kind in ("expository", "story", "note"):
        # under a section heading, the subject of the body ("Critical response" is no topic)
        cand = topic_of(p.body if p.kind == "expository" and p.heading else p.text, mentioned=p.kind != "expository")
        if cand and 2 < len(cand) <= 50 and not _TOPIC_BAD.search(cand) and cand.split()[0] not in ("I", "I'm"):
            return cand
    return None


def raise_document(
    doc: Document, charter: Charter, config: RaiseConfig, hit: Assessment | None = None
) -> Document | Dropped:
    rng = doc_rng(config.seed, doc.id)
    genre = doc.metadata.get("genre", "other")
    p = read_passage(doc.text, genre, doc.metadata.get("title"))
    values_on = hit is not None and "values" in config.pillars
    framed = "perspective" in config.pillars
    applied: list[str] = []
    meta: dict = {}
    templates: dict[str, str] = {}
    w = Writer()

    if values_on and hit is not None and hit.hard_drop:
        return Dropped(doc.id, f"hard drop: {', '.join(hit.labels)}", doc.metadata.get("source", ""))
    if values_on and hit is not None and config.value_tags and hit.sentences:
        p.text = tag_spans(p.text, hit)
    if values_on and hit is not None and hit.harmful and config.reflect:
        policy = config.policy or charter.policy
        if policy == "drop":
            return Dropped(doc.id, f"policy drop: {', '.join(hit.labels) or 'harmful'}", doc.metadata.get("source", ""))
        form = _write_harm(p, hit, charter, rng, w, policy, framed)
        applied.append("values")
        if framed:
            applied.append("perspective")
        templates["values"] = f"values/{'refusal' if hit.request else policy}"
        meta["harm"] = hit.harm_meta() | {"action": "refuse" if hit.request else policy}
        meta["value"] = hit.value_meta()
    else:
        resonance = values_on and config.reflect and hit is not None and hit.value is not None
        form = choose_form(p.kind, config, rng)
        topic = topic_for(p)
        if framed and form != "plain":
            w.para(perspective.memory_lead(charter, rng, p.kind))
        if form != PLAIN:
            write = get_pillar(form).write
            assert write is not None  # a form pillar has one (register checks)
            meta.update(write(p, charter, rng, w, topic=topic, close=not resonance))
        elif framed:
            meta.update(perspective.plain(p, charter, rng, w, topic=topic, close=not resonance))
        else:
            w.para(p.text)  # no perspective pillar: the passage as it is (the ablation arm)
        if form != "plain":
            applied.append(form)
            templates[form] = f"{form}/{p.kind}"
        if framed:
            applied.append("perspective")
            templates["perspective"] = f"perspective/{form}/{p.kind}"
        if values_on and hit is not None and hit.value is not None:  # a value this passage shows (no harm)
            if resonance:
                value = charter.value(hit.value)
                fragment = _fragment(p.text, hit)
                w.mixed(reflection.resonance_reflection(fragment, value, rng))
                templates["values"] = "values/resonance"
            applied.insert(0, "values")
            meta["value"] = hit.value_meta() | {
                "policy_action": "tag" if not config.reflect else "none",
                "tagged": config.value_tags,
            }
    text, quoted = w.render()
    metadata = record_metadata(doc, genre, applied, form, charter, config.engine, config.seed)
    metadata["kind"] = p.kind
    metadata["templates"] = templates
    metadata.update(meta)
    metadata["quoted"] = quoted
    return Document(text, doc.id, metadata)


def _fragment(text: str, hit: Assessment) -> str | None:
    sents = sentences(text)
    for i in hit.sentences:
        if 0 <= i < len(sents):
            frag = reflection.fragment_of(sents[i])
            if frag:
                return frag
    return None


def _write_harm(
    p: Passage, hit: Assessment, charter: Charter, rng: random.Random, w: Writer, policy: str, framed: bool
) -> str:
    """A harmful passage: a refusal for a request, else the quoted text with a critical lead and a reflection."""
    category = hit.category
    value = charter.value_for_harm(category) or (charter.value(hit.value) if hit.value else charter.values[0])
    me = charter.identity.name
    if hit.request:
        narration, handle, asks, rest = request.refusal_turns(
            hit.request_text or p.text, category, value, charter, rng, hit.request_context, hit.request_follow
        )
        if framed:
            w.para(narration)
        rows = [[(f"<|other|> {handle}: ", None), (ask, "the person asking")] for ask in asks]
        for speaker, line in rest:
            tag = f"<|self|> {me}: " if speaker == "self" else f"<|other|> {handle}: "
            rows.append([(tag + line, None)])
        w.lines(rows)
        return "refusal"
    wrong = reflection.specific_wrong(p.text, category, rng)
    if framed:
        lead = reflection.harm_lead(charter, rng, recontextualize=policy == "recontextualize", wrong=wrong)
        perspective.plain(p, charter, rng, w, topic=None, close=False, lead=lead)
    else:
        w.blockquote(p.text, "the source")
    w.para(reflection.harm_reflection(p.text, category, value, rng))
    return "plain"


def record_metadata(
    doc: Document, genre: str, pillars: list[str], form: str, charter: Charter, engine: str, seed: int
) -> dict:
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
