"""One chunk of a raise run: its task, its stats, and its life on disk, shared by both engines.

A chunk is written to ``.state/raised-NNNNN.jsonl.partial`` line by line; a killed attempt is picked up
after its last complete line (``open_chunk``), and a finished chunk is renamed into place before its
stats are recorded (``publish_chunk``), so a rerun skips it. The template engine
(:mod:`modelraising.raising.step`) and the teacher engine (:mod:`modelraising.raising.teacher_engine`) both
raise chunks through these functions; neither imports the other's internals.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modelraising.charter import Charter, load_charter
from modelraising.document import Document
from modelraising.io import atomic_write_json, read_complete_lines, sha256_json
from modelraising.raising.compose import Dropped
from modelraising.raising.config import RaiseConfig
from modelraising.records import read_records, write_jsonl_lines
from modelraising.sources import resolve_genre
from modelraising.teacher import retry

if TYPE_CHECKING:
    from modelraising.raising.values import ValueDetector

DETECT_BATCH = 256  # value detection batches are aligned to this within a chunk (same batches on resume)


@dataclass
class ChunkTask:
    index: int
    docs: list[dict]
    out_dir: str
    charter_path: str
    config: dict
    input_path: str | None = None  # the Ray executor's input shard (then ``docs`` is empty)
    device: str = "cpu"  # where the detector's second pass runs (operational: not in the fingerprint)

    def documents(self) -> list[Document]:
        rows = self.docs if self.input_path is None else read_records(self.input_path)
        return [Document.from_dict(d) for d in rows]


@dataclass
class ChunkStats:
    documents: int = 0
    raised: int = 0
    dropped: int = 0
    chars_in: int = 0
    chars_out: int = 0
    per_pillar: dict = field(default_factory=dict)
    per_genre: dict = field(default_factory=dict)
    per_form: dict = field(default_factory=dict)
    values_fired: dict = field(default_factory=dict)
    dropped_by_reason: dict = field(default_factory=dict)
    # Teacher engine only (read back from the records' metadata, so a resumed chunk counts the same).
    accepted: int = 0  # teacher output accepted by the gate
    retried: int = 0  # ... of which needed more than one answer for some task
    fallen_back: int = 0  # raised by the template engine after the teacher failed
    fallback_reasons: dict = field(default_factory=dict)  # "task: kind" -> documents
    fallback_causes: dict = field(default_factory=dict)  # "unavailable" (no answer) | "gate" -> documents
    filtered: int = 0  # judged below --min-judge-score: in rejects.jsonl
    judged: int = 0
    judge_sum: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add_raised(self, text: str, metadata: dict) -> None:
        self.documents += 1
        self.raised += 1
        self.chars_in += metadata.get("source_chars", 0)
        self.chars_out += len(text)
        _bump(self.per_genre, metadata.get("genre", "other"))
        _bump(self.per_form, metadata.get("form", "plain"))
        for pillar in metadata.get("pillars", []):
            _bump(self.per_pillar, pillar)
        if "value" in metadata:
            _bump(self.values_fired, metadata["value"]["value"])
        if "llm" in metadata:  # written by the teacher engine (accepted or fallen back)
            self._add_teacher(metadata)

    def _add_teacher(self, metadata: dict, *, in_corpus: bool = True) -> None:
        teacher = metadata["llm"]
        if not in_corpus:
            pass
        elif "fallback_reason" in metadata:
            self.fallen_back += 1
            _bump(self.fallback_reasons, ": ".join(metadata["fallback_reason"].split(": ")[:2]))
            _bump(self.fallback_causes, retry.fallback_cause(metadata))
        else:
            self.accepted += 1
            if any(n > 1 for n in teacher.get("tries", {}).values()):
                self.retried += 1
        self.prompt_tokens += teacher.get("tokens", {}).get("prompt", 0)
        self.completion_tokens += teacher.get("tokens", {}).get("completion", 0)
        judge = metadata.get("judge") or {}
        if "mean" in judge:
            self.judged += 1
            self.judge_sum += judge["mean"]

    def add_dropped(self, record: dict) -> None:
        self.documents += 1
        self.chars_in += record.get("chars", 0)
        if record.get("filtered"):  # the judge's verdict, not the charter's policy
            self.filtered += 1
            self._add_teacher(record["metadata"], in_corpus=False)
            _bump(self.dropped_by_reason, "judge: below min_judge_score")
            return
        self.dropped += 1
        _bump(self.dropped_by_reason, record["reason"])

    def merge(self, other: "ChunkStats") -> None:
        for name, value in asdict(other).items():
            if isinstance(value, dict):
                mine = getattr(self, name)
                for k, v in value.items():
                    mine[k] = mine.get(k, 0) + v
            else:
                setattr(self, name, getattr(self, name) + value)


def _bump(counter: dict, key: str | None, by: int = 1) -> None:
    counter[key] = counter.get(key, 0) + by


# --------------------------------------------------------------------------------------------------
# Worker side: what one chunk computes. Heavy objects (charter, value detector) are built once per
# process and reused across chunks.

_CONTEXT: dict[str, tuple[Charter, ValueDetector | None]] = {}


def worker_context(charter_path: str, config: RaiseConfig, device: str = "cpu") -> tuple[Charter, ValueDetector | None]:
    key = sha256_json([charter_path, config.model_dump(mode="json"), device])
    if key not in _CONTEXT:
        charter = load_charter(charter_path)
        detector = None
        if "values" in config.pillars:
            import torch

            from modelraising.harm.detector import HarmDetector
            from modelraising.raising.values import ValueDetector

            torch.set_num_threads(1)  # same kernels in every worker: identical scores for --workers N
            detector = ValueDetector(
                charter,
                threshold=config.value_threshold,
                detector=HarmDetector.load(config.detector, device=device),
                scope=config.detector_second_pass,
            )
        _CONTEXT.clear()
        _CONTEXT[key] = (charter, detector)
    return _CONTEXT[key]


def chunk_paths(out_dir: Path, index: int, fmt: str = "jsonl") -> dict[str, Path]:
    state = out_dir / ".state"
    return {
        "final": out_dir / f"raised-{index:05d}.{fmt}",
        "partial": state / f"raised-{index:05d}.jsonl.partial",
        "rejects": state / f"rejects-{index:05d}.jsonl",
        "rejects_partial": state / f"rejects-{index:05d}.jsonl.partial",
        "stats": state / f"chunk-{index:05d}.json",
        "retry": state / f"retry-{index:05d}.json",  # --retry-fallbacks: see modelraising.teacher.retry
    }


def open_chunk(task: ChunkTask, *, resolve: bool = True) -> tuple[dict[str, Path], ChunkStats, int, list[Document]]:
    """Paths, stats of the documents already written by an earlier, killed attempt, where to go on,
    and the chunk's documents (shared by the template and teacher engines; ``resolve=False`` leaves
    the genre of tabular records to the caller, ``resolve_genre``)."""
    paths = chunk_paths(Path(task.out_dir), task.index, task.config.get("output_format", "jsonl"))
    retry.resume(paths)
    if paths["final"].exists():  # killed between publishing the chunk and recording its stats
        if paths["final"].suffix == ".parquet":
            tmp = paths["partial"].with_suffix(".tmp")
            tmp.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in read_records(paths["final"])),
                encoding="utf-8",
            )
            os.replace(tmp, paths["partial"])
            paths["final"].unlink()
        else:
            os.replace(paths["final"], paths["partial"])
    if paths["rejects"].exists():
        os.replace(paths["rejects"], paths["rejects_partial"])

    stats = ChunkStats()
    kept = read_complete_lines(paths["partial"])
    dropped = read_complete_lines(paths["rejects_partial"])
    for line in kept:
        record = json.loads(line)
        stats.add_raised(record["text"], record["metadata"])
    for line in dropped:
        stats.add_dropped(json.loads(line))
    docs = task.documents()
    return paths, stats, len(kept) + len(dropped), [resolve_genre(d) for d in docs] if resolve else docs


def publish_chunk(paths: dict[str, Path], stats: ChunkStats) -> None:
    """Rename a finished chunk into place, then record its stats (a rerun skips it from then on)."""
    os.replace(paths["rejects_partial"], paths["rejects"])
    if paths["final"].suffix == ".parquet":
        with open(paths["partial"], encoding="utf-8") as f:
            write_jsonl_lines(paths["final"], f)
        paths["partial"].unlink()
    else:
        os.replace(paths["partial"], paths["final"])
    retry.done(paths)
    atomic_write_json(paths["stats"], asdict(stats))


def drop_record(result: Dropped, doc: Document) -> dict:
    return {
        "id": result.id,
        "source": result.source,
        "location": "document",
        "reason": result.reason,
        "chars": len(doc.text),
        "preview": doc.text[:200],
    }
