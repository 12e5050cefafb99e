"""Where a step runs, kept apart from what it computes.

The local executor maps a picklable function over work items in up to ``workers`` processes with
bounded in-flight work (so a huge input stream never piles up in memory). ``executor="ray"`` maps the
same function with Ray Data instead (:mod:`modelraising.ray_executor`); steps only ever call
``map_unordered``, so what they compute does not depend on where it runs.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, TypeVar

T = TypeVar("T")
ExecutorKind = Literal["local", "ray"]
EXECUTORS = ("local", "ray")
R = TypeVar("R")


class ExecutorError(ValueError):
    """An invalid combination of --executor, --ray-address and --workers."""


def check_executor(executor: str, ray_address: str | None, workers: int | None) -> int:
    """Validate the executor options of a CLI command; returns the worker count to use (default: 1
    locally, 0 on Ray, meaning every CPU of the cluster)."""
    if executor not in EXECUTORS:
        raise ExecutorError(f"--executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise ExecutorError("--ray-address needs --executor ray")
    if workers is not None and workers < 0:
        raise ExecutorError(f"--workers {workers}: must be >= 0")
    if executor == "ray":
        require_ray()
    if workers is None:
        return 0 if executor == "ray" else 1
    return workers


RAY_EXTRA = "pip install 'modelraising[ray]'"


def require_ray() -> None:
    """Ray is an optional extra: one machine needs none of a cluster engine. Say which extra to install."""
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ExecutorError(
            f"--executor ray needs Ray, an optional extra: {RAY_EXTRA} (or install ray[data]==2.60.0)"
        ) from exc


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    if initializer is not None:
        initializer(*initargs)


def map_unordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int = 1,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    max_in_flight: int | None = None,
    executor: ExecutorKind = "local",
    ray_address: str | None = None,
    gpus: float = 0.0,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order.

    ``executor="ray"``: Ray Data tasks, ``workers`` of them at once (0: every CPU of the cluster);
    ``initializer`` is not supported there (per-process state belongs in a lazily built cache).
    Locally, ``workers == 1`` runs in this process (no pickling, easy to debug); otherwise a process pool:
    forked while this process has not loaded torch (workers start in milliseconds, with the modules
    already imported), spawned once it has (forking a process with torch's thread pools can hang).
    """
    if executor == "ray":
        if initializer is not None:
            raise ValueError("the Ray executor takes no initializer: build per-process state lazily in fn")
        require_ray()
        from modelraising.ray_executor import ray_map_unordered

        yield from ray_map_unordered(fn, items, workers or None, address=ray_address, num_gpus_per_task=gpus)
        return
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if workers <= 1:
        _init_worker(initializer, initargs)
        for item in items:
            yield fn(item)
        return
    limit = max_in_flight or 2 * workers
    ctx = mp.get_context("spawn" if "torch" in sys.modules else "fork")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(initializer, initargs)
    ) as pool:
        pending: set[Future] = set()
        try:
            for item in items:
                pending.add(pool.submit(fn, item))
                if len(pending) >= limit:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
