"""Atomic writes, JSONL helpers and content hashes shared by every step."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from modelraising.document import Document


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def atomic_write_jsonl(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> int:
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
    atomic_write_text(path, "".join(lines))
    return len(lines)


def read_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_json_objects(path: str | os.PathLike, error: type[Exception], noun: str = "records") -> list[tuple[str, dict]]:
    """``(where, record)`` for each non-blank line of a user's JSONL file of objects; ``where`` is
    ``file:line``. A missing file, a bad line or an empty file raises ``error`` naming the place."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file not found")
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(record, dict):
                raise error(f"{where}: expected a JSON object, got {type(record).__name__}")
            out.append((where, record))
    if not out:
        raise error(f"{path}: no {noun} (the file is empty)")
    return out


def read_documents(path: str | os.PathLike) -> Iterator[Document]:
    for record in read_jsonl(path):
        yield Document.from_dict(record)


def read_complete_lines(path: str | os.PathLike) -> list[str]:
    """Lines of an append-only file up to the last newline; a torn last line (kill mid-write) is dropped
    and truncated away so that appending can resume cleanly."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        with open(path, "r+b") as f:
            f.truncate(end)
    return data[:end].decode("utf-8").splitlines()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def sha256_json(obj: Any) -> str:
    """Hash of a canonical JSON encoding: the same content gives the same hash whatever its formatting."""
    return sha256_text(json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def describe_file(path: str | os.PathLike) -> dict[str, Any]:
    """Path, size and content hash of an input file; one that cannot be read is described by why
    (a source that is a reject of the run: its description changes once it can be read)."""
    try:
        return {"path": str(path), "bytes": os.stat(path).st_size, "sha256": sha256_file(path)}
    except OSError as exc:
        return {"path": str(path), "bytes": None, "sha256": None, "error": exc.strerror or str(exc)}
