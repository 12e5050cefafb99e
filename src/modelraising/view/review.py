"""Review flags: a reviewer's verdicts on records, kept in ``DIR/review.jsonl``, and what ``raise``
does with them (``--exclude-flagged DIR``).

The file is an append-only log, one JSON object per line::

    {"id": ..., "source_id": ..., "file": "raised-00003.jsonl", "index": 17, "label": "bad_frame",
     "note": "...", "action": "flag", "time": "2025-01-01T12:00:00+00:00"}

``action: "clear"`` withdraws the earlier flags of that record. A flag is appended with one
``write`` on a descriptor opened with ``O_APPEND`` under an exclusive ``flock`` (two viewers on one
directory never interleave lines) and ``fsync``-ed before the viewer answers, so a flag the reviewer
saw saved survives a crash. A line torn by a crash mid-write is skipped when the log is read, and the
next flag starts on a fresh line.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from modelraising.io import sha256_json

REVIEW_FILE = "review.jsonl"
LABELS: dict[str, str] = {
    "bad_frame": "bad frame",
    "wrong_value": "wrong value",
    "harmful_framing": "harmful framing",
    "artifact": "artifact",
    "other": "other",
}
NOTE_MAX = 2000


class ReviewError(Exception):
    """A flag that cannot be recorded (unknown label, a directory that cannot be written)."""


def append_flag(directory: str | os.PathLike, entry: dict) -> dict:
    """Append one review entry to ``directory/review.jsonl`` durably; returns the entry as written."""
    action = entry.get("action", "flag")
    if action not in ("flag", "clear"):
        raise ReviewError(f"unknown review action {action!r}; valid: flag, clear")
    if action == "flag" and entry.get("label") not in LABELS:
        raise ReviewError(f"unknown review label {entry.get('label')!r}; valid: {', '.join(LABELS)}")
    if not entry.get("id"):
        raise ReviewError("a review entry needs the record id")
    record = {
        "id": str(entry["id"]),
        "source_id": entry.get("source_id"),
        "file": entry.get("file"),
        "index": entry.get("index"),
        "label": entry.get("label") if action == "flag" else None,
        "note": str(entry.get("note") or "")[:NOTE_MAX],
        "action": action,
        "time": entry.get("time") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    path = Path(directory) / REVIEW_FILE
    created = not path.exists()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ReviewError(f"{path}: cannot be written ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and _last_byte(path, size) != b"\n":
            data = b"\n" + data  # a line torn by a crash stays on its own line
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)
    return record


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_log(directory: str | os.PathLike) -> list[dict]:
    """Every complete entry of ``directory/review.jsonl`` in order (torn or foreign lines skipped)."""
    path = Path(directory) / REVIEW_FILE
    if not path.is_file():
        return []
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and item.get("id"):
                out.append(item)
    return out


@dataclass
class Flag:
    label: str
    note: str
    time: str


def current_flags(entries: list[dict]) -> dict[str, list[Flag]]:
    """Per record id, the flags standing after the log is replayed (a ``clear`` drops earlier ones)."""
    state: dict[str, list[Flag]] = {}
    for item in entries:
        doc_id = str(item["id"])
        if item.get("action", "flag") == "clear":
            state.pop(doc_id, None)
        elif item.get("label") in LABELS:
            state.setdefault(doc_id, []).append(
                Flag(item["label"], str(item.get("note") or ""), str(item.get("time") or ""))
            )
    return state


@dataclass
class Exclusion:
    """Source documents to leave out of a raise because a reviewer flagged what they were raised into
    (``raise --exclude-flagged DIR``): by source id, with the labels as the reject reason."""

    reasons: dict[str, str]  # source id -> "review flag: bad_frame, artifact"
    dirs: list[str]

    def reason(self, doc_id: str) -> str | None:
        return self.reasons.get(doc_id)

    def digest(self) -> str:
        """Enters the run fingerprint: excluding other documents is another run."""
        return sha256_json(sorted(self.reasons))

    def describe(self) -> dict:
        return {"dirs": self.dirs, "documents": len(self.reasons), "sha256": self.digest()}


def load_exclusion(dirs: list[str | os.PathLike]) -> Exclusion:
    """The flagged records of the review logs in ``dirs``, by the id of the source document each was
    raised from (a record's ``source_id``; its own id when the log does not name one)."""
    reasons: dict[str, set[str]] = {}
    for directory in dirs:
        entries = read_log(directory)
        source_of = {str(e["id"]): str(e.get("source_id") or e["id"]) for e in entries}
        for doc_id, flags in current_flags(entries).items():
            reasons.setdefault(source_of[doc_id], set()).update(f.label for f in flags)
    return Exclusion(
        {sid: "review flag: " + ", ".join(sorted(labels)) for sid, labels in sorted(reasons.items())},
        [str(d) for d in dirs],
    )


def filter_documents(items, exclusion: Exclusion | None, stats=None):
    """Pass a source stream (Documents and Rejects) through, turning documents a reviewer flagged into
    Rejects with the review labels as the reason (counted in ``stats`` like any reject)."""
    from modelraising.document import Document
    from modelraising.rejects import Reject

    for item in items:
        if exclusion is not None and isinstance(item, Document) and (why := exclusion.reason(item.id)):
            reject = Reject(str(item.metadata.get("source", "")), why, "document", item.id, item.text[:200])
            if stats is not None:
                stats.add_reject(reject)
            yield reject
        else:
            yield item
