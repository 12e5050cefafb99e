"""What the viewer can filter by, read from a record's metadata, and the counts of the summary page.

Every facet value becomes a key ``facet:value`` with a posting list of records; a record may have
several keys of one facet (pillars, harm labels, templates, audit flags). Records written before the
record contract had ``quoted``, ``kind`` or ``harm`` simply lack those keys; harm labels then come
from the value hit (``value.harms``), as the older engine wrote them.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from pathlib import PurePath

from modelraising.text import split_sentences

# (facet, label shown in the filter form); order is the order of the form.
FACETS: tuple[tuple[str, str], ...] = (
    ("form", "form"),
    ("pillar", "pillar"),
    ("genre", "genre"),
    ("kind", "kind"),
    ("source", "source file"),
    ("value", "value fired"),
    ("harm", "harm label"),
    ("action", "policy action"),
    ("stage", "curriculum stage"),
    ("copy", "review copy"),
    ("template", "template id"),
    ("engine", "engine"),
    ("flag", "audit flag"),
    ("reviewed", "review flag"),
)
FACET_NAMES = tuple(name for name, _ in FACETS)
ANY, NONE = "*", "-"  # filter values: the facet has some value / has none

TAG = re.compile(r"<\|[^|\n]{1,60}\|>")
_SPEAKER = re.compile(r"^<\|[a-z]+\|> [^:\n]{1,60}: ", re.M)


def harm_labels(meta: dict) -> list[str]:
    """Harm categories of a record: ``harm.labels`` (plus ``harmful_request``), else the value hit's harms."""
    harm = meta.get("harm")
    if isinstance(harm, dict):
        labels = [str(x) for x in harm.get("labels") or []]
        return labels + (["harmful_request"] if harm.get("request") else [])
    value = meta.get("value")
    return [str(x) for x in (value.get("harms") or [])] if isinstance(value, dict) else []


def harm_action(meta: dict) -> str | None:
    """What the policy did with a harmful passage (reflect, recontextualize, refuse; tag for conditional
    training); None when nothing was harmful."""
    harm = meta.get("harm")
    if isinstance(harm, dict) and harm.get("action"):
        return str(harm["action"])
    value = meta.get("value")
    if isinstance(value, dict) and value.get("policy_action") and (value.get("harmful") or value.get("harms")):
        return str(value["policy_action"])
    return None


def source_file(meta: dict) -> str | None:
    source = meta.get("source")
    return PurePath(str(source)).name if source else meta.get("source_name")


def facet_keys(meta: dict) -> list[str]:
    """The ``facet:value`` keys of one record (audit and review flags are added from their own files)."""
    keys = []

    def add(facet: str, value) -> None:
        if value is not None and value != "":
            keys.append(f"{facet}:{value}")

    add("form", meta.get("form"))
    for pillar in meta.get("pillars") or []:
        add("pillar", pillar)
    add("genre", meta.get("genre"))
    add("kind", meta.get("kind"))
    add("source", source_file(meta))
    value = meta.get("value")
    if isinstance(value, dict):
        add("value", value.get("value"))
    for label in dict.fromkeys(harm_labels(meta)):
        add("harm", label)
    add("action", harm_action(meta))
    add("stage", meta.get("stage"))
    if "review" in meta:
        add("copy", "review" if meta.get("review") else "original")
    templates = meta.get("templates")
    if isinstance(templates, dict):
        for template in dict.fromkeys(str(t) for t in templates.values()):
            add("template", template)
    engine = meta.get("engine")
    if engine:
        add("engine", f"{engine} (fallback)" if meta.get("fallback_reason") else engine)
    return keys


def row_fields(meta: dict) -> dict:
    """The per-record columns the list shows without reading the record again."""
    raw_value = meta.get("value")
    value = raw_value if isinstance(raw_value, dict) else {}
    difficulty = meta.get("difficulty")
    return {
        "source_id": str(meta.get("source_id") or ""),
        "title": str(meta.get("title") or "")[:200],
        "form": meta.get("form"),
        "genre": meta.get("genre"),
        "kind": meta.get("kind"),
        "pillars": ",".join(str(p) for p in meta.get("pillars") or []),
        "value": value.get("value"),
        "harm": ",".join(harm_labels(meta)),
        "action": harm_action(meta),
        "stage": meta.get("stage"),
        "position": meta.get("position") if isinstance(meta.get("position"), int) else None,
        "difficulty": float(difficulty) if isinstance(difficulty, (int, float)) else None,
    }


def plain_text(text: str) -> str:
    """The text as words are searched: special tags (speaker, value, harm) removed."""
    return TAG.sub(" ", text)


def preview(text: str, n: int = 180) -> str:
    flat = " ".join(plain_text(_SPEAKER.sub(lambda m: m.group(0).split("> ", 1)[1], text)).split())
    return flat if len(flat) <= n else flat[: n - 1] + "\u2026"


def generated_sentences(text: str, meta: dict) -> set[str]:
    """Sentences the raising engine wrote: the text with the source's own words (``quoted``) cut out,
    speaker tags and value/harm tags removed. Without ``quoted`` the whole text counts."""
    quoted = meta.get("quoted")
    if isinstance(quoted, list) and quoted:
        parts, pos = [], 0
        for span in sorted(quoted, key=lambda s: s[0] if isinstance(s, (list, tuple)) and s else 0):
            try:
                a, b = int(span[0]), int(span[1])
            except (TypeError, ValueError, IndexError):
                continue
            if a >= pos:
                parts.append(text[pos:a])
                parts.append("\n\n")
                pos = max(pos, b)
        parts.append(text[pos:])
        text = "".join(parts)
    out = set()
    for para in re.split(r"\n\s*\n|\n(?=<\|)", text):
        para = plain_text(_SPEAKER.sub("", para.strip()))
        for s in split_sentences(para):
            s = " ".join(s.split())
            if len(s) >= 12:
                out.add(s[:300])
    return out


class SentenceSample:
    """Counts generated sentences over a sample of records (every record of a small corpus; records
    chosen by a hash of their id in a large one), for the summary when no ``audit.json`` exists."""

    def __init__(self, every: int):
        self.every = max(1, every)
        self.records = 0
        self.counts: Counter = Counter()
        self.quoted = 0

    def add(self, doc_id: str, text: str, meta: dict) -> None:
        if self.every > 1 and zlib.crc32(doc_id.encode("utf-8")) % self.every:
            return
        self.records += 1
        self.quoted += "quoted" in meta
        self.counts.update(generated_sentences(text, meta))

    def top(self, k: int = 25) -> dict:
        rows = [
            {"sentence": s, "records": c, "share": round(c / self.records, 4)}
            for s, c in self.counts.most_common(k)
            if c > 1
        ]
        return {"sampled_records": self.records, "every": self.every, "records_with_quoted": self.quoted, "top": rows}
