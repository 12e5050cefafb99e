"""A raised or ordered directory as the viewer sees it: which files hold its records, and how to read
one record back by where it lies (a byte span of a JSONL file, a row of a Parquet file) without
reading the rest.

A directory is a modelraising output when it holds ``raised-*`` or ``ordered-*`` files in one format;
an audit written elsewhere (``audit --out``) points at the directory it audited. Anything else is a
:class:`ViewError` with one line that says what was expected.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modelraising.document import Document

KINDS = ("raised", "ordered")
FORMATS = ("jsonl", "parquet")


class ViewError(Exception):
    """A directory the viewer cannot show (one line naming it and what was expected)."""


@dataclass
class Corpus:
    """The record files of one directory, plus the side files the viewer reads when present."""

    path: Path  # where the records are
    kind: str  # raised | ordered
    fmt: str  # jsonl | parquet
    files: list[Path]
    side: Path  # where audit.json / audit-flags.jsonl / review.jsonl live (usually ``path``)
    _fds: dict[int, int] = field(default_factory=dict, repr=False)
    _groups: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _row_starts: dict[int, list[int]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def json_file(self, name: str) -> dict | None:
        """A JSON side file (manifest.json, curriculum.json, audit.json), or None when absent or broken."""
        for base in (self.side, self.path):
            p = base / name
            if p.is_file():
                try:
                    return json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return None
        return None

    def signature(self) -> list:
        """What the index depends on: every record file's name, size and modification time."""
        out = []
        for p in self.files:
            st = p.stat()
            out.append([p.name, st.st_size, st.st_mtime_ns])
        return out

    # ----------------------------------------------------------------------------------- reading

    def iter_located(self) -> Iterator[tuple[int, int, int, dict]]:
        """``(file index, position, length, record)`` for every record in file order: the position is a
        byte offset for JSONL (length in bytes), a row for Parquet (length 0). Lines that are not a
        record are skipped (the curriculum sends them to its rejects; the viewer only shows records)."""
        for fi, path in enumerate(self.files):
            if self.fmt == "jsonl":
                yield from self._iter_jsonl(fi, path)
            else:
                yield from self._iter_parquet(fi, path)

    @staticmethod
    def _iter_jsonl(fi: int, path: Path) -> Iterator[tuple[int, int, int, dict]]:
        pos = 0
        with open(path, "rb") as f:
            for line in f:
                n = len(line)
                if line.strip():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        record = None
                    if isinstance(record, dict) and isinstance(record.get("text"), str):
                        yield fi, pos, n, record
                pos += n

    @staticmethod
    def _iter_parquet(fi: int, path: Path) -> Iterator[tuple[int, int, int, dict]]:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        row = 0
        for batch in pf.iter_batches(batch_size=2048, columns=["id", "text", "metadata"]):
            cols = batch.to_pydict()
            for doc_id, text, meta in zip(cols["id"], cols["text"], cols["metadata"]):
                yield fi, row, 0, {"id": doc_id, "text": text, "metadata": _meta(meta)}
                row += 1

    def read(self, file: int, pos: int, length: int) -> Document:
        """One record, read back by where :meth:`iter_located` found it."""
        if self.fmt == "jsonl":
            fd = self._fds.get(file)
            if fd is None:
                fd = self._fds[file] = os.open(self.files[file], os.O_RDONLY)
            return Document.from_dict(json.loads(os.pread(fd, length, pos)))
        return Document.from_dict(self._parquet_row(file, pos))

    def _parquet_row(self, file: int, row: int) -> dict:
        """A row from its row group; the last few decoded row groups are kept (neighbours are read together)."""
        import bisect

        import pyarrow.parquet as pq

        starts = self._row_starts.get(file)
        if starts is None:
            meta = pq.ParquetFile(self.files[file]).metadata
            starts, total = [], 0
            for g in range(meta.num_row_groups):
                starts.append(total)
                total += meta.row_group(g).num_rows
            self._row_starts[file] = starts
        group = bisect.bisect_right(starts, row) - 1
        key = (file, group)
        cols = self._groups.get(key)
        if cols is None:
            table = pq.ParquetFile(self.files[file]).read_row_group(group, columns=["id", "text", "metadata"])
            cols = self._groups[key] = table.to_pydict()
            if len(self._groups) > 8:
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(key)
        i = row - starts[group]
        return {"id": cols["id"][i], "text": cols["text"][i], "metadata": _meta(cols["metadata"][i])}

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self._groups.clear()


def _meta(value) -> dict:
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    try:
        out = json.loads(value)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _record_files(path: Path) -> dict[tuple[str, str], list[Path]]:
    found = {}
    for kind in KINDS:
        for fmt in FORMATS:
            files = sorted(p for p in path.glob(f"{kind}-*.{fmt}") if p.is_file())
            if files:
                found[(kind, fmt)] = files
    return found


def open_corpus(path: str | os.PathLike) -> Corpus:
    """The records of a raised, ordered or audited directory; :class:`ViewError` when it is none of them."""
    path = Path(path)
    if not path.exists():
        raise ViewError(f"{path}: no such directory")
    if not path.is_dir():
        raise ViewError(
            f"{path}: not a directory (give the directory that `modelraising raise` or `modelraising curriculum` wrote)"
        )
    side = path
    found = _record_files(path)
    if not found and (path / "audit.json").is_file():  # an audit written with --out: view what it audited
        try:
            audited = Path(json.loads((path / "audit.json").read_text(encoding="utf-8"))["directory"])
        except (OSError, ValueError, KeyError, TypeError):
            audited = None
        if audited is not None and audited.is_dir() and audited != path:
            found, path = _record_files(audited), audited
    if not found:
        raise ViewError(
            f"{path}: not a modelraising output: no raised-*.jsonl|parquet (from `modelraising raise`) "
            "or ordered-*.jsonl|parquet (from `modelraising curriculum`) files"
        )
    if len(found) > 1:
        kinds = ", ".join(f"{k}-*.{f}" for k, f in found)
        raise ViewError(f"{path}: holds the files of more than one run ({kinds}); keep one kind and format")
    (kind, fmt), files = next(iter(found.items()))
    return Corpus(path=path, kind=kind, fmt=fmt, files=files, side=side)
