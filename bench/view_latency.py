"""Latency of ``modelraising view`` on a 1,000,000-record raised directory, and the viewer's memory.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/view_latency.py [--records 1000000] [--workdir /tmp/mr-view-bench]

1. Raises a base corpus with every pillar (template engine, value detection on) from ../shared/data:
   Moby Dick, TinyStories, WikiText, Aesop and the HH-RLHF red-team dialogues, ``--per-source`` passages
   each (kept in the workdir and reused).
2. Writes a raised directory of ``--records`` records in files of 1,000 (as ``raise`` does), cycling the
   base records in a shuffled order with new ids (``<id>-r<k>``): real texts and metadata at scale.
3. Builds the viewer's index in a child process: wall time, peak memory, size on disk.
4. Starts ``modelraising view`` on loopback and times HTTP requests (whole response, one keep-alive
   connection): the list (first, middle and last pages), filters, full-text searches with and without
   filters, a phrase, the next page of a search, a record page, the summary. Every request runs
   ``--reps`` times; the first (cold: masks built, pages read from disk) and the median of the rest are
   reported. Then the server's resident memory (VmRSS, peak VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "corpus"
SOURCES = [
    "moby_dick.txt",
    "tinystories_sample.txt",
    "wikitext2_valid.txt",
    "aesop_fables.txt",
    "hh_rlhf_harmless_base_test.jsonl.gz",
]
TARGET_MS = 300.0


def base_corpus(workdir: Path, per_source: int) -> Path:
    out = workdir / f"base-{per_source}"
    if (out / "manifest.json").exists():
        return out
    from modelraising.charter import default_charter_path
    from modelraising.raising.config import RaiseConfig
    from modelraising.raising.step import raise_corpus
    from modelraising.sources import SourceSpec

    specs = [
        SourceSpec(
            path=str(SHARED / name), limit=per_source, text_field="chosen" if name.startswith("hh_rlhf") else None
        )
        for name in SOURCES
    ]
    print(f"raising the base corpus: {per_source} passages of each of {', '.join(SOURCES)}", flush=True)
    raise_corpus(
        default_charter_path(), specs, out, RaiseConfig(value_tags=True), workers=2, overwrite=True, progress=False
    )
    return out


def synthesize(base: Path, out: Path, n: int, per_file: int = 1000) -> None:
    if (out / ".complete").exists() and json.loads((out / ".complete").read_text())["records"] == n:
        return
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("raised-*.jsonl"):
        old.unlink()
    lines = [json.loads(line) for p in sorted(base.glob("raised-*.jsonl")) for line in p.read_text().splitlines()]
    order = list(range(len(lines)))
    rng = random.Random(0)
    written, k, f = 0, 0, None
    t0 = time.perf_counter()
    while written < n:
        rng.shuffle(order)
        for i in order:
            if written % per_file == 0:
                if f:
                    f.close()
                f = open(out / f"raised-{written // per_file:05d}.jsonl", "w", encoding="utf-8")
            record = lines[i]
            f.write(
                json.dumps(
                    {"id": f"{record['id']}-r{k}", "text": record["text"], "metadata": record["metadata"]},
                    ensure_ascii=False,
                )
                + "\n"
            )
            written += 1
            if written == n:
                break
        k += 1
    f.close()
    (out / "manifest.json").write_text((base / "manifest.json").read_text())
    (out / ".complete").write_text(json.dumps({"records": n}))
    size = sum(p.stat().st_size for p in out.glob("raised-*.jsonl"))
    print(f"wrote {n:,} records ({size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s", flush=True)


def build_index(directory: Path) -> dict:
    """Build the index in a child process: its wall time, size and the child's own peak memory."""
    code = (
        "import json, resource, time; from modelraising.view.corpus import open_corpus; "
        "from modelraising.view.index import open_index; t = time.perf_counter(); "
        f"ix = open_index(open_corpus({str(directory)!r}), rebuild=True); "
        "print(json.dumps({'build_s': round(time.perf_counter() - t, 1), 'bytes': ix.path.stat().st_size, "
        "'records': ix.n, 'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))"
    )
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def mid_template(directory: Path) -> str:
    """A template id of middling frequency, for the template filter."""
    import sqlite3

    con = sqlite3.connect(directory / ".view" / "index.sqlite")
    keys = sorted(con.execute("SELECT n, key FROM postings WHERE key LIKE 'template:%' AND key != 'template:*'"))
    con.close()
    return keys[len(keys) // 2][1].split(":", 1)[1]


def memory(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024) for k in ("VmRSS", "VmHWM")}


def timed(opener, url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with opener.open(url) as resp:
        body = resp.read()
    return (time.perf_counter() - t) * 1000, len(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--per-source", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/mr-view-bench"))
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = base_corpus(args.workdir, args.per_source)
    big = args.workdir / f"raised-{args.records}"
    synthesize(base, big, args.records)
    index = build_index(big)
    print(f"index: {index}", flush=True)

    proc = subprocess.Popen(
        [sys.executable, "-m", "modelraising", "-q", "view", str(big), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().split()[2]
    started_rss = memory(proc.pid)
    opener = urllib.request.build_opener()
    q = urllib.parse.quote
    mid, last = args.records // 2 // 50 * 50, (args.records - 1) // 50 * 50
    template = mid_template(big)
    requests = [
        ("list: first page", "d/0/"),
        ("list: middle page", f"d/0/?start={mid}"),
        ("list: last page", f"d/0/?start={last}"),
        ("filter: form=social", "d/0/?form=social"),
        ("filter: form=social, page 2,000", "d/0/?form=social&start=100000"),
        ("filter: value=care & harm=any & form=experience", "d/0/?value=care&harm=*&form=experience"),
        ("filter: template id", f"d/0/?template={q(template)}"),
        ("search: whale (rare word)", "d/0/?q=whale"),
        ("search: the (in every record)", "d/0/?q=the"),
        ("search + filter: whale, form=experience", "d/0/?q=whale&form=experience"),
        ("search + filter: harm, value=non_harm & action=reflect", "d/0/?q=harm&value=non_harm&action=reflect"),
        ("search + filter: the, genre=dialogue & pillar=values", "d/0/?q=the&genre=dialogue&pillar=values"),
        ('search: phrase "call me ishmael"', "d/0/?q=" + q('"call me ishmael"')),
        ("search: next page (after=500000)", "d/0/?q=grandfather&after=500000"),
        ("record page (source re-read on first view)", f"d/0/r/{args.records // 8 + 7}"),
        ("summary page", "d/0/summary"),
    ]
    rows = []
    try:
        for name, path in requests:
            times = [timed(opener, url + path)[0] for _ in range(args.reps)]
            warm = statistics.median(times[1:]) if len(times) > 1 else times[0]
            rows.append(
                {
                    "request": name,
                    "path": path,
                    "cold_ms": round(times[0], 1),
                    "warm_ms": round(warm, 1),
                    "max_ms": round(max(times), 1),
                }
            )
            print(f"{name:58s} cold {times[0]:8.1f} ms   warm {warm:8.1f} ms", flush=True)
        mem = memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    gated = [r for r in rows if r["request"].startswith(("list", "filter", "search"))]
    worst = max(r["warm_ms"] for r in gated)
    worst_cold = max(r["cold_ms"] for r in gated)
    result = {
        "records": args.records,
        "index": index,
        "server_rss_mb_at_start": started_rss,
        "server_memory_mb": mem,
        "requests": rows,
        "worst_warm_ms": worst,
        "worst_cold_ms": worst_cold,
        "target_ms": TARGET_MS,
        "met": worst_cold < TARGET_MS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "requests"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
