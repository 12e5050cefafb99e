"""``modelraising raise``: a corpus in, a raised corpus out; resumable at the level of documents.

Layout of the output directory::

    raised-00000.jsonl ...   one file per chunk of ``chunk_size`` source documents, in source order
                             (raised-00000.parquet ... with ``output_format: parquet``)
    rejects.jsonl            unreadable input and policy drops, each with a reason
    manifest.json            config, counts, charter hash, input hashes, versions
    .state/                  run fingerprint, finished-chunk stats, partial files of unfinished chunks,
                             and with the Ray executor input/: the chunks as input shards

Chunks are fixed by the input order, not by the number of workers, and every document draws from
its own seeded generator, so ``--workers N`` and a resumed run give the same bytes as one
uninterrupted single-process run. A chunk in progress is appended to document by document; after a
kill, its complete lines are kept and the rest is redone.

The lifecycle is the runtime's (:mod:`modelraising.pipeline`): the step declares its outputs, its
fingerprint, how the sources are cut into chunks and the engine that raises one chunk. With a
distributed executor (Ray) the runtime first cuts the sources into input shards (Parquet, one per chunk,
under ``.state/input``; a restarted job that finds them all skips reading the sources), and the tasks
name the shards instead of carrying the documents; the step does not know which executor it runs on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

import modelraising
from modelraising.cards import refresh_card
from modelraising.charter import Charter, load_charter
from modelraising.executor import ExecutorKind
from modelraising.io import (
    describe_file,
    sha256_json,
)
from modelraising.outdir import exclusive_out
from modelraising.outputs import StepOutputs, versions
from modelraising.pipeline import ChunkInputs, Runtime, StepRun
from modelraising.raising.chunks import (
    ChunkStats,
    ChunkTask,
    chunk_paths,
)
from modelraising.raising.config import RaiseConfig
from modelraising.raising.engines import ENGINES
from modelraising.rejects import Reject
from modelraising.sources import SourceSpec, SourceStats, expand_sources, read_sources
from modelraising.teacher import retry
from modelraising.view.review import Exclusion, filter_documents

log = logging.getLogger(__name__)


class RaiseError(Exception):
    """A run that cannot start (e.g. the output directory belongs to a different run)."""


# --------------------------------------------------------------------------------------------------
# Driver side: read sources, cut chunks, skip finished ones, write rejects and the manifest.


def check_sources(specs: list[SourceSpec]) -> None:
    """Fail before work when no source can be read at all (a run of nothing but rejects); with some
    readable, the unreadable ones become rejects of the run."""
    from modelraising.outdir import PathError
    from modelraising.sources import unreadable

    entries = expand_sources(specs)
    problems = [(path, why) for path, _ in entries if (why := unreadable(path))]
    if problems and len(problems) == len(entries):
        path, why = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PathError(f"--source {path}: cannot be read ({why.split(': ', 1)[-1]}){more}; no source is readable")


# The code whose edit changes what a raise writes: the engines, the banks, the readers, the detector's code.
_ENGINE_CODE = ("raising", "sources", "harm", "text.py", "charter.py", "document.py", "special_text.py", "tags.py")


@functools.lru_cache(maxsize=1)
def engine_digest() -> str:
    """SHA-256 over the source of the code that decides a raised record's text. Part of a run's identity, so
    a run killed, then resumed after that code changed, is refused instead of mixing records of two engines
    in one corpus (the version number alone stays the same across a developer's edits), and an experiment
    raises again rather than reuse a corpus raised by older code."""
    root = Path(modelraising.__file__).parent
    h = hashlib.sha256()
    for name in _ENGINE_CODE:
        for path in sorted((root / name).rglob("*.py")) if (root / name).is_dir() else [root / name]:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def run_fingerprint(
    charter: Charter, specs: list[SourceSpec], config: RaiseConfig, detector: dict | None
) -> tuple[str, list[dict]]:
    """The run's identity: version, charter, config, the detector by its digest (``detector_of``), inputs."""
    inputs = [describe_file(path) | {"spec": spec.model_dump()} for path, spec in expand_sources(specs)]
    fingerprint = sha256_json(
        {
            "version": modelraising.__version__,
            "engine": engine_digest(),
            "charter": charter.hash,
            "config": _fingerprint_config(config),
            "detector": detector and detector["sha256"],
            "inputs": [{k: i[k] for k in ("sha256", "spec")} for i in inputs],
        }
    )
    return fingerprint, inputs


def detector_of(config: RaiseConfig) -> dict | None:
    """The values pillar's harm detector by content (its files' digest), None without the pillar: a detector
    retrained in place is a different run, and the manifest says which one raised the corpus."""
    if "values" not in config.pillars:
        return None
    from modelraising.harm.detector import DETECTOR_DIR, DetectorError, digest

    try:
        sha = digest(config.detector)
    except DetectorError as exc:
        raise RaiseError(f"detector: {exc}") from None
    return {"path": str(config.detector or DETECTOR_DIR.name + " (shipped)"), "sha256": sha}


def _fingerprint_config(config: RaiseConfig) -> dict:
    """The config as it decides the output: a teacher enters by what it is asked (model, sampling, the
    prompts' version hash, gate), not by where or how fast it is reached, so a resumed run may change those;
    a detector enters by its digest, not its directory."""
    data = config.to_dict()
    data.pop("detector", None)
    if config.teacher is not None:
        from modelraising.raising.teacher_prompts import prompt_version

        data["teacher"] = config.teacher.fingerprint_fields() | {
            "prompt_version": prompt_version(config.teacher.prompts)
        }
    return data


OUTPUTS = StepOutputs(
    globs=("raised-*.jsonl", "raised-*.parquet"),
    files=("manifest.json", "rejects.jsonl"),
    marks=("raised-*.jsonl", "raised-*.parquet"),
    held="a run with a different charter, config or input",
    them="it",
    unknown="raised files",
    error=RaiseError,
)


def _cut_chunks(
    specs: list[SourceSpec], config: RaiseConfig, source_stats: SourceStats, rejects_path: Path, exclude=None
) -> Iterator[tuple[int, list[dict]]]:
    """The source stream cut into fixed chunks of ``chunk_size`` documents, numbered in input order; what
    cannot be read goes to ``rejects_path``. Genres of tabular records are decided in the workers: the
    reading process stays light."""
    docs: list[dict] = []
    index, taken = 0, 0
    with open(rejects_path, "w", encoding="utf-8") as source_rejects:
        for item in filter_documents(read_sources(specs, source_stats, defer_genre=True), exclude, source_stats):
            if isinstance(item, Reject):
                source_rejects.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
                continue
            docs.append({"id": item.id, "text": item.text, "metadata": item.metadata})
            taken += 1
            if len(docs) == config.chunk_size:
                yield index, docs
                docs, index = [], index + 1
            if config.limit and taken >= config.limit:
                break
        if docs:
            yield index, docs


def _finished(out: Path, index: int) -> ChunkStats | None:
    stats_path = chunk_paths(out, index)["stats"]
    return ChunkStats(**json.loads(stats_path.read_text())) if stats_path.exists() else None


def _tasks(
    inputs: ChunkInputs,
    out: Path,
    charter_path: str,
    config: RaiseConfig,
    finished: dict[int, ChunkStats],
    bar: tqdm,
    reopened: dict[int, int] | None,
    device: str,
) -> Iterator[ChunkTask]:
    """Chunks to raise, streamed as the input is cut; finished chunks are counted, not re-sent. With
    ``reopened`` (--retry-fallbacks), a finished chunk with documents that fell back because the teacher
    was unreachable is raised again for those documents (their number is recorded there)."""
    for chunk in inputs:
        stats = _finished(out, chunk.index) if chunk.published else None
        if stats is not None and reopened is not None and retry.has_unavailable(stats.fallback_reasons):
            if n := retry.reopen(chunk_paths(out, chunk.index, config.output_format), [d["id"] for d in chunk.rows]):
                reopened[chunk.index], stats = n, None
        if stats is not None:
            finished[chunk.index] = stats
            bar.update(chunk.size)
        else:
            yield ChunkTask(
                chunk.index, chunk.rows, str(out), charter_path, config.to_dict(), input_path=chunk.path, device=device
            )


@exclusive_out("out_dir")
def raise_corpus(
    charter_path: str | Path,
    specs: list[SourceSpec],
    out_dir: str | Path,
    config: RaiseConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor: ExecutorKind = "local",
    ray_address: str | None = None,
    retry_fallbacks: bool = False,
    exclude: Exclusion | None = None,
    device: str = "cpu",
) -> dict:
    """Raise every passage of ``specs`` into ``out_dir``; returns the manifest.

    ``executor="ray"``: Ray Data runs the chunks, ``workers`` at once (0: every CPU of the cluster);
    the records are the same as with the local executor. ``retry_fallbacks`` (teacher engine, local
    executor): ask the teacher again for the documents of earlier runs that fell back because it
    could not be reached (:mod:`modelraising.teacher.retry`). ``exclude``: source documents a reviewer
    flagged (``--exclude-flagged``, :mod:`modelraising.view.review`) go to rejects instead.
    ``device="cuda"``: the values detector's second pass (MiniLM) runs on the GPU (with Ray, each task
    asks for one); outputs may differ from the CPU's only where a probability sits within rounding of a
    threshold.
    """
    runtime = Runtime(executor, workers, ray_address, gpus=1.0 if device == "cuda" else 0.0, progress=progress)
    if retry_fallbacks and (config.engine != "teacher" or runtime.distributed):
        raise RaiseError("--retry-fallbacks re-asks the teacher: it needs --engine teacher and the local executor")
    run = StepRun("raise", Path(out_dir), OUTPUTS, runtime)
    charter = load_charter(charter_path)
    out = run.out
    detector = detector_of(config)
    fingerprint, inputs = run_fingerprint(charter, specs, config, detector)
    exclude = exclude if exclude is not None and exclude.reasons else None
    if exclude is not None:
        fingerprint = sha256_json([fingerprint, exclude.digest()])
    run.claim(fingerprint, overwrite)

    finished: dict[int, ChunkStats] = {}
    bar = runtime.bar("raise")
    source_stats = SourceStats()
    source_rejects = run.state / "source-rejects.jsonl"
    chunks = ChunkInputs(
        runtime,
        run.state / "input",
        cut=lambda: _cut_chunks(specs, config, source_stats, source_rejects, exclude),
        summary=source_stats.to_dict,
        published=lambda index: chunk_paths(out, index)["stats"].exists(),
    )
    reopened: dict[int, int] | None = {} if retry_fallbacks else None
    tasks = _tasks(chunks, out, str(charter_path), config, finished, bar, reopened, device)
    run_chunks = ENGINES[config.engine]
    results, teacher_run, moved = run_chunks(
        tasks, charter_path=str(charter_path), config=config, runtime=runtime, bar=bar
    )
    computed, fresh = _collect(results, finished, None if moved else bar)
    chunks.drop_shards()  # once every chunk is published, its input shard is a second copy of the corpus
    sources = chunks.source_summary()
    bar.close()

    total = ChunkStats()
    for index in sorted(finished):
        total.merge(finished[index])
    n_rejects = run.gather_rejects([source_rejects, *(chunk_paths(out, i)["rejects"] for i in sorted(finished))])
    elapsed = run.elapsed()
    manifest = _manifest(charter, charter_path, config, detector, inputs, sources, total, n_rejects, sorted(finished))
    after_run: dict = {}
    if teacher_run is not None:
        after_run["teacher"] = _teacher_manifest(total, teacher_run)
        if retry_fallbacks:
            assert reopened is not None  # retry_fallbacks: the local executor, which sets it
            asked = sum(reopened.values())
            still = sum(finished[i].fallback_causes.get(retry.UNAVAILABLE, 0) for i in reopened)
            after_run["teacher"]["run"] |= {"fallbacks_retried": asked, "fallbacks_recovered": asked - still}
    if exclude is not None:
        after_run["review_exclusion"] = exclude.describe()
    run.finish(
        manifest,
        versions=versions("pydantic"),
        run={
            "device": device,
            "elapsed_s": round(elapsed, 3),
            "chunks_computed": computed,
            "chunks_reused": len(finished) - computed,
            "documents_computed": fresh,
            "docs_per_s": round(total.documents / elapsed, 2) if elapsed else None,
        },
        rejected=n_rejects,
        total=total.documents + sources.get("rejects", 0),
        after_run=after_run,
    )
    refresh_card(out)  # the dataset card (README.md) describes what is now in out
    log.info("raised %d documents into %s (%d rejects) in %.1fs", total.raised, out, n_rejects, elapsed)
    return manifest


def _collect(results, finished: dict[int, ChunkStats], bar: tqdm | None) -> tuple[int, int]:
    """Record each chunk's stats as it completes; returns (chunks computed, documents computed)."""
    computed, fresh = 0, 0
    for index, stats, fresh_docs in results:
        finished[index] = stats
        computed += 1
        fresh += fresh_docs
        if bar is not None:
            bar.update(stats.documents)
    return computed, fresh


def _teacher_manifest(total: ChunkStats, run: dict) -> dict:
    """Teacher counts over the whole output (resumed chunks included) and this process's request stats."""
    return {
        "model": run.pop("model"),
        "prompt_version": run.pop("prompt_version"),
        "counts": {
            "accepted": total.accepted,
            "retried": total.retried,
            "fallen_back": total.fallen_back,
            "fallback_reasons": dict(sorted(total.fallback_reasons.items())),
            "fallback_causes": {cause: total.fallback_causes.get(cause, 0) for cause in ("unavailable", "gate")},
            "filtered": total.filtered,
            "judged": total.judged,
            "judge_mean": round(total.judge_sum / total.judged, 3) if total.judged else None,
            "prompt_tokens": total.prompt_tokens,
            "completion_tokens": total.completion_tokens,
        },
        "run": run,
    }


def _manifest(
    charter: Charter,
    charter_path,
    config: RaiseConfig,
    detector: dict | None,
    inputs: list[dict],
    sources: dict,
    total: ChunkStats,
    n_rejects: int,
    chunk_indices: list[int],
) -> dict:
    stats = asdict(total)
    rejects_by_reason = Counter(sources.get("rejects_by_reason", {}))
    rejects_by_reason.update(total.dropped_by_reason)
    sources = dict(sources)
    sources.pop("per_genre", None)  # tabular genres are decided in the workers: counts.per_genre has them all
    return {
        "step": "raise",
        "charter": {"path": str(charter_path), "hash": charter.hash, "name": charter.identity.name},
        "config": config.to_dict(),
        "detector": detector,
        "inputs": inputs,
        "sources": sources,
        "counts": {
            "documents_in": total.documents,
            "raised": total.raised,
            "dropped": total.dropped,
            "rejects": n_rejects,
            "duplicates": sources.get("duplicates", 0),
            "chars_in": total.chars_in,
            "chars_out": total.chars_out,
            "per_pillar": dict(sorted(stats["per_pillar"].items())),
            "per_genre": dict(sorted(stats["per_genre"].items())),
            "per_form": dict(sorted(stats["per_form"].items())),
            "values_fired": dict(sorted(stats["values_fired"].items())),
        },
        "rejects_by_reason": dict(sorted(rejects_by_reason.items())),
        "outputs": [f"raised-{i:05d}.{config.output_format}" for i in chunk_indices],
    }
