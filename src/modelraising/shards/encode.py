"""Encoding input files in parallel (local processes or Ray Data) before the sequential pass packs them."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from queue import Full, Queue
from typing import Any

import numpy as np

from modelraising.document import Document
from modelraising.io import atomic_write_bytes, atomic_write_json, sha256_file
from modelraising.pipeline import StepRun
from modelraising.shards.config import CHARTER_TAG, TokenizeConfig
from modelraising.shards.corpus import Entry, count_documents, iter_corpus, jsonl_entries, parquet_entries
from modelraising.shards.tokenizer import load_tokenizer, token_dtype
from modelraising.tags import END_OF_TEXT

log = logging.getLogger(__name__)


def entry_batches(entries: Iterator[Entry], config: TokenizeConfig) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    chars = 0
    for entry in entries:
        batch.append(entry)
        chars += len(entry.doc.text) if entry.doc else 0
        if len(batch) >= config.batch_docs or chars >= config.batch_chars:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Produce ``items`` in a background thread, ``depth`` ahead: reading and JSON-parsing the next
    batch overlaps with encoding this one (``encode_batch_fast`` releases the GIL)."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)

    thread = threading.Thread(target=produce, name="tokenize-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def encode_documents(tok, texts: list[str], eot: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """One multi-threaded batch call; returns the flat token array (each document followed by ``eot``)
    and the document boundaries into it."""
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)
    encodings = encode(texts, add_special_tokens=False)
    ids = [e.ids for e in encodings]
    bounds = np.zeros(len(ids) + 1, np.int64)
    np.cumsum([len(x) + 1 for x in ids], out=bounds[1:])
    flat = np.fromiter(chain.from_iterable(chain(x, (eot,)) for x in ids), dtype=dtype, count=int(bounds[-1]))
    return flat, bounds


def tags_in(texts: Iterable[str]) -> set[str]:
    return {t for text in texts if "<|" in text for t in CHARTER_TAG.findall(text)}


def encode_stream(files: list[Path], start: int, tok, eot: int, dtype: np.dtype, config: TokenizeConfig):
    """(entries, flat tokens, document bounds, charter tags) per batch, encoded here as they are read."""
    for batch in prefetch(entry_batches(iter_corpus(files, start=start), config)):
        texts = [e.doc.text for e in batch if e.doc is not None]
        flat, bounds = encode_documents(tok, texts, eot, dtype) if texts else (None, None)
        yield batch, flat, bounds, tags_in(texts)


# Encoding in parallel (local processes or Ray Data): every input file is encoded on its own into
# ``.state/encoded``; the sequential pass above then only packs the tokens into shards in order, so the
# shards, the split and the index are the same bytes as a single-process run.


@dataclass
class EncodeTask:
    file_index: int
    path: str
    start: int  # stream index of the file's first record
    tokenizer: str  # the run's tokenizer.json
    tokenizer_sha: str
    target: str  # .state/encoded/enc-NNNNN (.npy for the tokens, .json for the records)
    config: dict


_TOKENIZERS: dict[str, Any] = {}


def encode_file(task: EncodeTask) -> int:
    """Encode one input file: its tokens (each document + ``eot``) and, per record, what the shard
    writer needs (id, stage, or the reject). Written atomically, the record list last."""
    config = TokenizeConfig.model_validate(task.config)
    if task.tokenizer_sha not in _TOKENIZERS:
        _TOKENIZERS.clear()
        _TOKENIZERS[task.tokenizer_sha] = load_tokenizer(task.tokenizer)
    tok = _TOKENIZERS[task.tokenizer_sha]
    dtype, eot = token_dtype(tok.get_vocab_size()), tok.token_to_id(END_OF_TEXT)
    path = Path(task.path)
    reader = parquet_entries if path.suffix == ".parquet" else jsonl_entries
    parts, lengths, records, tags = [], [], [], set()
    for batch in entry_batches(reader(path, task.start, 0), config):
        texts = [e.doc.text for e in batch if e.doc is not None]
        if texts:
            flat, bounds = encode_documents(tok, texts, eot, dtype)
            parts.append(flat)
            lengths.append(np.diff(bounds))
            tags |= tags_in(texts)
        for e in batch:
            doc = e.doc
            records.append(
                [e.index, doc.id, e.stage_index, e.stage, len(doc.text)]
                if doc
                else [e.index, None, e.location, e.reason, e.preview]
            )
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype)
    target = Path(task.target)
    atomic_write_bytes(target.with_suffix(".npy"), _npy_bytes(flat))
    atomic_write_json(
        target.with_suffix(".json"),
        {
            "tokenizer_sha": task.tokenizer_sha,
            "records": records,
            "lengths": np.concatenate(lengths).tolist() if lengths else [],
            "tags": sorted(tags),
        },
    )
    return len(records)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def encode_files(files: list[Path], run: StepRun, config: TokenizeConfig) -> list[Path]:
    """Encode every input file not already encoded with this tokenizer; returns the targets in order."""
    out = run.out
    state = run.state / "encoded"
    state.mkdir(parents=True, exist_ok=True)
    sha = sha256_file(out / "tokenizer.json")
    tasks, start = [], 0
    for i, path in enumerate(files):
        tasks.append(
            EncodeTask(
                i, str(path), start, str(out / "tokenizer.json"), sha, str(state / f"enc-{i:05d}"), config.model_dump()
            )
        )
        start += count_documents(path)
    bar = run.runtime.bar("encode files", total=len(tasks), unit="file")
    todo = run.pending(tasks, done=lambda t: _encoded_ok(Path(t.target), sha), bar=bar, size=lambda t: 1)
    for _ in run.runtime.map(encode_file, todo):
        bar.update(1)
    bar.close()
    return [Path(t.target) for t in tasks]


def _encoded_ok(target: Path, sha: str) -> bool:
    meta = target.with_suffix(".json")
    return meta.exists() and json.loads(meta.read_text())["tokenizer_sha"] == sha


def encoded_stream(targets: list[Path], start: int):
    """The per-file encodings as batches for :func:`write_shards`, from record ``start`` on."""
    for target in targets:
        meta = json.loads(target.with_suffix(".json").read_text())
        records = [r for r in meta["records"] if r[0] >= start]
        if not records:
            continue
        skipped = sum(1 for r in meta["records"] if r[0] < start and r[1] is not None)
        bounds = np.concatenate([[0], np.cumsum(meta["lengths"])]).astype(np.int64)[skipped:]
        flat = np.load(target.with_suffix(".npy"), mmap_mode="r")
        entries = [
            Entry(r[0], Document(text="", id=r[1], metadata={"stage_index": r[2], "stage": r[3]}), "")
            if r[1] is not None
            else Entry(r[0], None, r[2], r[3], r[4])
            for r in records
        ]
        yield entries, flat, bounds, set(meta["tags"])
