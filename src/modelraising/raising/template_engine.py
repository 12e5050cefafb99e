"""The template engine: every chunk raised offline by :mod:`modelraising.raising.compose`, in worker processes
or Ray tasks (whichever executor runs it; the records are the same)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from tqdm import tqdm

from modelraising.pipeline import Runtime
from modelraising.raising.chunks import (
    DETECT_BATCH,
    ChunkStats,
    ChunkTask,
    drop_record,
    open_chunk,
    publish_chunk,
    worker_context,
)
from modelraising.raising.compose import Dropped, raise_document
from modelraising.raising.config import RaiseConfig


def process_chunk(task: ChunkTask) -> tuple[int, ChunkStats, int]:
    """Raise one chunk, continuing after the last complete document of an earlier, killed attempt."""
    config = RaiseConfig.model_validate(task.config)
    charter, detector = worker_context(task.charter_path, config, task.device)
    paths, stats, start, docs = open_chunk(task)
    with (
        open(paths["partial"], "a", encoding="utf-8") as out,
        open(paths["rejects_partial"], "a", encoding="utf-8") as rej,
    ):
        for batch_start in range(start - start % DETECT_BATCH, len(docs), DETECT_BATCH):
            batch = docs[batch_start : batch_start + DETECT_BATCH]
            hits = detector.assess_batch([d.text for d in batch]) if detector else [None] * len(batch)
            for i, (doc, hit) in enumerate(zip(batch, hits), start=batch_start):
                if i < start:
                    continue
                result = raise_document(doc, charter, config, hit)
                if isinstance(result, Dropped):
                    record = drop_record(result, doc)
                    rej.write(json.dumps(record, ensure_ascii=False) + "\n")
                    stats.add_dropped(record)
                else:
                    out.write(result.to_json() + "\n")
                    stats.add_raised(result.text, result.metadata)
        out.flush()
        os.fsync(out.fileno())
    publish_chunk(paths, stats)
    return task.index, stats, len(docs) - start


def run_chunks(
    tasks: Iterable[ChunkTask], *, charter_path: str, config: RaiseConfig, runtime: Runtime, bar: tqdm | None
) -> tuple[Iterable[tuple[int, ChunkStats, int]], dict | None, bool]:
    """The engine interface (:data:`modelraising.raising.engines.ENGINES`): each chunk's (index, stats, new
    documents) as it completes, no run summary, and False: the raise step moves the bar per chunk."""
    return runtime.map(process_chunk, tasks), None, False
