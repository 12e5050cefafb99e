"""The one item type every log-likelihood suite produces: a context and the continuations to rank.

Tiny base models cannot follow instructions, so nothing is generated: an item is scored by which
continuation the model finds most likely after the context. ``choices`` are the exact strings
appended to ``context`` (a leading space included), so our scorer and an lm-evaluation-harness
export (``target_delimiter: ""``) see the same text.

User item files are JSONL; every problem of a file is reported at once, each with its file, line
number and field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modelraising.io import read_json_objects


class ItemError(ValueError):
    """An item file that cannot be used; each problem names the file, the line and the field."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.message, self.problems = message, list(problems or [])
        super().__init__("\n".join([message, *self.problems]) if self.problems else message)


@dataclass
class MCItem:
    """A multiple-choice item: ``choices[gold]`` is the continuation the suite wants the model to prefer."""

    id: str
    context: str
    choices: list[str]
    gold: int
    group: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # Content-free contexts in the suite's template: each choice is also scored after these, for
    # contextual calibration (calibration.py). Empty: the item is scored raw only.
    neutral: list[str] = field(default_factory=list)
    # Calibrated scores per byte: for free-text choices whose lengths differ (not for " Yes"/" No").
    calibrate_per_byte: bool = False

    def __post_init__(self) -> None:
        if len(self.choices) < 2:
            raise ValueError(f"item {self.id}: needs at least two choices")
        if not 0 <= self.gold < len(self.choices):
            raise ValueError(f"item {self.id}: gold {self.gold} is not an index into {len(self.choices)} choices")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_context(self, context: str, suffix: str) -> "MCItem":
        """A copy under another context (adversarial prefixes), with an id that says so."""
        return MCItem(
            f"{self.id}@{suffix}",
            context,
            list(self.choices),
            self.gold,
            self.group,
            dict(self.meta),
            list(self.neutral),
            self.calibrate_per_byte,
        )


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


PAIR_FIELDS = ("context", "keep", "betray", "value")


def _pair_lines(path: Path) -> tuple[list[tuple[int, str, dict]], list[tuple[int, str]]]:
    """``(line, where, record)`` for every JSON object line of ``path``, and ``(line, problem)`` for every
    line that is not one (all of them, not only the first)."""
    if not path.is_file():
        raise ItemError(f"{path}: file not found")
    records, problems = [], []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        where = f"{path}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append((number, f"{where}: not valid UTF-8 (byte {exc.start + 1})"))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            problems.append((number, f"{where}: expected a JSON object, got {type(record).__name__}"))
            continue
        records.append((number, where, record))
    return records, problems


def load_pair_items(path: str | Path, known_values: set[str] | None = None) -> list[MCItem]:
    """User charter items: ``{"context", "keep", "betray", "value"}`` per line (``id`` optional).

    Every problem of the file is collected (bad lines, missing or empty fields, unknown values,
    identical continuations, repeated ids) and raised together as one ``ItemError``."""
    path = Path(path)
    records, problems = _pair_lines(path)
    items: list[MCItem] = []
    seen: dict[str, int] = {}
    for number, where, record in records:
        errors = []
        for name in PAIR_FIELDS:
            try:
                _field(record, name, where)
            except ItemError as exc:
                errors.append(str(exc))
        try:
            item_id = _field(record, "id", where, required=False)
        except ItemError as exc:
            errors.append(str(exc))
            item_id = None
        value = record.get("value")
        if known_values is not None and isinstance(value, str) and value.strip() and value not in known_values:
            errors.append(
                f"{where}: field 'value' is {value!r}, not a value of the charter "
                f"(one of: {', '.join(sorted(known_values))})"
            )
        keep, betray = record.get("keep"), record.get("betray")
        if isinstance(keep, str) and isinstance(betray, str) and keep.strip() and keep.strip() == betray.strip():
            errors.append(f"{where}: fields 'keep' and 'betray' are the same text")
        item_id = str(item_id) if item_id is not None else f"{path.stem}-{number}"
        if item_id in seen:
            errors.append(f"{where}: field 'id' {item_id!r} repeats line {seen[item_id]}")
        seen.setdefault(item_id, number)
        if errors:
            problems += [(number, e) for e in errors]
            continue
        # no error: every field of PAIR_FIELDS is a non-empty string
        items.append(
            MCItem(
                item_id,
                record["context"].rstrip(),
                [as_continuation(record["keep"]), as_continuation(record["betray"])],
                0,
                record["value"],
                {"source": str(path), "kind": "user"},
            )
        )
    if problems:
        lines = [p for _, p in sorted(problems, key=lambda p: p[0])]
        raise ItemError(f"{path}: {len(lines)} problem{'s' if len(lines) > 1 else ''}", lines)
    if not items:
        raise ItemError(f"{path}: no items (the file is empty)")
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
