"""Throughput of our scorer against lm-evaluation-harness, same model, same items, same run.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_throughput.py [--hidden 256 --layers 4 --vocab 8192]

Builds a Llama (random weights: throughput does not depend on what the model knows) with a
byte-level BPE tokenizer trained on ../shared/data/corpus (or the shipped held-out text), exports
the charter, ETHICS and identity items as lm-eval tasks, and times, alternating and repeated:

1. ours:        ``Scorer.score_items`` on the items (tokenising included);
2. lm-eval:     ``lm_eval.simple_evaluate`` on the exported tasks (end to end, as a user runs it);
3. lm-eval LL:  ``HFLM.loglikelihood`` alone on the same (context, continuation) requests.

Both score in float32 at the same batch size and thread count. Rates are items per second (the
best of ``--repeats``, which is the least disturbed by other load on a shared machine). Target:
ours / lm-eval >= 1.0. It also checks that both give the same log-likelihoods.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from modelraising.charter import default_charter_path, load_charter  # noqa: E402
from modelraising.evaluate import charter_suite, ethics, identity  # noqa: E402
from modelraising.evaluate.config import EVAL_DATA, EvalConfig, shared_data_dir  # noqa: E402
from modelraising.evaluate.lm_eval_export import export  # noqa: E402
from modelraising.evaluate.scoring import Scorer  # noqa: E402

EOT = "<|endoftext|>"


def corpus_text(max_chars: int = 4_000_000) -> list[str]:
    root = shared_data_dir()
    files = sorted((root / "corpus").glob("*.txt")) if root else []
    files = files or [EVAL_DATA / "heldout.txt"]
    per = max_chars // len(files)
    return [p.read_text(encoding="utf-8", errors="replace")[:per] for p in files]


def build_model(folder: Path, vocab: int, hidden: int, layers: int, window: int) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=[EOT],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus_text(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOT, bos_token=EOT, pad_token=EOT, unk_token=EOT, model_max_length=window
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        max_position_embeddings=window,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def time_ours(model_dir: Path, items, batch_size: int) -> tuple[float, list]:
    scorer = Scorer.from_pretrained(model_dir, batch_size=batch_size)  # fresh: nothing cached
    start = time.perf_counter()
    scores = scorer.score_items(items)
    return time.perf_counter() - start, scores


def time_lm_eval(model_dir: Path, tasks: list[str], task_dir: Path, batch_size: int) -> tuple[float, dict]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    start = time.perf_counter()
    out = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32",
        tasks=tasks,
        device="cpu",
        batch_size=batch_size,
        log_samples=True,
        task_manager=TaskManager(include_path=str(task_dir)),
    )
    return time.perf_counter() - start, out


def time_lm_eval_ll(model_dir: Path, items, batch_size: int) -> float:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(model_dir), dtype="float32", device="cpu", batch_size=batch_size)
    requests = [
        Instance("loglikelihood", {}, (i.context, c), n)
        for n, (i, c) in enumerate((i, c) for i in items for c in i.choices)
    ]
    start = time.perf_counter()
    lm.loglikelihood(requests, disable_tqdm=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--limit", type=int, default=40, help="ETHICS rows per subset.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    work = Path(tempfile.mkdtemp(prefix="mr-evalbench-"))
    try:
        model_dir = work / "model"
        build_model(model_dir, args.vocab, args.hidden, args.layers, args.window)
        charter = load_charter(default_charter_path())
        cfg = EvalConfig(model=str(model_dir), suites=["charter", "ethics", "identity"], limit=args.limit)
        items = charter_suite.build_items(cfg, charter) + ethics.build_items(cfg) + identity.build_items(cfg, charter)
        written = export(cfg, charter, work / "tasks")
        tasks = [t for names in written.values() for t in names]
        requests = sum(len(i.choices) for i in items)
        print(
            f"model: Llama hidden {args.hidden}, {args.layers} layers, vocab {args.vocab}; "
            f"{len(items)} items, {requests} requests; batch {args.batch_size}; {args.threads} threads"
        )

        time_ours(model_dir, items[:32], args.batch_size)  # warm-up: thread pools, allocator, imports
        time_lm_eval_ll(model_dir, items[:32], args.batch_size)
        ours, theirs, theirs_ll = [], [], []
        for r in range(args.repeats):  # alternate who goes first, so drifting load hits both alike
            if r % 2:
                theirs_ll.append(time_lm_eval_ll(model_dir, items, args.batch_size))
                t, out = time_lm_eval(model_dir, tasks, work / "tasks", args.batch_size)
                theirs.append(t)
            t, scores = time_ours(model_dir, items, args.batch_size)
            ours.append(t)
            if not r % 2:
                t, out = time_lm_eval(model_dir, tasks, work / "tasks", args.batch_size)
                theirs.append(t)
                theirs_ll.append(time_lm_eval_ll(model_dir, items, args.batch_size))
            print(
                f"repeat {r + 1}: ours {ours[-1]:.2f}s  lm-eval {theirs[-1]:.2f}s  lm-eval LL only {theirs_ll[-1]:.2f}s"
            )

        lls = {
            s["doc"]["id"]: [float(x[0]) for x in s["filtered_resps"]]
            for task in out["samples"]
            for s in out["samples"][task]
        }
        worst = max(abs(a - b) for i, s in zip(items, scores) for a, b in zip(s.lls, lls[i.id]))
        n = len(items)
        rate = {"ours": n / min(ours), "lm_eval": n / min(theirs), "lm_eval_ll": n / min(theirs_ll)}
        summary = {
            "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}, "
            f"torch {torch.__version__}",
            "items": n,
            "requests": requests,
            "batch_size": args.batch_size,
            "threads": args.threads,
            "items_per_s": {k: round(v, 2) for k, v in rate.items()},
            "ratio_vs_lm_eval": round(rate["ours"] / rate["lm_eval"], 2),
            "ratio_vs_lm_eval_ll_only": round(rate["ours"] / rate["lm_eval_ll"], 2),
            "max_abs_logprob_diff": worst,
        }
        print(f"\n{'scorer':<28}{'best s':>10}{'items/s':>10}")
        rows = (("ours", ours), ("lm-eval simple_evaluate", theirs), ("lm-eval HFLM.loglikelihood", theirs_ll))
        for name, times in rows:
            print(f"{name:<28}{min(times):>10.2f}{n / min(times):>10.1f}")
        print(f"\nratio ours / lm-eval (end to end)   {summary['ratio_vs_lm_eval']:6.2f}   (target >= 1.0)")
        print(f"ratio ours / lm-eval (LL call only) {summary['ratio_vs_lm_eval_ll_only']:6.2f}")
        print(f"max |log-likelihood difference|     {worst:.2e}")
        print(json.dumps(summary))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
