"""``raise --engine teacher --retry-fallbacks``: ask the teacher again for documents that fell back
to the template engine because it could not be reached, once it can be.

A document falls back for one of two causes (``fallback_reason`` = ``"TASK: CAUSE: detail"``):
``unavailable`` (no answer: tries exhausted on 5xx, timeouts, refused connections) or ``gate`` (the
teacher answered, and its answers kept failing the quality gate). Only the first is worth asking
again; a gate fallback is kept as it is, and so is every other document of the chunk.

A finished chunk with unavailable fallbacks is reopened as an unfinished one whose records are
already known: a journal (``.state/retry-XXXXX.json``) holds the lines of the documents before the
first one to redo (the chunk's partial files start with them again) and, by id, the lines of every
later document to keep. The chunk then runs through the normal resumable path, which writes a kept
document's line as it was and asks the teacher only for the others. Kill-safe at every step: until
the published files are gone the journal is re-applied; afterwards the partial files are the
progress, as in any resumed chunk. The journal is removed when the chunk is published again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from modelraising.io import atomic_write_json, atomic_write_text
from modelraising.records import read_records

UNAVAILABLE = "unavailable"


def fallback_cause(metadata: dict) -> str | None:
    """``"unavailable"`` or ``"gate"`` for a fallen-back record, None for any other."""
    reason = metadata.get("fallback_reason")
    if not reason:
        return None
    parts = reason.split(": ")
    return parts[1] if len(parts) > 1 else parts[0]


def has_unavailable(fallback_reasons: dict) -> bool:
    """Whether a chunk's stats (``fallback_reasons``: "task: cause" -> documents) count any outage."""
    return any(key.endswith(f": {UNAVAILABLE}") and n for key, n in fallback_reasons.items())


def _published_lines(paths: dict[str, Path]) -> tuple[list[str], list[str]]:
    final = paths["final"]
    if final.suffix == ".parquet":
        raised = [json.dumps(r, ensure_ascii=False) for r in read_records(final)]
    else:
        raised = final.read_text(encoding="utf-8").splitlines()
    rejects = paths["rejects"].read_text(encoding="utf-8").splitlines() if paths["rejects"].exists() else []
    return raised, rejects


def reopen(paths: dict[str, Path], doc_ids: list[str]) -> int:
    """Reopen a published chunk so that its unavailable fallbacks are raised again; returns how many
    documents will be re-asked (0: nothing to do, the chunk stays published)."""
    raised, rejects = _published_lines(paths)
    lines: dict[str, dict] = {}
    redo: set[str] = set()
    for line in raised:
        record = json.loads(line)
        lines[record["id"]] = {"raised": line}
        if fallback_cause(record["metadata"]) == UNAVAILABLE:
            redo.add(record["id"])
    for line in rejects:
        lines[json.loads(line)["id"]] = {"reject": line}
    if not redo:
        return 0
    first = next(i for i, doc_id in enumerate(doc_ids) if doc_id in redo)
    prefix = doc_ids[:first]
    journal = {
        "prefix": {kind: [lines[i][kind] for i in prefix if kind in lines[i]] for kind in ("raised", "reject")},
        "keep": {i: lines[i] for i in doc_ids[first:] if i not in redo and i in lines},
        "redo": sorted(redo),
    }
    atomic_write_json(paths["retry"], journal)
    paths["stats"].unlink(missing_ok=True)  # the chunk is unfinished from here on
    _apply(paths, journal)
    return len(redo)


def _apply(paths: dict[str, Path], journal: dict) -> None:
    """Partial files = the journal's prefix, then the published files go (in that order)."""
    for kind, key in (("raised", "partial"), ("reject", "rejects_partial")):
        lines = journal["prefix"][kind]
        atomic_write_text(paths[key], "".join(line + "\n" for line in lines))
    for key in ("rejects", "final"):
        paths[key].unlink(missing_ok=True)


def resume(paths: dict[str, Path]) -> None:
    """Called when a chunk is opened: finish a reopening that a kill interrupted (a published file is
    still there), so the partial files hold the prefix; otherwise they hold progress: leave them."""
    if paths["retry"].exists() and (paths["final"].exists() or paths["rejects"].exists()):
        _apply(paths, json.loads(paths["retry"].read_text(encoding="utf-8")))


def kept(paths: dict[str, Path]) -> dict[str, dict]:
    """The lines to write as they are, by document id (empty unless the chunk was reopened)."""
    if not paths["retry"].exists():
        return {}
    return json.loads(paths["retry"].read_text(encoding="utf-8"))["keep"]


def done(paths: dict[str, Path]) -> None:
    """The chunk is published again: the journal has served."""
    try:
        os.unlink(paths["retry"])
    except FileNotFoundError:
        pass
