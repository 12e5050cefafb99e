"""Throughput of template raising, side by side with a plain JSONL copy of the same documents.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/raise_throughput.py [--mb 20] [--values-mb 2]

Builds a JSONL corpus of at least ``--mb`` MB from ../shared/data/corpus (passages as read by
modelraising, repeated with a replica marker until large enough), then in one run measures:

1. copy:     read the JSONL, parse each record, serialise it again, write it (the reference rate);
2. template: ``raise`` with perspective+experience+social, 1 worker, as a ratio of the copy rate;
3. values:   ``raise`` with the values pillar alone (MiniLM on CPU), on the first ``--values-mb`` MB;
4. workers:  template raising with 2 workers against 1.

Rates are input MB per second of wall time. Targets: template >= 0.3 x copy; 2 workers >= 1.7 x 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modelraising.charter import default_charter_path  # noqa: E402
from modelraising.config import RaiseConfig  # noqa: E402
from modelraising.document import Document  # noqa: E402
from modelraising.raising.runner import raise_corpus  # noqa: E402
from modelraising.sources import SourceSpec, read_sources  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus"
TEMPLATE = ["perspective", "experience", "social"]


def build_corpus(path: Path, target_mb: float) -> tuple[int, float]:
    passages = [d for d in read_sources([SourceSpec(path=str(SHARED))]) if isinstance(d, Document)]
    n, size, replica = 0, 0, 0
    with open(path, "w", encoding="utf-8") as f:
        while size < target_mb * 1e6:
            for d in passages:
                text = d.text if replica == 0 else f"{d.text}\n\n(Replica {replica}.)"
                line = json.dumps({"text": text, "genre": d.metadata["genre"]}, ensure_ascii=False) + "\n"
                f.write(line)
                size += len(line.encode("utf-8"))
                n += 1
                if size >= target_mb * 1e6:
                    break
            replica += 1
    return n, size / 1e6


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


def timed_raise(src: Path, out: Path, pillars: list[str], workers: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    spec = SourceSpec(path=str(src), text_field="text", max_doc_chars=10**7)
    start = time.perf_counter()
    raise_corpus(default_charter_path(), [spec], out, RaiseConfig(pillars=pillars),
                 workers=workers, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--values-mb", type=float, default=2.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    try:
        corpus = work / "corpus.jsonl"
        n, mb = build_corpus(corpus, args.mb)
        print(f"corpus: {n:,} documents, {mb:.1f} MB ({corpus})")
        rows = []
        t_copy = copy_jsonl(corpus, work / "copy.jsonl")
        rows.append(("copy (reference)", mb, t_copy))
        t1 = timed_raise(corpus, work / "t1", TEMPLATE, 1)
        rows.append(("template raise, 1 worker", mb, t1))
        t2 = timed_raise(corpus, work / "t2", TEMPLATE, 2)
        rows.append(("template raise, 2 workers", mb, t2))
        small = work / "small.jsonl"
        vmb = head(corpus, small, args.values_mb)
        t_vcopy = copy_jsonl(small, work / "vcopy.jsonl")
        rows.append((f"copy of first {vmb:.1f} MB", vmb, t_vcopy))
        tv = timed_raise(small, work / "v1", ["values"], 1)
        rows.append(("values raise, 1 worker", vmb, tv))

        print(f"\n{'path':<28}{'MB':>8}{'seconds':>10}{'MB/s':>10}")
        for name, size, secs in rows:
            print(f"{name:<28}{size:>8.1f}{secs:>10.2f}{size / secs:>10.2f}")
        copy_rate, vcopy_rate = mb / t_copy, vmb / t_vcopy
        print("\nratios")
        print(f"  template raise / copy          {mb / t1 / copy_rate:6.3f}   (target >= 0.3)")
        print(f"  values raise / copy            {vmb / tv / vcopy_rate:6.3f}")
        print(f"  2 workers / 1 worker           {t1 / t2:6.3f}   (target >= 1.7)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
