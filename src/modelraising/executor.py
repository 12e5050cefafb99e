"""Where a step runs, kept apart from what it computes.

The local executor maps a picklable function over work items in up to ``workers`` processes with
bounded in-flight work (so a huge input stream never piles up in memory). A Ray Data executor can
stand in its place: steps only ever call ``map_unordered``.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order.

    ``workers == 1`` runs in this process (no pickling, easy to debug); otherwise a process pool:
    forked while this process has not loaded torch (workers start in milliseconds, with the modules
    already imported), spawned once it has (forking a process with torch's thread pools can hang).
    """
    if workers <= 1:
        _init_worker(initializer, initargs)
        for item in items:
            yield fn(item)
        return
    limit = max_in_flight or 2 * workers
    ctx = mp.get_context("spawn" if "torch" in sys.modules else "fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(initializer, initargs)) as pool:
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
