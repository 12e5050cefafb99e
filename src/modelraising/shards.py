"""``modelraising tokenize``: an ordered corpus in, a tokenizer and binary token shards out.

Layout of the output directory::

    tokenizer.json, tokenizer_config.json   byte-level BPE (``AutoTokenizer.from_pretrained(dir)`` loads it)
    train-00000.bin ...      the training stream in curriculum order, ``shard_tokens`` tokens each (the last
                             one shorter), raw little-endian uint16 or uint32 (``numpy.memmap``)
    val.bin                  the held-out documents (chosen by a hash of the document id)
    index.json               dtype, token counts, shard files, stage and document offsets
    rejects.jsonl            unreadable records and empty documents, each with a reason
    manifest.json            config, counts, input hashes, versions
    .state/                  run fingerprint; per finished shard, a sidecar with its documents, the
                             held-out documents met since the previous shard, and where to resume

Every document is followed by one ``<|endoftext|>``; documents run across shard boundaries (nanoGPT
style). A shard is written atomically and then its sidecar, so after a kill the run continues after
the last complete shard and writes the same bytes as an uninterrupted run. Encoding goes through
``Tokenizer.encode_batch_fast`` (multi-threaded in Rust) on batches of documents and numpy arrays;
Python only loops over documents, never over tokens.

The reader side (``ShardIndex``, ``iter_documents``, ``decode``) is what the trainer and tests use.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from queue import Full, Queue
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

import modelraising
from modelraising.document import Document
from modelraising.io import atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file, sha256_json
from modelraising.outdir import exclusive_out
from modelraising.rejects import record_reject_share
from modelraising.tags import END_OF_TEXT, static_special_tokens

log = logging.getLogger(__name__)

INDEX_FORMAT = "modelraising-shards/1"
CORPUS_GLOBS = ("ordered-*.jsonl", "ordered-*.parquet")
_CHARTER_TAG = re.compile(r"<\|(?:value|harm):[A-Za-z0-9_\-]{1,60}\|>")
_HASH_SPACE = float(2**64)

class TokenizeError(Exception):
    """A run that cannot start or finish (no corpus, a foreign output directory, an unusable tokenizer)."""


class TokenizeConfig(BaseModel):
    """Everything that changes the output bytes (hashed into the run fingerprint), plus batch sizes."""

    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(default=8192, ge=64, le=2**32)
    val_fraction: float = Field(default=0.01, ge=0.0, lt=0.5)
    shard_tokens: int = Field(default=2**24, ge=8)
    min_frequency: int = Field(default=2, ge=1, description="BPE merges need a pair seen this often.")
    tokenizer_docs: int | None = Field(default=None, ge=1, description=(
        "Train the BPE on about this many training documents, a deterministic sample by id hash "
        "(default: all of them; a large corpus needs no more than a few million)."))
    batch_docs: int = Field(default=512, ge=1, description="Documents per encode_batch call (speed only).")
    batch_chars: int = Field(default=4_000_000, ge=1, description="...or fewer, up to this many characters.")

    def output_fields(self) -> dict:
        """The fields that decide the bytes written (batch sizes do not; ``tokenizer_docs`` only when set,
        so runs without it keep their fingerprint)."""
        exclude = {"batch_docs", "batch_chars"} | ({"tokenizer_docs"} if self.tokenizer_docs is None else set())
        return self.model_dump(exclude=exclude)


# --------------------------------------------------------------------------------------------------
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


def corpus_files(corpus: Path) -> list[Path]:
    if not corpus.is_dir():
        raise TokenizeError(f"--corpus {corpus}: not a directory")
    found = {g: sorted(corpus.glob(g)) for g in CORPUS_GLOBS}
    files = [p for g in CORPUS_GLOBS for p in found[g]]
    if not files:
        raise TokenizeError(f"--corpus {corpus}: no ordered-*.jsonl or ordered-*.parquet files "
                            "(is it the output of `modelraising curriculum`?)")
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


def _jsonl_entries(path: Path, start_index: int, skip_before: int) -> Iterator[Entry]:
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


def _parquet_entries(path: Path, start_index: int, skip_before: int) -> Iterator[Entry]:
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


def _count(path: Path) -> int:
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
            n = _count(path)
            if index + n <= start:
                index += n
                continue
        reader = _parquet_entries if path.suffix == ".parquet" else _jsonl_entries
        index = yield from reader(path, index, start)


# --------------------------------------------------------------------------------------------------
# The held-out split: by a hash of the document id, decided while streaming.

SPLIT_HORIZON = 10_000  # documents held back at most while waiting for a first held-out one


def id_fraction(doc_id: str) -> float:
    """Where the id hashes to in [0, 1): the deterministic train/validation split."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") / _HASH_SPACE


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
            return [(self.is_val(entry.doc.id), entry, payload)]
        if self.is_val(entry.doc.id):
            ready = [(False, e, p) for e, p in self.pending] + [(True, entry, payload)]
            self.pending, self.decided = [], True
            return ready
        self.pending.append((entry, payload))
        return self.decide() if len(self.pending) >= SPLIT_HORIZON else []

    def decide(self) -> list[tuple[bool, Entry, Any]]:
        """No held-out document so far: hold out the smallest-hash one of those held back."""
        if self.decided:
            return []
        ids = {e.doc.id for e, _ in self.pending}
        if len(ids) >= 2:
            self.fallback_id = min(ids, key=lambda i: (id_fraction(i), i))
        ready = [(e.doc.id == self.fallback_id, e, p) for e, p in self.pending]
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
            tags.update(_CHARTER_TAG.findall(entry.doc.text))
        train += sum(not is_val for is_val, _, _ in split.push(entry))
    train += sum(not is_val for is_val, _, _ in split.decide())
    return Plan(sorted(tags), split.fallback_id, train, usable)


# --------------------------------------------------------------------------------------------------
# Tokenizer: train a byte-level BPE, or reuse one so that several arms share a vocabulary.


def special_tokens(charter_tags: list[str]) -> list[str]:
    """``<|endoftext|>`` first (id 0), the speaker and closing tags, then the charter's value/harm tags."""
    fixed = static_special_tokens()
    return fixed + [t for t in sorted(charter_tags) if t not in fixed]


def train_tokenizer(texts: Iterator[str], vocab_size: int, specials: list[str], min_frequency: int, length: int):
    """Byte-level BPE with no normalizer and no prefix space: decoding gives back the exact text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer, length=length)
    return tok


def load_tokenizer(path: str | Path):
    """A ``tokenizers.Tokenizer`` from a directory holding ``tokenizer.json`` (or the file itself)."""
    from tokenizers import Tokenizer

    path = Path(path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.exists():
        raise TokenizeError(f"--tokenizer {path}: no tokenizer.json there")
    try:
        tok = Tokenizer.from_file(str(file))
    except Exception as exc:  # the Rust side raises plain Exceptions
        raise TokenizeError(f"--tokenizer {path}: cannot load tokenizer.json ({exc})") from None
    if tok.token_to_id(END_OF_TEXT) is None:
        raise TokenizeError(f"--tokenizer {path}: has no {END_OF_TEXT} token")
    return tok


def save_tokenizer(tok, out: Path) -> None:
    """Save as a ``PreTrainedTokenizerFast`` (eos = bos = pad = ``<|endoftext|>``), atomically: the
    files are written in ``.state`` and moved into place."""
    from transformers import PreTrainedTokenizerFast

    specials = [t.content for t in tok.get_added_tokens_decoder().values() if t.special]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT, pad_token=END_OF_TEXT,
        additional_special_tokens=[t for t in specials if t != END_OF_TEXT], clean_up_tokenization_spaces=False,
    )
    tmp = out / ".state" / "tokenizer.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    fast.save_pretrained(tmp)
    for path in sorted(tmp.iterdir()):
        os.replace(path, out / path.name)
    shutil.rmtree(tmp, ignore_errors=True)


def _training_texts(files: list[Path], plan: Plan, val_fraction: float, share: float = 1.0) -> Iterator[str]:
    """Training documents only (no held-out text, no review repeats) feed the tokenizer; with
    ``share < 1`` those whose id hashes (independently of the split) below ``share``."""
    split = Split(val_fraction, decided=True, fallback_id=plan.fallback_id)
    for entry in iter_corpus(files):
        if entry.doc is not None and not entry.review and not split.is_val(entry.doc.id):
            if share >= 1.0 or id_fraction(f"tokenizer/{entry.doc.id}") < share:
                yield entry.doc.text


def prepare_tokenizer(files: list[Path], out: Path, config: TokenizeConfig, reuse: Path | None,
                      progress: bool) -> tuple[Any, bool, Plan | None]:
    """The run's tokenizer, saved into ``out``: reused, already trained by an earlier attempt, or trained
    now (after a scan for the charter tags and the split: the only case that reads the corpus twice)."""
    marker = out / ".state" / "tokenizer.done"
    plan = None
    if reuse is not None:
        tok = load_tokenizer(reuse)
    elif marker.exists() and (out / "tokenizer.json").exists():
        return load_tokenizer(out), True, None
    else:
        plan = plan_corpus(files, config.val_fraction, progress)
        if not plan.usable:
            raise TokenizeError(f"--corpus: no usable documents in {files[0].parent} (see {out / 'rejects.jsonl'})")
        specials = special_tokens(plan.tags)
        if config.vocab_size < 256 + len(specials):
            raise TokenizeError(f"--vocab-size {config.vocab_size}: a byte-level BPE needs at least "
                                f"{256 + len(specials)} (256 bytes + {len(specials)} special tokens)")
        share = min(1.0, config.tokenizer_docs / plan.train_documents) if config.tokenizer_docs else 1.0
        expected = round(share * plan.train_documents)
        log.info("training a %d-token byte-level BPE on %s%d documents", config.vocab_size,
                 "a sample of about " if share < 1 else "", expected)
        started = time.perf_counter()
        texts = tqdm(_training_texts(files, plan, config.val_fraction, share), total=expected,
                     desc="train tokenizer", unit="doc", disable=not progress, dynamic_ncols=True)
        tok = train_tokenizer(texts, config.vocab_size, specials, config.min_frequency, expected)
        log.info("tokenizer trained in %.1fs (vocabulary %d)", time.perf_counter() - started, tok.get_vocab_size())
    save_tokenizer(tok, out)
    atomic_write_text(marker, sha256_file(out / "tokenizer.json") + "\n")
    return load_tokenizer(out), reuse is None, plan


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


# --------------------------------------------------------------------------------------------------
# Writing: fixed-size shards with a sidecar each (documents, held-out documents, resume point).


@dataclass
class Resume:
    shard: int = 0  # index of the next shard to fill
    record: int = 0  # first record not fully written
    skip: int = 0  # tokens of that record already in earlier shards
    train_tokens: int = 0
    fallback_id: str | None = None  # the split's decision, once taken
    decided: bool = False


def _sidecar(out: Path, shard: int) -> Path:
    return out / ".state" / f"shard-{shard:05d}.json"


def _val_part(out: Path, shard: int) -> Path:
    return out / ".state" / f"val-{shard:05d}.bin"


def shard_name(index: int) -> str:
    return f"train-{index:05d}.bin"


def resume_point(out: Path) -> Resume:
    """After the last shard whose sidecar was written (sidecars are written last, atomically)."""
    done = 0
    while _sidecar(out, done).exists():
        done += 1
    if not done:
        return Resume()
    last = json.loads(_sidecar(out, done - 1).read_text())
    return Resume(shard=done, record=last["next"]["record"], skip=last["next"]["skip"],
                  train_tokens=last["start"] + last["tokens"], fallback_id=last["split"]["fallback_id"],
                  decided=True)


class ShardWriter:
    """Packs document token arrays into fixed-size shards; flushes a shard and its sidecar when full.

    A sidecar records the documents that start in its shard, the held-out documents and the rejects met
    since the previous one, the split decision, and the record to resume at.
    """

    def __init__(self, out: Path, dtype: np.dtype, shard_tokens: int, resume: Resume, split: Split):
        self.out = out
        self.dtype = dtype
        self.size = shard_tokens
        self.split = split
        self.buf = np.empty(shard_tokens, dtype)
        self.fill = 0
        self.shard = resume.shard
        self.start = resume.train_tokens
        self.next_record = resume.record if resume.shard else -1  # where the last sidecar resumes
        self.docs: list[list] = []  # [id, offset, stage_index, stage] of documents starting in this shard
        self.val_ids: list[str] = []
        self.val_parts: list[np.ndarray] = []
        self.rejects: list[dict] = []

    def add_reject(self, entry: Entry) -> None:
        self.rejects.append({"location": entry.location, "reason": entry.reason, "preview": entry.preview})

    def add_val(self, doc_id: str, tokens: np.ndarray) -> None:
        self.val_ids.append(doc_id)
        self.val_parts.append(tokens)

    def add_train(self, entry: Entry, tokens: np.ndarray, skip: int = 0) -> None:
        if skip == 0:
            self.docs.append([entry.doc.id, self.start + self.fill, entry.stage_index, entry.stage])
        pos = skip
        while pos < len(tokens):
            take = min(len(tokens) - pos, self.size - self.fill)
            self.buf[self.fill : self.fill + take] = tokens[pos : pos + take]
            self.fill += take
            pos += take
            if self.fill == self.size:
                partial = pos < len(tokens)
                self.flush(entry.index if partial else entry.index + 1, pos if partial else 0)

    def flush(self, next_record: int, next_skip: int) -> None:
        """Write the shard (if it holds tokens) and the held-out tokens met since the last one, then the
        sidecar that makes both count."""
        name = shard_name(self.shard) if self.fill else None
        if name:
            atomic_write_bytes(self.out / name, self.buf[: self.fill].tobytes())
        if self.val_parts:  # most shards meet no held-out document: no file then
            atomic_write_bytes(_val_part(self.out, self.shard), np.concatenate(self.val_parts).tobytes())
        atomic_write_json(_sidecar(self.out, self.shard), {
            "shard": self.shard, "file": name, "start": self.start, "tokens": self.fill, "docs": self.docs,
            "val": {"ids": self.val_ids, "lengths": [len(p) for p in self.val_parts]}, "rejects": self.rejects,
            "split": {"fallback_id": self.split.fallback_id}, "next": {"record": next_record, "skip": next_skip},
        })
        self.shard += 1
        self.next_record = next_record
        self.start += self.fill
        self.fill = 0
        self.docs, self.val_ids, self.val_parts, self.rejects = [], [], [], []


def _batches(entries: Iterator[Entry], config: TokenizeConfig) -> Iterator[list[Entry]]:
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


def _tags_in(texts: Iterable[str]) -> set[str]:
    return {t for text in texts if "<|" in text for t in _CHARTER_TAG.findall(text)}


def _encode_stream(files: list[Path], start: int, tok, eot: int, dtype: np.dtype, config: TokenizeConfig):
    """(entries, flat tokens, document bounds, charter tags) per batch, encoded here as they are read."""
    for batch in prefetch(_batches(iter_corpus(files, start=start), config)):
        texts = [e.doc.text for e in batch if e.doc is not None]
        flat, bounds = encode_documents(tok, texts, eot, dtype) if texts else (None, None)
        yield batch, flat, bounds, _tags_in(texts)


def write_shards(files: list[Path], plan: Plan | None, tok, out: Path, config: TokenizeConfig,
                 progress: bool, encoded: list[Path] | None = None) -> tuple[Resume, set[str]]:
    """Encode the corpus in order into shards, continuing after the last complete shard; also returns
    the charter tags met (to warn when a reused tokenizer lacks one). With ``encoded`` (one file per
    input file, from :func:`encode_files`), the tokens come from there and are only assembled here."""
    resume = resume_point(out)
    if resume.decided:
        split = Split(config.val_fraction, decided=True, fallback_id=resume.fallback_id)
    elif plan is not None:
        split = Split(config.val_fraction, decided=True, fallback_id=plan.fallback_id)
    else:
        split = Split(config.val_fraction)
    dtype = token_dtype(tok.get_vocab_size())
    eot = tok.token_to_id(END_OF_TEXT)
    writer = ShardWriter(out, dtype, config.shard_tokens, resume, split)
    tags: set[str] = set()
    total = sum(_count(p) for p in files)
    bar = tqdm(total=total, initial=min(resume.record, total), desc="encode" if encoded is None else "assemble",
               unit="doc", disable=not progress, dynamic_ncols=True)
    stream = (_encode_stream(files, resume.record, tok, eot, dtype, config) if encoded is None
              else _encoded_stream(encoded, resume.record))
    for batch, flat, bounds, batch_tags in stream:
        tags |= batch_tags
        k = 0
        for entry in batch:
            if entry.doc is None:
                writer.add_reject(entry)
                continue
            tokens = flat[bounds[k] : bounds[k + 1]]
            k += 1
            for is_val, e, t in split.push(entry, tokens):
                _route(writer, is_val, e, t, resume)
        bar.update(len(batch))
    bar.close()
    for is_val, e, t in split.decide():
        _route(writer, is_val, e, t, resume)
    if writer.fill or writer.val_parts or writer.rejects or writer.next_record < total:
        writer.flush(total, 0)  # the last, short shard (or only the held-out and rejected tail)
    return resume, tags


def _route(writer: ShardWriter, is_val: bool, entry: Entry, tokens: np.ndarray, resume: Resume) -> None:
    if is_val:
        writer.add_val(entry.doc.id, tokens)
    else:
        writer.add_train(entry, tokens, resume.skip if entry.index == resume.record else 0)


# --------------------------------------------------------------------------------------------------
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
    reader = _parquet_entries if path.suffix == ".parquet" else _jsonl_entries
    parts, lengths, records, tags = [], [], [], set()
    for batch in _batches(reader(path, task.start, 0), config):
        texts = [e.doc.text for e in batch if e.doc is not None]
        if texts:
            flat, bounds = encode_documents(tok, texts, eot, dtype)
            parts.append(flat)
            lengths.append(np.diff(bounds))
            tags |= _tags_in(texts)
        for e in batch:
            doc = e.doc
            records.append([e.index, doc.id, e.stage_index, e.stage, len(doc.text)] if doc else
                           [e.index, None, e.location, e.reason, e.preview])
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype)
    target = Path(task.target)
    atomic_write_bytes(target.with_suffix(".npy"), _npy_bytes(flat))
    atomic_write_json(target.with_suffix(".json"), {"tokenizer_sha": task.tokenizer_sha, "records": records,
                                                    "lengths": np.concatenate(lengths).tolist() if lengths else [],
                                                    "tags": sorted(tags)})
    return len(records)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def encode_files(files: list[Path], out: Path, config: TokenizeConfig, workers: int, executor: str,
                 ray_address: str | None, progress: bool) -> list[Path]:
    """Encode every input file not already encoded with this tokenizer; returns the targets in order."""
    from modelraising.executor import map_unordered

    state = out / ".state" / "encoded"
    state.mkdir(parents=True, exist_ok=True)
    sha = sha256_file(out / "tokenizer.json")
    tasks, start = [], 0
    for i, path in enumerate(files):
        tasks.append(EncodeTask(i, str(path), start, str(out / "tokenizer.json"), sha, str(state / f"enc-{i:05d}"),
                                config.model_dump()))
        start += _count(path)
    todo = [t for t in tasks if not _encoded_ok(Path(t.target), sha)]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="encode files", unit="file",
               disable=not progress, dynamic_ncols=True)
    for _ in map_unordered(encode_file, todo, workers, executor=executor, ray_address=ray_address):
        bar.update(1)
    bar.close()
    return [Path(t.target) for t in tasks]


def _encoded_ok(target: Path, sha: str) -> bool:
    meta = target.with_suffix(".json")
    return meta.exists() and json.loads(meta.read_text())["tokenizer_sha"] == sha


def _encoded_stream(targets: list[Path], start: int):
    """The per-file encodings as batches for :func:`write_shards`, from record ``start`` on."""
    for target in targets:
        meta = json.loads(target.with_suffix(".json").read_text())
        records = [r for r in meta["records"] if r[0] >= start]
        if not records:
            continue
        skipped = sum(1 for r in meta["records"] if r[0] < start and r[1] is not None)
        bounds = np.concatenate([[0], np.cumsum(meta["lengths"])]).astype(np.int64)[skipped:]
        flat = np.load(target.with_suffix(".npy"), mmap_mode="r")
        entries = [Entry(r[0], Document(text="", id=r[1], metadata={"stage_index": r[2], "stage": r[3]}), "")
                   if r[1] is not None else Entry(r[0], None, r[2], r[3], r[4]) for r in records]
        yield entries, flat, bounds, set(meta["tags"])


# --------------------------------------------------------------------------------------------------
# Finishing: the validation file and index.json from the sidecars.


def _stage_blocks(docs: list[list], train_tokens: int) -> tuple[list[dict], bool, dict[str, int]]:
    """Contiguous runs of stage in the train stream; blocked when every stage forms one run."""
    runs: list[dict] = []
    for i, (_, offset, stage_index, stage) in enumerate(docs):
        if not runs or runs[-1]["index"] != stage_index:
            if runs:
                runs[-1]["end"] = offset
            runs.append({"name": stage, "index": stage_index, "start": offset, "end": None, "documents": 0})
        runs[-1]["documents"] += 1
    if runs:
        runs[-1]["end"] = train_tokens
    tokens: dict[str, int] = {}
    for r in runs:
        key = r["name"] if r["name"] is not None else "(none)"
        tokens[key] = tokens.get(key, 0) + r["end"] - r["start"]
    blocked = len({r["index"] for r in runs}) == len(runs) and all(r["index"] >= 0 for r in runs)
    return (runs if blocked else []), blocked, tokens


def finish(out: Path, dtype: np.dtype, eot: int, vocab_size: int, config: TokenizeConfig, corpus: Path,
           corpus_manifest: str | None, trained: bool, reuse: Path | None) -> tuple[dict, int]:
    """val.bin, rejects.jsonl and index.json, assembled from the sidecars."""
    n = resume_point(out).shard
    sidecars = [json.loads(_sidecar(out, i).read_text()) for i in range(n)]
    shards = [{"file": s["file"], "tokens": s["tokens"]} for s in sidecars if s["file"]]
    docs = [d for s in sidecars for d in s["docs"]]
    train_tokens = sum(s["tokens"] for s in sidecars)
    rejects = [r for s in sidecars for r in s["rejects"]]
    atomic_write_text(out / "rejects.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    val_ids = [i for s in sidecars for i in s["val"]["ids"]]
    val_lengths = [n for s in sidecars for n in s["val"]["lengths"]]
    tmp = out / ".state" / "val.bin.tmp"
    with open(tmp, "wb") as f:
        for i in range(n):
            if sidecars[i]["val"]["ids"]:
                f.write(_val_part(out, i).read_bytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / "val.bin")
    stages, blocked, stage_tokens = _stage_blocks(docs, train_tokens)
    val_offsets = np.concatenate([[0], np.cumsum(val_lengths)[:-1]]).astype(int).tolist() if val_lengths else []
    index = {
        "format": INDEX_FORMAT,
        "dtype": dtype.name,
        "vocab_size": vocab_size,
        "eot_id": eot,
        "shard_tokens": config.shard_tokens,
        "shards": shards,
        "train_tokens": train_tokens,
        "val": {"file": "val.bin", "tokens": int(sum(val_lengths)), "documents": len(val_ids),
                "ids": val_ids, "offsets": val_offsets},
        "stages": stages,
        "stage_blocked": blocked,
        "stage_tokens": stage_tokens,
        "documents": {"ids": [d[0] for d in docs], "offsets": [d[1] for d in docs],
                      "stage_index": [d[2] for d in docs]},
        "corpus": {"path": str(corpus), "manifest_sha256": corpus_manifest},
        "tokenizer": {"trained": trained, "source": str(reuse) if reuse else None,
                      "sha256": sha256_file(out / "tokenizer.json")},
    }
    if not docs and not val_ids:
        raise TokenizeError(f"--corpus {corpus}: no usable documents (see {out / 'rejects.jsonl'})")
    atomic_write_json(out / "index.json", index)
    return index, len(rejects)


# --------------------------------------------------------------------------------------------------
# The step.


def _prepare_out_dir(out: Path, fingerprint: str, overwrite: bool) -> None:
    state_file = out / ".state" / "run.json"
    if state_file.exists():
        if json.loads(state_file.read_text())["fingerprint"] != fingerprint:
            if not overwrite:
                raise TokenizeError(f"{out} holds shards of a different corpus, tokenizer or config; "
                                    "use a new --out, or --overwrite to discard them")
            clear_outputs(out)
    elif (any(out.glob("train-*.bin")) or (out / "index.json").exists()) and not overwrite:
        raise TokenizeError(f"{out} already holds shards from an unknown run; use a new --out or --overwrite")
    elif overwrite:
        clear_outputs(out)
    (out / ".state").mkdir(parents=True, exist_ok=True)
    atomic_write_json(state_file, {"fingerprint": fingerprint})


def clear_outputs(out: Path) -> None:
    for path in [*out.glob("train-*.bin"), *(out / n for n in ("val.bin", "index.json", "manifest.json",
                                                             "rejects.jsonl", "tokenizer.json",
                                                             "tokenizer_config.json", "special_tokens_map.json"))]:
        path.unlink(missing_ok=True)
    shutil.rmtree(out / ".state", ignore_errors=True)


def _specials_of(tok) -> list[str]:
    return [t.content for _, t in sorted(tok.get_added_tokens_decoder().items()) if t.special]


def _warn_missing_specials(tok, reuse: Path | None, tags: set[str]) -> None:
    """A reused tokenizer that lacks a tag of this corpus encodes it as ordinary tokens (still lossless)."""
    if reuse is None:
        return
    known = set(_specials_of(tok))
    missing = [t for t in special_tokens(sorted(tags)) if t not in known]
    if missing:
        log.warning("tokenizer %s lacks %d special token(s) used here (%s): they are split into ordinary tokens",
                    reuse, len(missing), ", ".join(missing[:5]))


def _versions() -> dict:
    import tokenizers
    import transformers

    return {"modelraising": modelraising.__version__, "python": platform.python_version(), "numpy": np.__version__,
            "tokenizers": tokenizers.__version__, "transformers": transformers.__version__}


@exclusive_out("out_dir")
def tokenize_corpus(
    corpus_dir: str | Path,
    out_dir: str | Path,
    config: TokenizeConfig,
    *,
    tokenizer: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    workers: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
) -> dict:
    """Train (or reuse) a tokenizer and write the corpus as shards into ``out_dir``; returns the manifest.

    ``workers > 1`` or ``executor="ray"``: every input file is encoded in parallel first (local processes
    or Ray Data tasks), then the shards are assembled in order; the output is the same bytes."""
    started = time.perf_counter()
    corpus, out = Path(corpus_dir), Path(out_dir)
    reuse = Path(tokenizer) if tokenizer else None
    files = corpus_files(corpus)
    if reuse is not None:
        load_tokenizer(reuse)  # fail early, before any output is touched
    inputs = [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in files]
    corpus_manifest = sha256_file(corpus / "manifest.json") if (corpus / "manifest.json").exists() else None
    fingerprint = sha256_json({
        "version": modelraising.__version__, "config": config.output_fields(),
        "inputs": [i["sha256"] for i in inputs],
        "tokenizer": sha256_file(reuse / "tokenizer.json" if reuse.is_dir() else reuse) if reuse else None,
    })
    _prepare_out_dir(out, fingerprint, overwrite)

    tok, trained, plan = prepare_tokenizer(files, out, config, reuse, progress)
    encode_started = time.perf_counter()
    encoded = None
    if (workers > 1 or executor == "ray") and resume_point(out).record < sum(_count(p) for p in files):
        encoded = encode_files(files, out, config, workers, executor, ray_address, progress)
    resume, tags = write_shards(files, plan, tok, out, config, progress, encoded)
    shutil.rmtree(out / ".state" / "encoded", ignore_errors=True)  # the shards hold the same tokens now
    encode_s = time.perf_counter() - encode_started
    dtype, eot = token_dtype(tok.get_vocab_size()), tok.token_to_id(END_OF_TEXT)
    index, n_rejects = finish(out, dtype, eot, tok.get_vocab_size(), config, corpus, corpus_manifest, trained, reuse)
    _warn_missing_specials(tok, reuse, tags)
    elapsed = time.perf_counter() - started
    counts = {
        "records": len(index["documents"]["ids"]) + index["val"]["documents"] + n_rejects,
        "train_documents": len(index["documents"]["ids"]),
        "val_documents": index["val"]["documents"], "rejects": n_rejects,
        "train_tokens": index["train_tokens"], "val_tokens": index["val"]["tokens"], "shards": len(index["shards"]),
    }
    manifest = {
        "step": "tokenize",
        "config": config.model_dump(),
        "inputs": inputs,
        "corpus": {"path": str(corpus), "manifest_sha256": corpus_manifest},
        "tokenizer": {"trained": trained, "source": str(reuse) if reuse else None,
                      "vocab_size": tok.get_vocab_size(), "special_tokens": _specials_of(tok),
                      "sha256": index["tokenizer"]["sha256"]},
        "counts": counts,
        "versions": _versions(),
        "run": {"executor": executor, "workers": workers, "elapsed_s": round(elapsed, 3),
                "encode_s": round(encode_s, 3),
                "resumed_from_shard": resume.shard,
                "tokens_per_s": (round((counts["train_tokens"] + counts["val_tokens"]) / encode_s)
                                 if encode_s else None)},
    }
    record_reject_share(manifest, "tokenize", n_rejects, counts["records"], out / "rejects.jsonl")
    atomic_write_json(out / "manifest.json", manifest)
    log.info("tokenized %d documents into %d shards (%d train + %d val tokens) in %.1fs", counts["train_documents"],
             counts["shards"], counts["train_tokens"], counts["val_tokens"], elapsed)
    return manifest


# --------------------------------------------------------------------------------------------------
# Reader side: what the trainer and the tests use.


@dataclass
class ShardIndex:
    """``index.json`` of a shards directory, with token access across shard boundaries."""

    root: Path
    data: dict
    _maps: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str | Path) -> "ShardIndex":
        root = Path(root)
        path = root / "index.json"
        if not path.exists():
            raise FileNotFoundError(f"{root}: no index.json (is it the output of `modelraising tokenize`?)")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != INDEX_FORMAT:
            raise ValueError(f"{path}: format {data.get('format')!r}, expected {INDEX_FORMAT!r}")
        return cls(root, data)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data["dtype"])

    @property
    def eot_id(self) -> int:
        return self.data["eot_id"]

    @property
    def train_tokens(self) -> int:
        return self.data["train_tokens"]

    @property
    def shard_starts(self) -> np.ndarray:
        """Token offset where each shard starts in the train stream, plus the total at the end."""
        return np.concatenate([[0], np.cumsum([s["tokens"] for s in self.data["shards"]])]).astype(np.int64)

    def memmap(self, file: str) -> np.ndarray:
        if file not in self._maps:
            path = self.root / file
            self._maps[file] = (np.memmap(path, dtype=self.dtype, mode="r") if path.stat().st_size
                                else np.zeros(0, self.dtype))
        return self._maps[file]

    def tokens(self, start: int, end: int, split: str = "train") -> np.ndarray:
        """Tokens [start, end) of the train stream (across shards) or of the validation file."""
        if split == "val":
            return np.asarray(self.memmap(self.data["val"]["file"])[start:end])
        starts = self.shard_starts
        first = int(np.searchsorted(starts, start, side="right")) - 1
        parts = []
        for i in range(max(first, 0), len(self.data["shards"])):
            if starts[i] >= end:
                break
            lo, hi = max(start, starts[i]) - starts[i], min(end, starts[i + 1]) - starts[i]
            parts.append(self.memmap(self.data["shards"][i]["file"])[lo:hi])
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def document_spans(self, split: str = "train") -> list[tuple[str, int, int]]:
        """(id, start, end) per document; the span includes the trailing end-of-text token."""
        block = self.data["documents"] if split == "train" else self.data["val"]
        total = self.train_tokens if split == "train" else self.data["val"]["tokens"]
        offsets = list(block["offsets"]) + [total]
        return [(i, offsets[k], offsets[k + 1]) for k, i in enumerate(block["ids"])]


def iter_documents(root: str | Path, split: str = "train") -> Iterator[tuple[str, np.ndarray]]:
    """(id, token ids without the trailing end-of-text) for every document, in stream order."""
    index = ShardIndex.load(root)
    for doc_id, start, end in index.document_spans(split):
        tokens = index.tokens(start, end, split)
        yield doc_id, tokens[:-1] if len(tokens) and tokens[-1] == index.eot_id else tokens


def decode(tokenizer_or_dir, ids) -> str:
    """Token ids back to text, special tokens included (the inverse of encoding, byte for byte)."""
    tok = load_tokenizer(tokenizer_or_dir) if isinstance(tokenizer_or_dir, (str, Path)) else tokenizer_or_dir
    return tok.decode([int(i) for i in np.asarray(ids).tolist()], skip_special_tokens=False)
