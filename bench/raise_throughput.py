"""Throughput of template raising, side by side with a plain JSONL copy of the same documents.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/raise_throughput.py [--mb 20] [--values-mb 2] [--repeats 3]

Builds a JSONL corpus of at least ``--mb`` MB from ../shared/data/corpus (passages as read by
modelraising, repeated with a replica marker until large enough), then in one run measures:

1. copy:     read the JSONL, parse each record, serialise it again, write it (the reference rate);
2. template: ``raise`` with perspective+experience+social, 1 worker, as a ratio of the copy rate;
3. workers:  template raising with 2 workers against 1;
4. kinds:    (1) and (2) on each kind of passage alone (book paragraphs, short web posts, dialogues),
             which shows whether the gap is a per-passage or a per-byte cost;
5. values:   all four pillars against the three template pillars on the first ``--values-mb`` MB, in
             alternating rounds (target: the four at >= 0.25 of the three's rate), with the values
             detector's own numbers: texts per second of each pass and the share that needed the second
             pass (MiniLM). ``--device cuda`` runs the second pass on a GPU.

Steps 1 to 3 run ``--repeats`` times in alternation (the machine's load moves all three alike); the
median of each ratio is reported with its range. Rates are input MB per second of wall time.
Targets: template >= 0.3 x copy; 2 workers >= 1.7 x 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from modelraising.charter import default_charter_path  # noqa: E402
from modelraising.document import Document  # noqa: E402
from modelraising.raising.config import RaiseConfig  # noqa: E402
from modelraising.raising.step import raise_corpus  # noqa: E402
from modelraising.sources import SourceSpec, read_sources  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus"
TEMPLATE = ["perspective", "experience", "social"]
ALL = [*TEMPLATE, "values"]
KINDS = {"book paragraphs (.txt)": "*.txt", "short web posts (.csv)": "*.csv", "dialogues (.jsonl.gz)": "*.jsonl.gz"}


def write_passages(path: Path, pattern: str, target_mb: float = 0.0) -> tuple[int, float]:
    """The passages of the shared files matching ``pattern`` as JSONL, repeated with a replica marker
    until ``target_mb`` MB (once when 0). Returns (passages, MB)."""
    passages = [d for d in read_sources([SourceSpec(path=str(SHARED / pattern))]) if isinstance(d, Document)]
    n, size, replica = 0, 0, 0
    with open(path, "w", encoding="utf-8") as f:
        while replica == 0 or size < target_mb * 1e6:
            for d in passages:
                text = d.text if replica == 0 else f"{d.text}\n\n(Replica {replica}.)"
                line = json.dumps({"text": text, "genre": d.metadata["genre"]}, ensure_ascii=False) + "\n"
                f.write(line)
                size += len(line.encode("utf-8"))
                n += 1
                if target_mb and size >= target_mb * 1e6:
                    break
            replica += 1
    return n, size / 1e6


def build_corpus(path: Path, target_mb: float) -> tuple[int, float]:
    return write_passages(path, "*", target_mb)


def head(src: Path, dst: Path, mb: float) -> float:
    size = 0
    with open(src, encoding="utf-8") as fi, open(dst, "w", encoding="utf-8") as fo:
        for line in fi:
            if size >= mb * 1e6:
                break
            fo.write(line)
            size += len(line.encode("utf-8"))
    return size / 1e6


def copy_jsonl(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    with open(src, encoding="utf-8") as fi, open(dst, "w", encoding="utf-8") as fo:
        for line in fi:
            record = json.loads(line)
            doc = Document(text=record["text"], id=str(hash(record["text"])), metadata={"genre": record["genre"]})
            fo.write(doc.to_json() + "\n")
    return time.perf_counter() - start


def timed_raise(src: Path, out: Path, pillars: list[str], workers: int, device: str = "cpu") -> float:
    shutil.rmtree(out, ignore_errors=True)
    spec = SourceSpec(path=str(src), text_field="text", max_doc_chars=10**7)
    start = time.perf_counter()
    raise_corpus(
        default_charter_path(),
        [spec],
        out,
        RaiseConfig(pillars=pillars),
        workers=workers,
        progress=False,
        device=device,
    )
    return time.perf_counter() - start


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f}   ({min(values):.3f} to {max(values):.3f} over {len(values)})"


def measure_main(work: Path, corpus: Path, mb: float, repeats: int) -> tuple[list[float], list[float]]:
    """Copy, 1 worker and 2 workers in alternation; prints each round, returns the two ratio lists."""
    template, workers = [], []
    print(f"\n{'round':<7}{'copy s':>9}{'1 worker s':>12}{'2 workers s':>13}{'1w/copy':>10}{'2w/1w':>8}")
    for r in range(repeats):
        t_copy = copy_jsonl(corpus, work / "copy.jsonl")
        t1 = timed_raise(corpus, work / "t1", TEMPLATE, 1)
        t2 = timed_raise(corpus, work / "t2", TEMPLATE, 2)
        template.append(t_copy / t1)
        workers.append(t1 / t2)
        print(f"{r + 1:<7}{t_copy:>9.2f}{t1:>12.2f}{t2:>13.2f}{template[-1]:>10.3f}{workers[-1]:>8.2f}", flush=True)
    print(
        f"  (copy {mb / t_copy:.1f} MB/s, 1 worker {mb / t1:.2f} MB/s, 2 workers {mb / t2:.2f} MB/s in the last round)"
    )
    return template, workers


def measure_kinds(work: Path) -> None:
    """Each kind of passage alone, 1 worker: best of two raises against best of three copies."""
    print(f"\n{'kind':<26}{'passages':>9}{'MB':>6}{'bytes each':>11}{'copy us':>9}{'raise us':>10}{'ratio':>7}")
    for name, pattern in KINDS.items():
        path = work / "kind.jsonl"
        n, mb = write_passages(path, pattern)
        t_copy = min(copy_jsonl(path, work / "kind-copy.jsonl") for _ in range(3))
        t_raise = min(timed_raise(path, work / "kind-out", TEMPLATE, 1) for _ in range(2))
        print(
            f"{name:<26}{n:>9,}{mb:>6.1f}{mb * 1e6 / n:>11.0f}{t_copy / n * 1e6:>9.1f}"
            f"{t_raise / n * 1e6:>10.1f}{t_copy / t_raise:>7.3f}",
            flush=True,
        )


def measure_values(work: Path, corpus: Path, values_mb: float, repeats: int, device: str) -> list[float]:
    """Three template pillars vs all four on the same corpus, alternating; returns the 4/3 rate ratios."""
    small = work / "small.jsonl"
    vmb = head(corpus, small, values_mb)
    timed_raise(small, work / "warm", ALL, 1, device)  # load MiniLM and the detector once before timing
    ratios = []
    print(f"\n{'round':<7}{'3 pillars s':>12}{'4 pillars s':>12}{'4/3 rate':>10}   ({vmb:.2f} MB)")
    for r in range(repeats):
        t3 = timed_raise(small, work / "v3", TEMPLATE, 1)
        t4 = timed_raise(small, work / "v4", ALL, 1, device)
        ratios.append(t3 / t4)
        print(f"{r + 1:<7}{t3:>12.2f}{t4:>12.2f}{ratios[-1]:>10.3f}", flush=True)
    detector_report(small, device)
    return ratios


def detector_report(path: Path, device: str) -> None:
    """The detector alone on the same passages: each pass's rate and the second-pass share."""
    from modelraising.harm import features
    from modelraising.harm.detector import HarmDetector

    texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    det = HarmDetector.load(device=device)
    start = time.perf_counter()
    X = features.first_pass_features(texts)
    p = det.first.proba(X)
    t_first = time.perf_counter() - start
    gate, request = np.round(p[:, -1], 3), np.round(p[:, det.labels.index("harmful_request")], 3)
    unsure = (gate >= det.first.gate_lo) & (request >= det.first.request_lo) & (request < det.first.request_hi)
    sample = [t for t, u in zip(texts, unsure) if u][:256]
    start = time.perf_counter()
    if sample:
        det.second.proba(sample)
    t_second = (time.perf_counter() - start) / max(1, len(sample))
    print(
        f"  detector: first pass {len(texts) / t_first:,.0f} texts/s ({t_first / len(texts) * 1e6:.0f} us each); "
        f"second pass on {unsure.mean():.2%} of texts, {t_second * 1e3:.1f} ms each on {device}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--values-mb", type=float, default=2.0, help="0 skips the values pillar")
    parser.add_argument("--device", default="cpu", help="where the detector's second pass runs: cpu or cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-kinds", action="store_true", help="skip the per-kind rows")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    try:
        corpus = work / "corpus.jsonl"
        n, mb = build_corpus(corpus, args.mb)
        print(f"corpus: {n:,} passages, {mb:.1f} MB, {mb * 1e6 / n:.0f} bytes each ({corpus})")
        template, workers = measure_main(work, corpus, mb, args.repeats)
        if not args.no_kinds:
            measure_kinds(work)
        values = measure_values(work, corpus, args.values_mb, args.repeats, args.device) if args.values_mb > 0 else []
        print("\nratios (median, range)")
        print(f"  template raise / copy   {spread(template)}   target >= 0.3")
        print(f"  2 workers / 1 worker    {spread(workers)}   target >= 1.7")
        if values:
            print(f"  4 pillars / 3 pillars   {spread(values)}   target >= 0.25 ({args.device})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
