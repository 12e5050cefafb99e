"""Teacher engine throughput against the scripted OpenAI-compatible server (fixed latency, unlimited capacity).

    .venv/bin/python bench/teacher_throughput.py                 # 2,000 docs, --concurrency 64, 200 ms
    .venv/bin/python bench/teacher_throughput.py --docs 500 --concurrency 32 --latency 0.1

The server runs in its own process (``python -m modelraising.teacher.server``) so that it does not
share the client's interpreter. Each document is one request (pillars perspective, experience and
social: one form per document, no values reflection, no judge), with a fresh request cache, so every
request goes to the server. Reported per run (``--repeat``, median and best): requests/s over the
whole ``raise_corpus`` call (reading, writing, start-up of the engine and the tail included) as a
share of the ideal ``concurrency / latency``, the client's CPU time per request (what bounds the
rate on a busy machine), the server's maximum of requests in flight and the load average before
the run; and the speed-up over a sequential loop (the same engine at concurrency 1 over the first
``--sequential-docs`` documents).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import modelraising.raising.teacher_engine  # noqa: F401  (imported up front: process start-up is not throughput)
from modelraising.charter import default_charter_path
from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import raise_corpus
from modelraising.sources import SourceSpec

PLACES = ["Ashford", "Brightwater", "Calder Vale", "Dunmore", "Eastbrook", "Fairhaven", "Glenrock", "Harrow Bay"]
PEOPLE = ["Ada Moreno", "Ben Okafor", "Clara Jensen", "David Lindqvist", "Esme Varga", "Felix Adeyemi"]


def make_corpus(path: Path, n: int) -> None:
    """``n`` distinct factual passages (~450 characters, names and numbers) as JSONL."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            place, person = PLACES[i % len(PLACES)], PEOPLE[i % len(PEOPLE)]
            text = (
                f"The old mill at {place} was rebuilt in {1850 + i % 150} after a flood that rose {2 + i % 9} "
                f"metres. Record {i} of the survey says that {person} measured the river there for {3 + i % 20} "
                f"years and counted {100 + i} herons along its banks. The mill ground about {40 + i % 60} tonnes "
                f"of grain a year, and its wheel turned {10 + i % 7} times a minute when the water was high. "
                f"Today the building is a small museum that is open on {1 + i % 6} days a week."
            )
            f.write(json.dumps({"text": text, "genre": "factual"}) + "\n")


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelraising.teacher.server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    m = re.search(r"serving (\S+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return proc, m.group(1)


def server_stats(url: str) -> dict:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/_stats") as r:
        return json.loads(r.read())


def reset_server(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url.removesuffix("/v1") + "/_reset", data=b"{}", method="POST"))


def run(corpus: Path, out: Path, url: str, concurrency: int, limit: int | None, cache: Path) -> tuple[float, dict]:
    config = RaiseConfig(
        engine="teacher",
        pillars=["perspective", "experience", "social"],
        limit=limit,
        teacher={"url": url, "model": "scripted", "concurrency": concurrency, "cache": str(cache), "timeout": 30},
    )
    started = time.perf_counter()
    manifest = raise_corpus(default_charter_path(), [SourceSpec(path=str(corpus))], out, config, progress=False)
    return time.perf_counter() - started, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--sequential-docs", type=int, default=50)
    parser.add_argument(
        "--repeat", type=int, default=3, help="concurrent runs (fresh cache each); median and best reported"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        make_corpus(corpus, args.docs)
        proc, url = start_server(args.latency)
        runs = []
        try:
            for i in range(args.repeat):
                load = os.getloadavg()[0]
                cpu = time.process_time()
                elapsed, manifest = run(
                    corpus, tmp / f"concurrent{i}", url, args.concurrency, None, tmp / f"c{i}.sqlite"
                )
                cpu = time.process_time() - cpu
                stats = server_stats(url)
                reset_server(url)
                requests = manifest["teacher"]["run"]["requests_sent"]
                runs.append(
                    {
                        "elapsed_s": round(elapsed, 3),
                        "requests": requests,
                        "requests_per_s": round(requests / elapsed, 1),
                        "client_cpu_ms_per_request": round(1000 * cpu / requests, 3),
                        "server_max_in_flight": stats["max_in_flight"],
                        "load_before": round(load, 2),
                        "accepted": manifest["teacher"]["counts"]["accepted"],
                        "fallen_back": manifest["teacher"]["counts"]["fallen_back"],
                    }
                )
                print(json.dumps(runs[-1]), file=sys.stderr)
            seq_elapsed, seq_manifest = run(corpus, tmp / "sequential", url, 1, args.sequential_docs, tmp / "s.sqlite")
        finally:
            proc.terminate()
            proc.wait(10)

    ideal = args.concurrency / args.latency
    rates = sorted(r["requests_per_s"] for r in runs)
    median, best = rates[len(rates) // 2], rates[-1]
    seq_rate = seq_manifest["teacher"]["run"]["requests_sent"] / seq_elapsed
    result = {
        "docs": args.docs,
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "runs": runs,
        "requests_per_s_median": median,
        "requests_per_s_best": best,
        "ideal_requests_per_s": round(ideal, 1),
        "ratio_to_ideal_median": round(median / ideal, 3),
        "ratio_to_ideal_best": round(best / ideal, 3),
        "sequential_docs": seq_manifest["counts"]["raised"],
        "sequential_requests_per_s": round(seq_rate, 2),
        "speedup_vs_sequential_median": round(median / seq_rate, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
