"""Reading the ordered corpus (JSONL or Parquet) in order, and the held-out split decided while streaming."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from modelraising.document import Document
from modelraising.shards.config import CHARTER_TAG, CORPUS_GLOBS, HASH_SPACE, TokenizeError
from modelraising.tags import END_OF_TEXT

log = logging.getLogger(__name__)


# Reading the ordered corpus (JSONL or Parquet) in order.


@dataclass
class Entry:
    """One record of the corpus: a usable document, or a reject (``doc`` None, ``reason`` set)."""

    index: int
    doc: Document | None
    location: str
    reason: str | None = None
    preview: str = ""

    @property
    def stage_index(self) -> int:
        value = self.doc.metadata.get("stage_index") if self.doc else None
        return int(value) if isinstance(value, int) else -1

    @property
    def stage(self) -> str | None:
        return self.doc.metadata.get("stage") if self.doc else None

    @property
    def review(self) -> bool:
        return bool(self.doc and self.doc.metadata.get("review"))

    @property
    def doc_id(self) -> str:
        """The document's id; only usable entries (not rejects) are split and written."""
        assert self.doc is not None, f"{self.location}: a reject has no document"
        return self.doc.id


def corpus_files(corpus: Path) -> list[Path]:
    if not corpus.is_dir():
        raise TokenizeError(f"--corpus {corpus}: not a directory")
    found = {g: sorted(corpus.glob(g)) for g in CORPUS_GLOBS}
    files = [p for g in CORPUS_GLOBS for p in found[g]]
    if not files:
        raise TokenizeError(
            f"--corpus {corpus}: no ordered-*.jsonl or ordered-*.parquet files "
            "(is it the output of `modelraising curriculum`?)"
        )
    if all(found.values()):
        raise TokenizeError(f"--corpus {corpus}: holds both JSONL and Parquet ordered files; keep one format")
    return files


def _check(doc: Document) -> str | None:
    if not doc.text.strip():
        return "empty text"
    if END_OF_TEXT in doc.text:
        return f"text contains the document-boundary token {END_OF_TEXT}"
    return None


def _entry(index: int, location: str, record: Any, preview: str) -> Entry:
    try:
        doc = Document.from_dict(record)
    except (ValueError, AttributeError, TypeError) as exc:
        return Entry(index, None, location, f"not a corpus record: {exc}", preview)
    reason = _check(doc)
    return Entry(index, None if reason else doc, location, reason, doc.text[:200] if reason else "")


def jsonl_entries(path: Path, start_index: int, skip_before: int) -> Generator[Entry, None, int]:
    """Records of one JSONL file; returns the index after its last record. Lines are split on ``\n``
    only (binary mode), the way the curriculum step wrote them."""
    index = start_index
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            if index >= skip_before:  # records before a resume point are counted, not parsed
                location = f"{path.name}:{line_no}"
                preview = raw[:200].decode("utf-8", errors="replace")
                try:
                    record = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield Entry(index, None, location, f"invalid JSON: {exc}", preview)
                else:
                    yield _entry(index, location, record, preview)
            index += 1
    return index


def parquet_entries(path: Path, start_index: int, skip_before: int) -> Generator[Entry, None, int]:
    import pyarrow.parquet as pq

    index = start_index
    for batch in pq.ParquetFile(path).iter_batches(columns=["id", "text", "metadata"], batch_size=4096):
        rows = batch.to_pydict()
        for i in range(batch.num_rows):
            if index >= skip_before:
                location = f"{path.name}:row {index - start_index + 1}"
                try:
                    meta = json.loads(rows["metadata"][i] or "{}")
                except json.JSONDecodeError as exc:
                    yield Entry(index, None, location, f"invalid metadata JSON: {exc}")
                else:
                    record = {"id": rows["id"][i], "text": rows["text"][i], "metadata": meta}
                    yield _entry(index, location, record, str(rows["text"][i])[:200])
            index += 1
    return index


def count_documents(path: Path) -> int:
    """Records in one corpus file (a JSONL file is read through once per version of it, then remembered)."""
    stat = path.stat()
    return _count_file(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _count_file(path: str, size: int, mtime_ns: int) -> int:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as f:
        return sum(1 for raw in f if raw.strip())


def iter_corpus(files: list[Path], start: int = 0) -> Iterator[Entry]:
    """Every record in stream order, from record ``start`` on (files wholly before it are not read)."""
    index = 0
    for path in files:
        if start > index:
            n = count_documents(path)
            if index + n <= start:
                index += n
                continue
        reader = parquet_entries if path.suffix == ".parquet" else jsonl_entries
        index = yield from reader(path, index, start)


# --------------------------------------------------------------------------------------------------
# The held-out split: by a hash of the document id, decided while streaming.

SPLIT_HORIZON = 10_000  # documents held back at most while waiting for a first held-out one


def id_fraction(doc_id: str) -> float:
    """Where the id hashes to in [0, 1): the deterministic train/validation split."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") / HASH_SPACE


class Split:
    """Train or held out, by id hash (review copies follow their original), with at least one held-out
    document whenever the corpus has two distinct documents and ``fraction > 0``.

    Streaming: documents are held back until the first one that hashes into the held-out share shows
    up; if none does within the first ``SPLIT_HORIZON`` documents (or before the end), the one with the
    smallest hash among them is held out instead (the *fallback*). The result depends on the corpus
    alone, so the tokenizer's training pass and the encoding pass agree, and a resumed run (which
    restores the decision) too.
    """

    def __init__(self, fraction: float, decided: bool = False, fallback_id: str | None = None):
        self.fraction = fraction
        self.decided = decided or fraction <= 0
        self.fallback_id = fallback_id
        self.pending: list[tuple[Entry, Any]] = []

    def is_val(self, doc_id: str) -> bool:
        return doc_id == self.fallback_id or id_fraction(doc_id) < self.fraction

    def push(self, entry: Entry, payload: Any = None) -> list[tuple[bool, Entry, Any]]:
        """Route one usable document; returns the documents now decided, in stream order, with is_val."""
        if self.decided:
            return [(self.is_val(entry.doc_id), entry, payload)]
        if self.is_val(entry.doc_id):
            ready = [(False, e, p) for e, p in self.pending] + [(True, entry, payload)]
            self.pending, self.decided = [], True
            return ready
        self.pending.append((entry, payload))
        return self.decide() if len(self.pending) >= SPLIT_HORIZON else []

    def decide(self) -> list[tuple[bool, Entry, Any]]:
        """No held-out document so far: hold out the smallest-hash one of those held back."""
        if self.decided:
            return []
        ids = {e.doc_id for e, _ in self.pending}
        if len(ids) >= 2:
            self.fallback_id = min(ids, key=lambda i: (id_fraction(i), i))
        ready = [(e.doc_id == self.fallback_id, e, p) for e, p in self.pending]
        self.pending, self.decided = [], True
        return ready


@dataclass
class Plan:
    """What training a tokenizer needs to know first: the charter tags in use and the split."""

    tags: list[str]
    fallback_id: str | None
    train_documents: int
    usable: int


def plan_corpus(files: list[Path], val_fraction: float, progress: bool) -> Plan:
    split = Split(val_fraction)
    tags: set[str] = set()
    usable = train = 0
    for entry in tqdm(iter_corpus(files), desc="scan", unit="doc", disable=not progress, dynamic_ncols=True):
        if entry.doc is None:
            continue
        usable += 1
        if "<|" in entry.doc.text:
            tags.update(CHARTER_TAG.findall(entry.doc.text))
        train += sum(not is_val for is_val, _, _ in split.push(entry))
    train += sum(not is_val for is_val, _, _ in split.decide())
    return Plan(sorted(tags), split.fallback_id, train, usable)
