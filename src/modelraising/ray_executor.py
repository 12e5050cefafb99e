"""The Ray Data executor: the same step functions as the local executor, mapped over a Ray cluster.

A step hands the executor small, picklable task descriptors (an input shard's path, a chunk's line
offsets), never the data itself: each task reads its input, computes, and publishes its output with
an atomic rename, so Ray Data's retry of a task whose worker died (a kill, OOM, a lost node) redoes
that one task and can neither lose nor duplicate documents, and a restarted job skips every
task whose output is already published. The descriptors become a Ray Dataset (one row per task,
one block per task) and run through ``map_batches``; results stream back as they complete.

``ray.init()`` with no address starts an embedded single-machine instance; ``--ray-address auto``
(or ``ray://...``) joins a running cluster, whose nodes must see the same file system paths.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to (or start) Ray once per process; quiet, since our own progress bars report progress."""
    import ray

    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {
        "address": address,
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        "configure_logging": True,
    }
    if address is None and num_cpus:
        kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_stats_logs = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # one INFO line per finished dataset


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _apply(fn: Callable[[Any], Any]) -> Callable[[dict], dict]:
    """Wrap ``fn`` for ``map_batches``: a batch of pickled descriptors in, pickled results out."""

    def run(batch: dict) -> dict:
        results = [pickle.dumps(fn(pickle.loads(task))) for task in batch["task"]]
        return {"result": np.array(results, dtype=object)}

    run.__name__ = run.__qualname__ = getattr(fn, "__name__", "task")  # names the operator and worker processes
    return run


def ray_map_unordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int | None = None,
    *,
    address: str | None = None,
    num_cpus_per_task: float = 1.0,
    num_gpus_per_task: float = 0.0,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order, computed by Ray Data.

    ``workers`` caps the tasks running at once (default: every CPU of the cluster).
    """
    import ray

    tasks = [{"task": pickle.dumps(item)} for item in items]
    if not tasks:
        return
    init_ray(address)
    concurrency = max(1, min(workers or cluster_cpus(), len(tasks)))
    ds = ray.data.from_items(tasks, override_num_blocks=len(tasks))
    # Ray Data's tasks retry after a system failure (a killed worker, a lost node) by default; an
    # exception raised by ``fn`` itself is a bug or bad input and stops the run at once.
    # GPU tasks: the detector's second pass
    gpu: dict[str, Any] = {"num_gpus": num_gpus_per_task} if num_gpus_per_task else {}
    results = ds.map_batches(
        _apply(fn), batch_size=1, compute=ray.data.TaskPoolStrategy(size=concurrency), num_cpus=num_cpus_per_task, **gpu
    )
    for row in results.iter_rows():
        yield pickle.loads(row["result"])
