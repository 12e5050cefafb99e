"""The raising engines behind one interface, by ``RaiseConfig.engine``: what the raise step calls to raise chunks.

An engine is a ``run_chunks(tasks, *, charter_path, config, runtime, bar)`` (the runtime: where chunks run,
:class:`modelraising.pipeline.Runtime`)
returning each chunk's (index, stats, new documents), the run's request summary (None for the template
engine) and whether it moved the progress bar itself. Both write the same chunk files through
:mod:`modelraising.raising.chunks`, so resume, rejects and the manifest are one code path.
"""

from __future__ import annotations

from collections.abc import Callable

from modelraising.raising import teacher_engine, template_engine

ENGINES: dict[str, Callable[..., tuple]] = {
    "template": template_engine.run_chunks,
    "teacher": teacher_engine.run_chunks,
}
