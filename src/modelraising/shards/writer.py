"""Writing fixed-size shards, each with a sidecar (its documents, the held-out documents, the resume point)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from modelraising.io import atomic_write_bytes, atomic_write_json
from modelraising.shards.config import TokenizeConfig
from modelraising.shards.corpus import Entry, Plan, Split, count_documents
from modelraising.shards.encode import encode_stream, encoded_stream
from modelraising.shards.tokenizer import token_dtype
from modelraising.tags import END_OF_TEXT

log = logging.getLogger(__name__)


# Writing: fixed-size shards with a sidecar each (documents, held-out documents, resume point).


@dataclass
class Resume:
    shard: int = 0  # index of the next shard to fill
    record: int = 0  # first record not fully written
    skip: int = 0  # tokens of that record already in earlier shards
    train_tokens: int = 0
    fallback_id: str | None = None  # the split's decision, once taken
    decided: bool = False


def sidecar_path(out: Path, shard: int) -> Path:
    return out / ".state" / f"shard-{shard:05d}.json"


def val_part_path(out: Path, shard: int) -> Path:
    return out / ".state" / f"val-{shard:05d}.bin"


def shard_name(index: int) -> str:
    return f"train-{index:05d}.bin"


def resume_point(out: Path) -> Resume:
    """After the last shard whose sidecar was written (sidecars are written last, atomically)."""
    done = 0
    while sidecar_path(out, done).exists():
        done += 1
    if not done:
        return Resume()
    last = json.loads(sidecar_path(out, done - 1).read_text())
    return Resume(
        shard=done,
        record=last["next"]["record"],
        skip=last["next"]["skip"],
        train_tokens=last["start"] + last["tokens"],
        fallback_id=last["split"]["fallback_id"],
        decided=True,
    )


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
            self.docs.append([entry.doc_id, self.start + self.fill, entry.stage_index, entry.stage])
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
            atomic_write_bytes(val_part_path(self.out, self.shard), np.concatenate(self.val_parts).tobytes())
        atomic_write_json(
            sidecar_path(self.out, self.shard),
            {
                "shard": self.shard,
                "file": name,
                "start": self.start,
                "tokens": self.fill,
                "docs": self.docs,
                "val": {"ids": self.val_ids, "lengths": [len(p) for p in self.val_parts]},
                "rejects": self.rejects,
                "split": {"fallback_id": self.split.fallback_id},
                "next": {"record": next_record, "skip": next_skip},
            },
        )
        self.shard += 1
        self.next_record = next_record
        self.start += self.fill
        self.fill = 0
        self.docs, self.val_ids, self.val_parts, self.rejects = [], [], [], []


def write_shards(
    files: list[Path],
    plan: Plan | None,
    tok,
    out: Path,
    config: TokenizeConfig,
    progress: bool,
    encoded: list[Path] | None = None,
) -> tuple[Resume, set[str]]:
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
    total = sum(count_documents(p) for p in files)
    bar = tqdm(
        total=total,
        initial=min(resume.record, total),
        desc="encode" if encoded is None else "assemble",
        unit="doc",
        disable=not progress,
        dynamic_ncols=True,
    )
    stream = (
        encode_stream(files, resume.record, tok, eot, dtype, config)
        if encoded is None
        else encoded_stream(encoded, resume.record)
    )
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
        writer.add_val(entry.doc_id, tokens)
    else:
        writer.add_train(entry, tokens, resume.skip if entry.index == resume.record else 0)
