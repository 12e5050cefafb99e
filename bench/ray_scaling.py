"""Ray Data executor overhead, and a projection of what raising a 10B-token corpus takes.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/ray_scaling.py [--mb 10] [--values-docs 300] [--teacher-docs 300]

1. overhead: template raising (perspective+experience+social) of the same corpus (the passages of
   ../shared/data/corpus, repeated to ``--mb`` MB) with the local executor, 2 worker processes,
   against the Ray executor (an embedded Ray instance, 2 CPUs, 2 tasks at once); documents/s as a
   ratio. Ray's start-up is timed apart; the first Ray run also starts the worker processes (cold),
   the second reuses them (warm: the steady state of a long run). The Ray runs include cutting the
   input into Parquet shards and writing Parquet. The same comparison again with the values pillar
   (MiniLM per document: the cost per document of real raising work) on ``--values-docs`` documents.
2. per-document costs, measured here on one CPU core: template raising, value detection (MiniLM),
   curriculum scoring, tokenizing; and for the teacher engine, per document, the requests and prompt
   characters actually sent (all four pillars, against the scripted loopback server, every request
   logged; the system prompt, identical in every request, apart: a server with prefix caching, as
   vLLM and SGLang have, computes it once) and the characters of the raised text (the teacher's
   answer is about that long).
3. projection: from those costs, the wall time and cost to raise 10B tokens (tokens of a 32k BPE trained
   here on the raised text) with a teacher served on N GPUs. The GPU-side rates and prices are
   assumptions, given as flags and printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from raise_throughput import build_corpus  # noqa: E402

from modelraising.charter import default_charter_path  # noqa: E402
from modelraising.curriculum import CurriculumConfig, run_curriculum  # noqa: E402
from modelraising.raising.config import RaiseConfig  # noqa: E402
from modelraising.raising.step import raise_corpus  # noqa: E402
from modelraising.records import read_raised  # noqa: E402
from modelraising.shards import TokenizeConfig, tokenize_corpus, train_tokenizer  # noqa: E402
from modelraising.sources import SourceSpec  # noqa: E402

TEMPLATE = ["perspective", "experience", "social"]
TOKENS = 10e9


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def raise_with(
    corpus: Path,
    out: Path,
    pillars: list[str],
    workers: int,
    executor: str = "local",
    limit: int | None = None,
    **config,
) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    spec = SourceSpec(path=str(corpus), text_field="text", max_doc_chars=10**7)
    fmt = "parquet" if executor == "ray" else "jsonl"
    cfg = RaiseConfig(pillars=pillars, limit=limit, output_format=fmt, **config)
    return timed(
        raise_corpus, default_charter_path(), [spec], out, cfg, workers=workers, progress=False, executor=executor
    )


def raised_texts(out: Path) -> list[str]:
    return [d.text for d in read_raised(out)]


def teacher_costs(corpus: Path, work: Path, n_docs: int) -> dict:
    """Requests and prompt characters per document, all four pillars, from the logged request bodies."""
    from modelraising.teacher.server import Script, ScriptedServer

    with ScriptedServer(Script(log_bodies=True)) as server:
        config = {
            "engine": "teacher",
            "teacher": {
                "url": server.url,
                "model": "scripted",
                "concurrency": 32,
                "cache": str(work / "teacher.sqlite"),
            },
        }
        elapsed, manifest = raise_with(corpus, work / "teacher", ["values", *TEMPLATE], 1, limit=n_docs, **config)
        bodies = server.snapshot()["bodies"]
    prompt_chars = sum(len(m["content"]) for b in bodies for m in b["messages"])
    shared_chars = sum(len(m["content"]) for b in bodies for m in b["messages"] if m["role"] == "system")
    docs = manifest["counts"]["raised"]
    return {
        "docs": docs,
        "requests_per_doc": len(bodies) / docs,
        "prompt_chars_per_doc": prompt_chars / docs,
        "system_prompt_share": round(shared_chars / prompt_chars, 3),
        "elapsed_s": round(elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=10.0, help="corpus size for the overhead comparison")
    parser.add_argument("--values-docs", type=int, default=300)
    parser.add_argument("--teacher-docs", type=int, default=300)
    parser.add_argument("--gpus", default="8,64,256", help="teacher GPU counts to project for")
    parser.add_argument(
        "--decode-tps",
        type=float,
        default=2500.0,
        help="ASSUMED output tokens/s per GPU of the teacher server (70B-class FP8 on H100, vLLM)",
    )
    parser.add_argument("--prefill-tps", type=float, default=25000.0, help="ASSUMED prompt tokens/s per GPU")
    parser.add_argument("--gpu-hour-usd", type=float, default=2.5, help="ASSUMED price of one GPU-hour")
    parser.add_argument("--cpu-hour-usd", type=float, default=0.04, help="ASSUMED price of one CPU-core-hour")
    parser.add_argument(
        "--no-prefix-cache",
        action="store_true",
        help="count the system prompt as prefill in every request (a server without prefix caching)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mr-ray-bench-"))
    try:
        corpus = work / "corpus.jsonl"
        n, mb = build_corpus(corpus, args.mb)
        print(f"corpus: {n:,} documents, {mb:.1f} MB", file=sys.stderr)

        # 1. overhead: local executor, 2 processes, against Ray Data, 2 tasks, same corpus and cores
        t_local, local = raise_with(corpus, work / "local", TEMPLATE, 2)
        from modelraising.ray_executor import init_ray

        t_init, _ = timed(init_ray, None, 2)
        t_cold, on_ray = raise_with(corpus, work / "ray", TEMPLATE, 2, executor="ray")
        t_warm, _ = raise_with(corpus, work / "ray", TEMPLATE, 2, executor="ray")
        assert on_ray["counts"]["raised"] == local["counts"]["raised"]
        docs = local["counts"]["documents_in"]
        vkw = {"limit": args.values_docs, "chunk_size": 50}
        t_vlocal, _ = raise_with(corpus, work / "vlocal", ["values", *TEMPLATE], 2, **vkw)
        t_vray, _ = raise_with(corpus, work / "vray", ["values", *TEMPLATE], 2, executor="ray", **vkw)

        # 2. per-document costs on one core
        t_template1, _ = raise_with(corpus, work / "t1", TEMPLATE, 1)
        t_values, values = raise_with(corpus, work / "values", ["values"], 1, limit=args.values_docs)
        t_values0, _ = raise_with(corpus, work / "values0", ["perspective"], 1, limit=args.values_docs)
        values_docs = values["counts"]["documents_in"]
        t_curriculum, _ = timed(
            run_curriculum, work / "t1", default_charter_path(), work / "cur", CurriculumConfig(), progress=False
        )
        texts = raised_texts(work / "t1")
        sample = texts[: min(len(texts), 20000)]
        tok = train_tokenizer(iter(sample), 32768, ["<|endoftext|>"], 2, len(sample))
        raised_chars = sum(map(len, texts))
        bpe_tokens = sum(len(e.ids) for e in tok.encode_batch(texts))
        chars_per_token = raised_chars / bpe_tokens
        t_tokenize, tokenized = timed(tokenize_corpus, work / "cur", work / "tok", TokenizeConfig(), progress=False)
        train_tokens = tokenized["counts"]["train_tokens"] + tokenized["counts"]["val_tokens"]
        teacher = teacher_costs(corpus, work, args.teacher_docs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    chars_per_doc = raised_chars / len(texts)
    per_doc = {
        "template_raise_s": t_template1 / docs,
        "values_detect_s": max(0.0, t_values - t_values0) / values_docs,
        "curriculum_score_s": t_curriculum / len(texts),
        "tokenize_s": t_tokenize / len(texts),
        "raised_chars": chars_per_doc,
        "raised_tokens_32k_bpe": chars_per_doc / chars_per_token,
        "teacher_requests": teacher["requests_per_doc"],
        "teacher_prompt_tokens": teacher["prompt_chars_per_doc"] / chars_per_token,
    }
    prefill_share = 1.0 if args.no_prefix_cache else 1.0 - teacher["system_prompt_share"]
    # --- projection for 10B raised tokens
    n_docs = TOKENS / per_doc["raised_tokens_32k_bpe"]
    completion_tokens = TOKENS  # the teacher writes the raised text
    prompt_tokens = n_docs * per_doc["teacher_prompt_tokens"]
    gpu_seconds = completion_tokens / args.decode_tps + prompt_tokens * prefill_share / args.prefill_tps
    cpu_seconds = n_docs * (
        per_doc["values_detect_s"] + per_doc["curriculum_score_s"] + per_doc["tokenize_s"] + per_doc["template_raise_s"]
    )  # the template path is the teacher's fallback
    rows = []
    for g in (int(x) for x in args.gpus.split(",")):
        hours = gpu_seconds / g / 3600
        cores = cpu_seconds / 3600 / hours  # CPU cores needed to keep pace with the GPUs
        cost = g * hours * args.gpu_hour_usd + cpu_seconds / 3600 * args.cpu_hour_usd
        rows.append(
            {"gpus": g, "wall_hours": round(hours, 1), "cpu_cores_to_keep_pace": round(cores), "cost_usd": round(cost)}
        )

    result = {
        "corpus": {"documents": docs, "mb": round(mb, 1)},
        "overhead": {
            "local_2_workers_docs_per_s": round(docs / t_local, 1),
            "ray_2_tasks_docs_per_s_warm": round(docs / t_warm, 1),
            "ray_2_tasks_docs_per_s_cold": round(docs / t_cold, 1),
            "ray_init_s": round(t_init, 1),
            "ratio_ray_to_local_warm": round(t_local / t_warm, 3),
            "ratio_ray_to_local_cold": round(t_local / t_cold, 3),
            "ratio_with_init_cold": round(t_local / (t_cold + t_init), 3),
            "values_docs": args.values_docs,
            "values_local_2_workers_docs_per_s": round(args.values_docs / t_vlocal, 2),
            "values_ray_2_tasks_docs_per_s": round(args.values_docs / t_vray, 2),
            "values_ratio_ray_to_local": round(t_vlocal / t_vray, 3),
        },
        "per_document": {k: round(v, 6 if k.endswith("_s") else 1) for k, v in per_doc.items()},
        "chars_per_token_32k_bpe": round(chars_per_token, 2),
        "tokens_per_raised_doc_8k_bpe": round(train_tokens / len(texts), 1),
        "teacher_sample": teacher,
        "projection_10B_tokens": {
            "documents": round(n_docs),
            "completion_tokens": completion_tokens,
            "prompt_tokens": round(prompt_tokens),
            "gpu_hours": round(gpu_seconds / 3600),
            "cpu_core_hours": round(cpu_seconds / 3600),
            "prefill_tokens": round(prompt_tokens * prefill_share),
            "assumptions": {
                "decode_tps_per_gpu": args.decode_tps,
                "prefill_tps_per_gpu": args.prefill_tps,
                "prefix_cache": not args.no_prefix_cache,
                "gpu_hour_usd": args.gpu_hour_usd,
                "cpu_hour_usd": args.cpu_hour_usd,
            },
            "by_gpus": rows,
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
