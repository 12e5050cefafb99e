"""``modelraising curriculum``: a raised corpus in, the same records in curriculum order out.

Layout of the output directory::

    ordered-00000.jsonl ...  the records in curriculum order (or .parquet), ``records_per_file`` each
    curriculum.json          config, stage boundaries (positions), counts, token estimates per stage
    difficulty.png           difficulty against position, coloured by stage; per-stage histogram
    rejects.jsonl            unreadable lines and empty documents, each with a reason and location
    manifest.json            config, counts, charter hash, input hashes, versions
    .state/                  run fingerprint; one scores file per finished scoring chunk

Memory stays flat in the corpus size: the driver never holds texts. Scoring keeps, per document,
its file, byte offset and length, an id hash and a handful of feature floats (about 100 bytes); the
ordered output re-reads every record by offset. Scoring chunks are fixed by input order (not by
worker count), each is saved once done, so ``--workers N`` and a resumed run give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import modelraising
from modelraising.cards import refresh_card
from modelraising.charter import Charter, load_charter
from modelraising.curriculum.config import CurriculumConfig
from modelraising.curriculum.difficulty import FEATURE_DECIMALS, combine, stage_indices
from modelraising.curriculum.features import REFERENCE_FEATURE, document_features, plain_text, syllable_source
from modelraising.curriculum.order import Sequence, order_documents
from modelraising.curriculum.plot import plot_difficulty
from modelraising.document import Document
from modelraising.executor import ExecutorKind
from modelraising.io import atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file, sha256_json
from modelraising.outdir import exclusive_out
from modelraising.outputs import StepOutputs, versions
from modelraising.pipeline import Runtime, StepRun
from modelraising.records import read_records

log = logging.getLogger(__name__)

RAISED_GLOBS = ("raised-*.jsonl", "raised-*.parquet")
CURRICULUM_FORMAT = "modelraising-curriculum/1"
DIFFICULTY_DECIMALS = 6


class CurriculumError(Exception):
    """A run that cannot start or finish (no input, a foreign output directory, nothing to order)."""


# --------------------------------------------------------------------------------------------------
# Reading: line spans of the raised files, so that records can be read back by offset.


def raised_files(raised_dir: Path) -> list[Path]:
    """The raised files of one run: all JSONL or all Parquet (``raise --output-format``), in name order."""
    if not raised_dir.is_dir():
        raise CurriculumError(f"--raised {raised_dir}: not a directory")
    jsonl, parquet = (sorted(raised_dir.glob(g)) for g in RAISED_GLOBS)
    if jsonl and parquet:
        raise CurriculumError(
            f"--raised {raised_dir}: holds both raised-*.jsonl and raised-*.parquet; keep the files of one run only"
        )
    if not (jsonl or parquet):
        raise CurriculumError(
            f"--raised {raised_dir}: no raised-*.jsonl or raised-*.parquet files "
            "(is it the output of `modelraising raise`?)"
        )
    return jsonl or parquet


def spool_task(task: tuple[str, str]) -> str:
    """Copy one Parquet file of raised records to JSON lines (atomically), so that scoring and the
    ordered writer read records back by byte offset, as they do for JSONL input."""
    src, dst = task
    lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in read_records(src))
    atomic_write_text(Path(dst), "".join(lines))
    return dst


def spool_parquet(files: list[Path], state: Path, runtime: Runtime) -> list[Path]:
    """JSON-lines copies of Parquet inputs under ``.state/spool`` (made once; JSONL inputs pass through)."""
    if not files or files[0].suffix != ".parquet":
        return files
    spool = state / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    targets = [spool / f"{p.name}.jsonl" for p in files]
    todo = [(str(p), str(t)) for p, t in zip(files, targets) if not t.exists()]
    for _ in runtime.map(spool_task, todo):
        pass
    return targets


def line_starts(path: Path, block: int = 1 << 24) -> np.ndarray:
    """Byte offset of every line start, plus the file size as a final sentinel."""
    starts = [np.zeros(1, np.int64)]
    pos = 0
    with open(path, "rb") as f:
        while data := f.read(block):
            newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10).astype(np.int64)
            starts.append(newlines + pos + 1)
            pos += len(data)
    offsets = np.concatenate(starts)
    if offsets[-1] != pos:  # no newline at the end: the last line still ends at the file size
        offsets = np.append(offsets, pos)
    return offsets


def id_hash(doc_id: str) -> int:
    """A 64-bit hash of the id: the tie-break between equally difficult documents."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "little")


# --------------------------------------------------------------------------------------------------
# Worker side: score one chunk of lines of one file.


@dataclass
class ScoreTask:
    file_index: int
    chunk_index: int
    path: str
    line_offsets: list[int]  # start of each line of the chunk, plus the end of the last one
    first_line: int  # 0-based line number of the first line (for reject locations)
    state_dir: str
    config: dict


_CONTEXT: dict[str, object] = {}


def _reference_scorer(config: CurriculumConfig):
    key = sha256_json([config.reference_model, config.reference_max_tokens, config.reference_batch_size])
    if key not in _CONTEXT:
        import torch

        from modelraising.curriculum.reference import ReferenceScorer

        torch.set_num_threads(1)  # same kernels in every worker: identical losses for --workers N
        assert config.reference_model is not None  # asked for only where the config names one
        _CONTEXT.clear()
        _CONTEXT[key] = ReferenceScorer(
            config.reference_model, config.reference_max_tokens, config.reference_batch_size
        )
    return _CONTEXT[key]


def _chunk_state(state_dir: Path, file_index: int, chunk_index: int) -> tuple[Path, Path]:
    stem = f"{file_index:05d}-{chunk_index:05d}"
    return state_dir / f"scores-{stem}.npz", state_dir / f"rejects-{stem}.jsonl"


def _parse(line: bytes, location: str) -> Document | dict:
    """A Document, or a reject record saying why the line cannot be used."""
    preview = line[:200].decode("utf-8", errors="replace")
    try:
        doc = Document.from_dict(json.loads(line))
    except (ValueError, AttributeError, TypeError) as exc:
        invalid = isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError))
        reason = "invalid JSON" if invalid else "not a raised record"
        return {"location": location, "reason": f"{reason}: {exc}", "preview": preview}
    if not doc.text.strip():
        return {"id": doc.id, "location": location, "reason": "empty text", "preview": preview}
    return doc


def score_chunk(task: ScoreTask) -> tuple[int, int, int]:
    """Features of every document in one chunk, saved under ``.state`` (the unit a rerun skips)."""
    config = CurriculumConfig.model_validate(task.config)
    names = config.feature_names()
    scores_path, rejects_path = _chunk_state(Path(task.state_dir), task.file_index, task.chunk_index)
    offsets, lengths, hashes, rows, texts, rejects = [], [], [], [], [], []
    name = Path(task.path).name
    with open(task.path, "rb") as f:
        f.seek(task.line_offsets[0])
        data = f.read(task.line_offsets[-1] - task.line_offsets[0])
    base = task.line_offsets[0]
    for i, (a, b) in enumerate(zip(task.line_offsets, task.line_offsets[1:])):
        line = data[a - base : b - base].rstrip(b"\r\n")
        if not line.strip():
            continue
        item = _parse(line, f"{name}:{task.first_line + i + 1}")
        if isinstance(item, dict):
            rejects.append(item)
            continue
        feats = document_features(item.text)
        offsets.append(a)
        lengths.append(len(line))
        hashes.append(id_hash(item.id))
        rows.append([feats[n] for n in names if n != REFERENCE_FEATURE])
        if config.reference_model:
            texts.append(plain_text(item.text))  # the reference model never saw our special tags
    features = np.array(rows, dtype=np.float64).reshape(len(rows), len(names) - (REFERENCE_FEATURE in names))
    if config.reference_model:
        losses = _reference_scorer(config).score(texts) if texts else np.zeros(0)
        features = np.column_stack([features, losses])
    buf = io.BytesIO()
    np.savez(
        buf,
        offset=np.array(offsets, np.int64),
        length=np.array(lengths, np.int64),
        tiebreak=np.array(hashes, np.uint64),
        features=np.round(features, FEATURE_DECIMALS),
    )
    atomic_write_text(rejects_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    atomic_write_bytes(scores_path, buf.getvalue())  # written last: its presence marks the chunk done
    return task.file_index, task.chunk_index, len(task.line_offsets) - 1  # lines done (for the bar)


# --------------------------------------------------------------------------------------------------
# Driver side.


@dataclass
class Table:
    """One row per usable document, in input order; no texts."""

    file: np.ndarray  # int32
    offset: np.ndarray  # int64
    length: np.ndarray  # int64
    tiebreak: np.ndarray  # uint64
    features: np.ndarray  # float64 (documents x features)
    difficulty: np.ndarray | None = None
    stage: np.ndarray | None = None


def _tasks(files: list[Path], line_index: list[np.ndarray], state: Path, config: CurriculumConfig):
    for fi, (path, starts) in enumerate(zip(files, line_index)):
        n_lines = len(starts) - 1
        for ci, a in enumerate(range(0, n_lines, config.chunk_size)):
            b = min(a + config.chunk_size, n_lines)
            yield ScoreTask(
                fi, ci, str(path), starts[a : b + 1].tolist(), a, str(state), config.model_dump(mode="json")
            )


def score_corpus(files: list[Path], run: StepRun, config: CurriculumConfig) -> tuple[Table, list[Path]]:
    """Score every chunk not already scored; return the table and the reject files in input order."""
    state = run.state
    line_index = [line_starts(p) for p in files]
    total = sum(len(s) - 1 for s in line_index)
    tasks = list(_tasks(files, line_index, state, config))
    bar = run.runtime.bar("score", total=total)
    todo = run.pending(  # chunks scored by an earlier attempt are counted at once
        tasks,
        done=lambda t: _chunk_state(state, t.file_index, t.chunk_index)[0].exists(),
        bar=bar,
        size=lambda t: len(t.line_offsets) - 1,
    )
    for _, _, n in run.runtime.map(score_chunk, todo):
        bar.update(n)
    bar.close()

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("file", "offset", "length", "tiebreak", "features")}
    reject_files = []
    for t in tasks:
        scores_path, rejects_path = _chunk_state(state, t.file_index, t.chunk_index)
        with np.load(scores_path) as z:
            for key in ("offset", "length", "tiebreak", "features"):
                parts[key].append(z[key])
            parts["file"].append(np.full(len(z["offset"]), t.file_index, np.int32))
        reject_files.append(rejects_path)
    n_features = len(config.feature_names())
    table = Table(
        file=np.concatenate(parts["file"]) if tasks else np.zeros(0, np.int32),
        offset=np.concatenate(parts["offset"]) if tasks else np.zeros(0, np.int64),
        length=np.concatenate(parts["length"]) if tasks else np.zeros(0, np.int64),
        tiebreak=np.concatenate(parts["tiebreak"]) if tasks else np.zeros(0, np.uint64),
        features=np.concatenate(parts["features"]).reshape(-1, n_features) if tasks else np.zeros((0, n_features)),
    )
    return table, reject_files


def assign(table: Table, config: CurriculumConfig, charter: Charter) -> None:
    """Combined difficulty (rounded, so the stored value decides the stage) and the stage of each row."""
    raw = combine(table.features, config.feature_names(), config.effective_weights(), config.effective_ranges())
    table.difficulty = np.round(raw, DIFFICULTY_DECIMALS)
    table.stage = stage_indices(table.difficulty, charter)


# ----------------------------------------------------------------------------------------- outputs


class _Records:
    """Reads raised records back by (file, offset, length) with one open descriptor per file."""

    def __init__(self, files: list[Path]):
        self.fds = [os.open(p, os.O_RDONLY) for p in files]

    def read(self, file: int, offset: int, length: int) -> Document:
        return Document.from_json(os.pread(self.fds[file], int(length), int(offset)).decode("utf-8"))

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def _curriculum_meta(table: Table, seq: Sequence, pos: int, names: tuple[str, ...], charter: Charter) -> dict:
    assert table.difficulty is not None and table.stage is not None  # set by assign
    row = seq.doc[pos]
    block = int(seq.block[pos])
    meta = {
        "position": pos,
        "stage": charter.stages[block].name,
        "stage_index": block,
        "difficulty": float(table.difficulty[row]),
        "features": {n: float(v) for n, v in zip(names, table.features[row])},
        "review": bool(seq.review[pos]),
    }
    if seq.review[pos]:
        meta["review_of_stage"] = charter.stages[int(table.stage[row])].name
    return meta


def _output_name(index: int, fmt: str) -> str:
    return f"ordered-{index:05d}.{fmt}"


def _parquet_bytes(docs: list[Document], names: tuple[str, ...]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    metas = [d.metadata for d in docs]
    features = pa.StructArray.from_arrays(
        [pa.array([m["features"][n] for m in metas], pa.float64()) for n in names], names=list(names)
    )
    table = pa.table(
        {
            "id": pa.array([d.id for d in docs], pa.string()),
            "text": pa.array([d.text for d in docs], pa.string()),
            "metadata": pa.array([json.dumps(m, ensure_ascii=False) for m in metas], pa.string()),
            "position": pa.array([m["position"] for m in metas], pa.int64()),
            "stage": pa.array([m["stage"] for m in metas], pa.string()),
            "stage_index": pa.array([m["stage_index"] for m in metas], pa.int16()),
            "difficulty": pa.array([m["difficulty"] for m in metas], pa.float64()),
            "review": pa.array([m["review"] for m in metas], pa.bool_()),
            "features": features,
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def write_ordered(
    out: Path,
    files: list[Path],
    table: Table,
    seq: Sequence,
    config: CurriculumConfig,
    charter: Charter,
    progress: bool,
) -> list[str]:
    """The records in curriculum order, ``records_per_file`` per file; finished files are kept on resume."""
    names = config.feature_names()
    per_file = config.records_per_file
    n_files = -(-len(seq.doc) // per_file)
    outputs = [_output_name(i, config.format) for i in range(n_files)]
    reader = _Records(files)
    bar = tqdm(total=len(seq.doc), desc="write", unit="doc", disable=not progress, dynamic_ncols=True)
    try:
        for i, name in enumerate(outputs):
            positions = range(i * per_file, min(len(seq.doc), (i + 1) * per_file))
            if (out / name).exists():
                bar.update(len(positions))
                continue
            docs = []
            for pos in positions:
                row = seq.doc[pos]
                doc = reader.read(table.file[row], table.offset[row], table.length[row])
                doc.metadata.update(_curriculum_meta(table, seq, pos, names, charter))
                docs.append(doc)
            if config.format == "parquet":
                atomic_write_bytes(out / name, _parquet_bytes(docs, names))
            else:
                atomic_write_text(out / name, "".join(d.to_json() + "\n" for d in docs))
            bar.update(len(positions))
    finally:
        reader.close()
        bar.close()
    return outputs


def stage_summary(table: Table, seq: Sequence, charter: Charter, names: tuple[str, ...]) -> list[dict]:
    """Per stage: own documents, review copies, its block of positions (when contiguous), token estimate
    (characters / 4, review copies included)."""
    assert table.difficulty is not None and table.stage is not None  # set by assign
    chars = table.features[:, names.index("chars")]
    stages = []
    positions = np.arange(len(seq.doc))
    for s, stage in enumerate(charter.stages):
        in_block = seq.block == s
        block_pos = positions[in_block]
        own = table.stage == s
        contiguous = len(block_pos) > 0 and block_pos[-1] - block_pos[0] + 1 == len(block_pos)
        diffs = table.difficulty[own]
        stages.append(
            {
                "name": stage.name,
                "index": s,
                "ceiling": stage.ceiling,
                "start": int(block_pos[0]) if contiguous else None,
                "end": int(block_pos[-1]) + 1 if contiguous else None,
                "documents": int(own.sum()),
                "review": int((in_block & seq.review).sum()),
                "positions": int(in_block.sum()),
                "tokens_estimate": int(chars[seq.doc[in_block]].sum() // 4),
                "difficulty": (
                    {"min": float(diffs.min()), "mean": round(float(diffs.mean()), 6), "max": float(diffs.max())}
                    if len(diffs)
                    else None
                ),
            }
        )
    return stages


# -------------------------------------------------------------------------------------------- run


def _versions() -> dict:
    packages = ("numpy", "pydantic", "matplotlib", "textstat", "wordfreq", "pyphen")
    return {**versions(*packages), "syllables": syllable_source()}


def _inputs(files: list[Path]) -> list[dict]:
    return [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in files]


OUTPUTS = StepOutputs(
    globs=("ordered-*",),
    files=("curriculum.json", "difficulty.png", "rejects.jsonl", "manifest.json"),
    marks=("ordered-*", "curriculum.json"),
    held="a curriculum of a different corpus, charter or config",
    them="it",
    unknown="ordered files",
    error=CurriculumError,
)


@exclusive_out("out_dir")
def run_curriculum(
    raised_dir: str | Path,
    charter_path: str | Path,
    out_dir: str | Path,
    config: CurriculumConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    executor: ExecutorKind = "local",
    ray_address: str | None = None,
) -> dict:
    """Score, stage and order a raised corpus into ``out_dir``; returns the manifest.

    ``executor="ray"`` scores the chunks with Ray Data (``workers`` at once, 0: every CPU of the
    cluster); the output is the same. Parquet input is spooled to JSON lines first (``.state/spool``)."""
    run = StepRun("curriculum", Path(out_dir), OUTPUTS, Runtime(executor, workers, ray_address, progress=progress))
    started = run.started
    raised_dir, out = Path(raised_dir), run.out
    files = raised_files(raised_dir)
    charter = load_charter(charter_path)
    if config.reference_model:
        _check_reference(config)
    inputs = _inputs(files)
    resolved = config.resolved()
    fingerprint = sha256_json(
        {
            "version": modelraising.__version__,
            "charter": charter.hash,
            "config": resolved,
            "inputs": [i["sha256"] for i in inputs],
            "syllables": syllable_source(),
        }
    )
    run.claim(fingerprint, overwrite)

    files = spool_parquet(files, run.state, run.runtime)
    table, reject_files = score_corpus(files, run, config)
    scored = time.perf_counter()
    if not len(table.offset):
        raise CurriculumError(f"--raised {raised_dir}: no usable documents (see {out / '.state'} rejects)")
    assign(table, config, charter)
    assert table.difficulty is not None and table.stage is not None  # set by assign
    seq = order_documents(
        config.order, table.difficulty, table.stage, table.tiebreak, seed=config.seed, review=config.effective_review()
    )
    outputs = write_ordered(out, files, table, seq, config, charter, progress)
    shutil.rmtree(out / ".state" / "spool", ignore_errors=True)  # a second copy of the corpus; remade on demand
    written = time.perf_counter()
    n_rejects = run.gather_rejects(reject_files)
    stages = stage_summary(table, seq, charter, config.feature_names())
    counts: dict[str, Any] = {
        "documents": int(len(table.offset)),
        "review": int(seq.review.sum()),
        "positions": int(len(seq.doc)),
        "rejects": n_rejects,
        "per_stage": {s["name"]: s["documents"] for s in stages},
    }
    curriculum = {
        "format": CURRICULUM_FORMAT,
        "order": config.order,
        "config": resolved,
        "charter": {"path": str(charter_path), "hash": charter.hash},
        "features": list(config.feature_names()),
        "stages": stages,
        "counts": counts,
        "outputs": outputs,
    }
    atomic_write_json(out / "curriculum.json", curriculum)
    plot_difficulty(
        out / "difficulty.png",
        table.difficulty[seq.doc],
        seq.block,
        seq.review,
        table.stage[seq.doc],
        [s.name for s in charter.stages],
        [s.ceiling for s in charter.stages],
        f"{config.order} curriculum: {counts['positions']:,} positions",
    )
    elapsed = run.elapsed()
    raised_manifest = raised_dir / "manifest.json"
    manifest = {
        "step": "curriculum",
        "charter": {"path": str(charter_path), "hash": charter.hash, "name": charter.identity.name},
        "config": resolved,
        "inputs": inputs,
        "raised_manifest_sha256": sha256_file(raised_manifest) if raised_manifest.exists() else None,
        "counts": counts,
        "stages": stages,
        "outputs": outputs,
    }
    run.finish(
        manifest,
        versions=_versions(),
        run={
            "elapsed_s": round(elapsed, 3),
            "score_s": round(scored - started, 3),
            "write_s": round(written - scored, 3),
            "docs_per_s": round(counts["documents"] / elapsed, 2) if elapsed else None,
        },
        rejected=n_rejects,
        total=counts["documents"] + n_rejects,
    )
    refresh_card(out)  # the dataset card (README.md) describes what is now in out
    log.info(
        "ordered %d documents (+%d review) into %s (%d rejects) in %.1fs",
        counts["documents"],
        counts["review"],
        out,
        n_rejects,
        elapsed,
    )
    return manifest


def _check_reference(config: CurriculumConfig) -> None:
    """Fail before scoring starts, with one clear line, when the reference model cannot be loaded."""
    from modelraising.curriculum.reference import ReferenceModelError

    try:
        _reference_scorer(config)
    except ReferenceModelError as exc:
        raise CurriculumError(str(exc)) from None
