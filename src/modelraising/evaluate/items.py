"""The one item type every log-likelihood suite produces: a context and the continuations to rank.

Tiny base models cannot follow instructions, so nothing is generated: an item is scored by which
continuation the model finds most likely after the context. ``choices`` are the exact strings
appended to ``context`` (a leading space included), so our scorer and an lm-evaluation-harness
export (``target_delimiter: ""``) see the same text.

User item files are JSONL; a bad line is reported with its file, line number and field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modelraising.io import read_json_objects


class ItemError(ValueError):
    """An item file that cannot be used; the message names the file, the line and the field."""


@dataclass
class MCItem:
    """A multiple-choice item: ``choices[gold]`` is the continuation the suite wants the model to prefer."""

    id: str
    context: str
    choices: list[str]
    gold: int
    group: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.choices) < 2:
            raise ValueError(f"item {self.id}: needs at least two choices")
        if not 0 <= self.gold < len(self.choices):
            raise ValueError(f"item {self.id}: gold {self.gold} is not an index into {len(self.choices)} choices")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_context(self, context: str, suffix: str) -> "MCItem":
        """A copy under another context (adversarial prefixes), with an id that says so."""
        return MCItem(f"{self.id}@{suffix}", context, list(self.choices), self.gold, self.group, dict(self.meta))


def as_continuation(text: str) -> str:
    """A continuation starts with exactly one space: what follows a context that ends in a word or colon."""
    return " " + " ".join(text.split())


def _field(record: dict, name: str, where: str, kinds: type | tuple = str, required: bool = True) -> Any:
    if name not in record:
        if required:
            raise ItemError(f"{where}: field '{name}' is missing")
        return None
    value = record[name]
    if not isinstance(value, kinds) or (isinstance(value, str) and not value.strip()):
        want = "a non-empty string" if kinds is str else f"of type {getattr(kinds, '__name__', kinds)}"
        raise ItemError(f"{where}: field '{name}' must be {want}, got {value!r:.60}")
    return value


def read_records(path: str | Path) -> list[tuple[str, dict]]:
    """``(where, record)`` for each non-blank line; ``where`` is ``file:line`` for error messages."""
    return read_json_objects(path, ItemError, "items")


def load_pair_items(path: str | Path, known_values: set[str] | None = None) -> list[MCItem]:
    """User charter items: ``{"context", "keep", "betray", "value"}`` per line (``id`` optional)."""
    items = []
    for where, record in read_records(path):
        context = _field(record, "context", where)
        keep = _field(record, "keep", where)
        betray = _field(record, "betray", where)
        value = _field(record, "value", where)
        item_id = _field(record, "id", where, required=False) or f"{Path(path).stem}-{where.rsplit(':', 1)[1]}"
        if known_values is not None and value not in known_values:
            raise ItemError(f"{where}: field 'value' is {value!r}, not a value of the charter "
                            f"(one of: {', '.join(sorted(known_values))})")
        if keep.strip() == betray.strip():
            raise ItemError(f"{where}: fields 'keep' and 'betray' are the same text")
        items.append(MCItem(str(item_id), context.rstrip(), [as_continuation(keep), as_continuation(betray)], 0,
                            value, {"source": str(path), "kind": "user"}))
    return items


def load_text_records(path: str | Path) -> list[dict]:
    """Attack sets and prefix files: ``{"text": ...}`` per line (``id`` and other fields optional)."""
    out = []
    for where, record in read_records(path):
        _field(record, "text", where)
        out.append(record)
    return out


def seeded_sample(rows: list, limit: int | None, seed: int, salt: str = "") -> list:
    """At most ``limit`` rows, a seeded sample kept in the original order (the same rows every run)."""
    import random

    if limit is None or len(rows) <= limit:
        return list(rows)
    keep = sorted(random.Random(f"{seed}/{salt}").sample(range(len(rows)), limit))
    return [rows[i] for i in keep]


def sample_per_group(items: list[MCItem], limit: int | None, seed: int) -> list[MCItem]:
    """``limit`` items per group (value, subset, persona file), seeded."""
    if limit is None:
        return list(items)
    groups: dict[str, list[MCItem]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    picked = {id(i) for g, rows in groups.items() for i in seeded_sample(rows, limit, seed, g)}
    return [i for i in items if id(i) in picked]
