"""Throughput of ``modelraising tokenize`` (encode + write) against the bare tokenizer, and of difficulty scoring.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tokenize_throughput.py [--mb 12] [--reps 3] [--memory-docs 100000]

Builds a raised corpus of at least ``--mb`` MB of text from ../shared/data/corpus (the paragraphs of its
.txt files, repeated with a replica marker until large enough), orders it with ``modelraising curriculum``
(timing the difficulty scoring) and trains one tokenizer on it beforehand. Then, in the same run and
interleaved ``--reps`` times (best of each kept, since a shared machine is noisy):

1. direct:      the same tokenizer's ``encode_batch`` on the texts already in memory (batches of 512),
                one numpy array, written with ``tofile`` (the reference rate; the target is >= 0.8 of it);
2. direct-fast: the same with ``encode_batch_fast`` (what the step uses: no offsets);
3. tokenize:    ``tokenize_corpus(..., tokenizer=DIR)``, the whole step without training: reading the
                ordered JSONL, the split, encoding, shards, index.json, manifest.

Rates are MB of UTF-8 text per second of wall time. Scoring is documents per second of
``document_features`` in one process, and of ``run_curriculum`` with 1 and 2 workers.
``--memory-docs N`` also orders a corpus of N short documents in a child process and reports its peak
resident memory (the 2 GB budget for 100k documents).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from modelraising.charter import default_charter_path  # noqa: E402
from modelraising.curriculum import CurriculumConfig, document_features, run_curriculum  # noqa: E402
from modelraising.document import Document  # noqa: E402
from modelraising.shards import (  # noqa: E402
    TokenizeConfig,
    load_tokenizer,
    save_tokenizer,
    special_tokens,
    tokenize_corpus,
    train_tokenizer,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus"


def paragraphs() -> list[str]:
    out = []
    for path in sorted(SHARED.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("<|endoftext|>", "\n\n")
        out += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.strip()) >= 200]
    return out


def build_raised(root: Path, target_mb: float, per_file: int = 2000) -> tuple[int, float]:
    """Raised-record JSONL files holding at least ``target_mb`` MB of text."""
    passages = paragraphs()
    root.mkdir(parents=True)
    docs, size, replica = [], 0, 0
    while size < target_mb * 1e6:
        for i, p in enumerate(passages):
            text = p if replica == 0 else f"{p}\n\n(Replica {replica}.)"
            docs.append(Document(text=text, id=f"bench-{replica}-{i}", metadata={"genre": "other"}).to_json())
            size += len(text.encode("utf-8"))
            if size >= target_mb * 1e6:
                break
        replica += 1
    for k in range(0, len(docs), per_file):
        (root / f"raised-{k // per_file:05d}.jsonl").write_text("\n".join(docs[k : k + per_file]) + "\n")
    return len(docs), size / 1e6


def ordered_texts(ordered: Path) -> list[str]:
    return [json.loads(line)["text"] for p in sorted(ordered.glob("ordered-*.jsonl")) for line in open(p)]


def direct(tok, texts: list[str], out: Path, fast: bool) -> float:
    """The reference: encode in batches, concatenate with an end-of-text id each, write one array."""
    eot = tok.token_to_id("<|endoftext|>")
    encode = tok.encode_batch_fast if fast else tok.encode_batch
    start = time.perf_counter()
    ids: list[int] = []
    for i in range(0, len(texts), 512):
        for e in encode(texts[i : i + 512], add_special_tokens=False):
            ids.extend(e.ids)
            ids.append(eot)
    np.array(ids, dtype=np.uint16).tofile(out)
    return time.perf_counter() - start


def step(ordered: Path, tokenizer: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    tokenize_corpus(ordered, out, TokenizeConfig(vocab_size=8192), tokenizer=tokenizer, progress=False)
    return time.perf_counter() - start


def scoring(texts: list[str], n: int) -> float:
    document_features(texts[0])  # imports, wordfreq's table
    start = time.perf_counter()
    for t in texts[:n]:
        document_features(t)
    return n / (time.perf_counter() - start)


_MEMORY_CHILD = """
import re, sys, time
from pathlib import Path
from modelraising.charter import default_charter_path
from modelraising.curriculum import CurriculumConfig, run_curriculum
start = time.perf_counter()
run_curriculum(sys.argv[1], default_charter_path(), sys.argv[2], CurriculumConfig(), workers=int(sys.argv[3]),
               progress=False)
# VmHWM: this process's own peak (ru_maxrss would include the parent's peak, inherited across fork + exec)
hwm = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print(time.perf_counter() - start, hwm)
"""


def memory_run(tmp: Path, n_docs: int, workers: int) -> dict:
    passages = [p[:600] for p in paragraphs()]
    raised = tmp / "memory-raised"
    raised.mkdir()
    per_file = 5000
    for k in range(0, n_docs, per_file):
        lines = [
            Document(text=f"{passages[i % len(passages)]} ({i})", id=f"m-{i}").to_json()
            for i in range(k, min(n_docs, k + per_file))
        ]
        (raised / f"raised-{k // per_file:05d}.jsonl").write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(raised), str(tmp / "memory-out"), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, hwm_kb = result.stdout.split()
    return {
        "documents": n_docs,
        "workers": workers,
        "elapsed_s": round(float(elapsed), 1),
        "docs_per_s": round(n_docs / float(elapsed)),
        "peak_rss_mb": round(int(hwm_kb) / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=12.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--memory-docs", type=int, default=0)
    ap.add_argument("--memory-workers", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mr-bench-tok-"))
    try:
        results: dict = {}
        if args.mb <= 0:  # memory only
            results["memory"] = memory_run(tmp, args.memory_docs, args.memory_workers)
            print(json.dumps(results, indent=2))
            return
        n_docs, mb = build_raised(tmp / "raised", args.mb)
        print(
            f"corpus: {n_docs:,} documents, {mb:.1f} MB of text; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}, {platform.processor() or platform.machine()}"
        )

        for workers in (1, 2):
            start = time.perf_counter()
            run_curriculum(
                tmp / "raised",
                default_charter_path(),
                tmp / f"ordered-w{workers}",
                CurriculumConfig(),
                workers=workers,
                progress=False,
            )
            results[f"curriculum_w{workers}_docs_per_s"] = round(n_docs / (time.perf_counter() - start))
        ordered = tmp / "ordered-w1"
        texts = ordered_texts(ordered)
        text_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6  # review copies included
        results["features_docs_per_s"] = round(scoring(texts, min(3000, len(texts))))

        tok = train_tokenizer(iter(texts[:5000]), 8192, special_tokens([]), 2, 5000)
        (tmp / "tokenizer" / ".state").mkdir(parents=True)
        save_tokenizer(tok, tmp / "tokenizer")
        tok = load_tokenizer(tmp / "tokenizer")

        times: dict[str, list[float]] = {"direct": [], "direct-fast": [], "tokenize": []}
        for _ in range(args.reps):
            times["direct"].append(direct(tok, texts, tmp / "direct.bin", fast=False))
            times["direct-fast"].append(direct(tok, texts, tmp / "direct.bin", fast=True))
            times["tokenize"].append(step(ordered, tmp / "tokenizer", tmp / "shards"))
        for name, ts in times.items():
            results[f"{name}_mb_per_s"] = round(text_mb / min(ts), 2)
        results["ratio_vs_direct"] = round(results["tokenize_mb_per_s"] / results["direct_mb_per_s"], 3)
        results["ratio_vs_direct_fast"] = round(results["tokenize_mb_per_s"] / results["direct-fast_mb_per_s"], 3)
        results["text_mb"] = round(text_mb, 2)
        results["all_times_s"] = {k: [round(t, 2) for t in v] for k, v in times.items()}
        results["peak_rss_bench_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if args.memory_docs:
            results["memory"] = memory_run(tmp, args.memory_docs, args.memory_workers)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
