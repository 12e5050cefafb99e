"""The step lifecycle, written once: where a step's chunks run, what is already done, and how a run ends.

A data step (raise, curriculum, tokenize) declares its outputs (:class:`~modelraising.outputs.StepOutputs`),
its fingerprint, how its input is cut into chunks and a pure function of one chunk; this module does the
rest, the same way for every step:

- :class:`Runtime`: the executor choice (processes on this machine, or Ray Data), how many chunks run at
  once, the device, the progress bars. A step never asks which executor it runs on: it asks the runtime
  to map its function, and whether its work is ``parallel``.
- :class:`ChunkInputs`: a step's input cut into numbered chunks and handed to the tasks the way the
  runtime needs: the rows inside the task for processes on this machine; for a distributed executor,
  whose tasks travel as small descriptors, an input shard per chunk (Parquet, written once; the cut is
  recorded when complete, with the reader's summary, so a restarted job reads no source again).
- :class:`StepRun`: one run in its output directory: claim it for this fingerprint (resume the same run,
  refuse or clear another's), map the chunks not yet published, gather the chunks' rejects into
  ``rejects.jsonl``, and write the manifest with versions, the run's where and how long, and the share
  of input that went to rejects.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from modelraising.executor import ExecutorKind, map_unordered
from modelraising.io import atomic_write_json
from modelraising.outputs import StepOutputs, prepare_out_dir
from modelraising.rejects import record_reject_share

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Runtime:
    """Where and how a step's chunks run; nothing about what they compute."""

    executor: ExecutorKind = "local"
    workers: int = 1  # chunks at once (Ray: 0 is every CPU of the cluster)
    ray_address: str | None = None
    gpus: float = 0.0  # per task, on Ray (the values detector's second pass with --device cuda)
    progress: bool = True

    @property
    def distributed(self) -> bool:
        """Tasks run in processes that may sit on other machines: they travel as paths, never as data."""
        return self.executor == "ray"

    @property
    def parallel(self) -> bool:
        """More than this process computes."""
        return self.distributed or self.workers > 1

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """``fn`` over the tasks, results in completion order."""
        return map_unordered(
            fn, tasks, self.workers, executor=self.executor, ray_address=self.ray_address, gpus=self.gpus
        )

    def bar(self, desc: str, *, total: int | None = None, initial: int = 0, unit: str = "doc", **kw: Any) -> tqdm:
        return tqdm(
            total=total, initial=initial, desc=desc, unit=unit, disable=not self.progress, dynamic_ncols=True, **kw
        )

    def describe(self) -> dict[str, Any]:
        """The manifest's ``run`` entries that say where the step ran."""
        return {"executor": self.executor, "workers": self.workers}


# --------------------------------------------------------------------------------------------------
# Input chunks: in the task, or an input shard per chunk for a distributed executor.


@dataclass
class Chunk:
    index: int
    rows: list[dict]  # empty when the rows wait in an input shard (distributed executors)
    size: int  # rows in the chunk
    path: str | None = None  # the input shard (distributed executors)
    published: bool = False  # finished by an earlier run: nothing to compute


@dataclass
class ChunkInputs:
    """A step's input as numbered chunks, for the step's tasks (see the module docstring).

    ``cut()`` yields ``(index, rows)`` in input order and may count what it reads; ``summary()`` is that
    count, read once the cut is done; ``published(index)`` says whether a chunk is already finished.
    Iterate once; ``summary`` is valid afterwards, ``drop_shards`` removes the input shards (a second
    copy of the input) once every chunk is published."""

    runtime: Runtime
    stage_dir: Path
    cut: Callable[[], Iterator[tuple[int, list[dict]]]]
    summary: Callable[[], dict]
    published: Callable[[int], bool]
    _summary: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator[Chunk]:
        if not self.runtime.distributed:
            for index, rows in self.cut():  # rows kept even when published: a step may reopen the chunk
                yield Chunk(index, rows, len(rows), None, self.published(index))
            self._summary = self.summary()
            return
        staged = self._staged()
        for index, size in staged["chunks"]:
            done = self.published(index)
            yield Chunk(index, [], size, None if done else str(self._shard(index)), done)

    def source_summary(self) -> dict:
        return self._summary

    def drop_shards(self) -> None:
        for shard in self.stage_dir.glob("input-*.parquet"):
            shard.unlink()

    def _shard(self, index: int) -> Path:
        return self.stage_dir / f"input-{index:05d}.parquet"

    def _staged(self) -> dict:
        """The recorded cut, or a new one (also when a chunk still to compute has lost its shard)."""
        from modelraising.records import write_records

        complete = self.stage_dir / "complete.json"
        staged = json.loads(complete.read_text()) if complete.exists() else None
        if staged and any(not self.published(i) and not self._shard(i).exists() for i, _ in staged["chunks"]):
            staged = None
        if staged is None:
            self.stage_dir.mkdir(parents=True, exist_ok=True)
            chunks = []
            cut = self.runtime.bar("shard input", unit="chunk", leave=False)
            for index, rows in self.cut():
                shard = self._shard(index)
                if not self.published(index) and not shard.exists():
                    write_records(shard, rows)
                chunks.append([index, len(rows)])
                cut.update(1)
            cut.close()
            staged = {"chunks": chunks, "sources": self.summary()}
            atomic_write_json(complete, staged)
        self._summary = staged["sources"]
        return staged


# --------------------------------------------------------------------------------------------------
# One run of a step in its output directory.


class StepRun:
    """Claim an output directory for one run, map its pending chunks, gather rejects, write the manifest."""

    def __init__(self, step: str, out: Path, outputs: StepOutputs, runtime: Runtime):
        self.step, self.out, self.outputs, self.runtime = step, out, outputs, runtime
        self.started = time.perf_counter()

    @property
    def state(self) -> Path:
        return self.out / ".state"

    def claim(self, fingerprint: str, overwrite: bool) -> None:
        """Resume the run with this fingerprint, or refuse (``overwrite``: clear) any other's outputs."""
        prepare_out_dir(self.out, fingerprint, overwrite, self.outputs)

    def pending(self, tasks: Iterable[T], done: Callable[[T], bool], bar: tqdm, size: Callable[[T], int]) -> list[T]:
        """The tasks not yet published; the others are counted on ``bar`` at once."""
        todo = []
        for task in tasks:
            if done(task):
                bar.update(size(task))
            else:
                todo.append(task)
        return todo

    def gather_rejects(self, parts: Iterable[Path]) -> int:
        """``rejects.jsonl``: the lines of ``parts`` in order (a missing part is empty), streamed and renamed
        into place; returns the count."""
        tmp = self.state / "rejects.jsonl.tmp"
        count = 0
        with open(tmp, "w", encoding="utf-8", newline="") as dst:
            for path in parts:
                if path.exists():
                    with open(path, encoding="utf-8", newline="") as src:
                        for line in src:
                            dst.write(line)
                            count += 1
        os.replace(tmp, self.out / "rejects.jsonl")
        return count

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def finish(
        self,
        manifest: dict,
        *,
        versions: dict[str, str],
        run: dict[str, Any],
        rejected: int,
        total: int,
        after_run: dict[str, Any] | None = None,
    ) -> dict:
        """Complete ``manifest`` (versions; the run: where, then ``run``; ``after_run``; the rejects share) and
        write it atomically as ``manifest.json``; returns it."""
        manifest["versions"] = versions
        manifest["run"] = self.runtime.describe() | run
        manifest.update(after_run or {})
        record_reject_share(manifest, self.step, rejected, total, self.out / "rejects.jsonl")
        atomic_write_json(self.out / "manifest.json", manifest)
        return manifest
