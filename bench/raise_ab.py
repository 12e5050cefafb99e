"""Template raising of two source trees side by side: did a change make raising slower?

    git worktree add /tmp/old 7798b76
    HF_HUB_OFFLINE=1 .venv/bin/python bench/raise_ab.py --old /tmp/old/src [--mb 20] [--rounds 5]

Each tree raises the same corpus (built as in ``raise_throughput.py``) through its own CLI with the
three template pillars and one worker, in alternating rounds with a JSONL copy as the reference;
each tree's start-up (a one-passage raise, best of three) is subtracted. Prints the medians, each
tree's template / copy ratio and new rate / old rate (issue 14's bar: >= 0.8).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import raise_throughput as rt

NEW = str(Path(__file__).resolve().parents[1] / "src")


def timed_cli_raise(src: str, data: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=src)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "modelraising",
            "-q",
            "raise",
            "--source",
            str(data),
            "--text-field",
            "text",
            "--out",
            str(out),
            "--pillars",
            "perspective,experience,social",
            "--workers",
            "1",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the src/ folder of the older tree (a git worktree)")
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"old": args.old, "new": NEW}
    work = Path(tempfile.mkdtemp(prefix="mr-ab-"))
    try:
        corpus, one = work / "corpus.jsonl", work / "one.jsonl"
        n, mb = rt.build_corpus(corpus, args.mb)
        with open(corpus, encoding="utf-8") as f, open(one, "w", encoding="utf-8") as g:
            g.write(f.readline())
        print(f"corpus: {n:,} passages, {mb:.1f} MB")
        startup = {k: min(timed_cli_raise(s, one, work / f"one-{k}") for _ in range(3)) for k, s in trees.items()}
        print("start-up s", {k: round(v, 2) for k, v in startup.items()})
        times: dict[str, list[float]] = {k: [] for k in trees}
        copies = []
        for r in range(args.rounds):
            copies.append(rt.copy_jsonl(corpus, work / "copy.jsonl"))
            for k, s in trees.items():
                times[k].append(timed_cli_raise(s, corpus, work / f"raise-{k}") - startup[k])
            print(
                f"round {r + 1}: copy {copies[-1]:.2f} s, " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                flush=True,
            )
        med = {k: statistics.median(v) for k, v in times.items()}
        copy = statistics.median(copies)
        print(
            f"template / copy: old {copy / med['old']:.3f}, new {copy / med['new']:.3f}; "
            f"new rate / old rate {med['old'] / med['new']:.2f} (target >= 0.8)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
