"""Training throughput of ``train_model`` against a bare PyTorch loop, same model, batch and optimizer.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_throughput.py [--steps 60] [--batch-size 8]
        [--block-size 256] [--threads 1] [--rounds 3] [--data SHARDS]

Without ``--data`` it builds a shards directory first: a byte-level BPE of 8,192 tokens trained on
../shared/data/corpus/tinystories_sample.txt, laid out as docs/design.md specifies (so the ``tiny``
preset has its documented 5.26M parameters). Then, alternating ``--rounds`` times, on CPU:

1. bare:  the model, AdamW (same parameter groups), batches pre-loaded as tensors; forward, loss,
          backward, step, zero_grad; nothing else (no clipping, schedule, logging, eval or checkpoint);
2. train: ``train_model`` with the defaults (log every 10 steps, eval every 200, checkpoint every 1000,
          so the final eval and checkpoint fall inside the loop), reading the shards from disk.

Reported, as tokens per second and as a ratio of the bare loop (target >= 0.9):

- ``cpu loop``: tokens per second of CPU time over ``train_model``'s whole loop (every step plus the final
  eval and checkpoint; train.json ``loop_cpu_s``) against the bare loop's CPU time. On a machine shared
  with other processes this is the stable measure: they take wall time, not this process's CPU time;
- ``wall``: for the steady state (metrics.jsonl intervals without an eval), the whole loop (train.json
  ``tokens_per_s``) and end to end (setup, save_pretrained, loss.png included): best of the rounds, and
  the median of the per-round ratios (each round runs both back to back, so they see similar load).

No GPU here: MFU on GPU is not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from modelraising.io import read_jsonl  # noqa: E402
from modelraising.train import TrainConfig, train_model  # noqa: E402
from modelraising.train.data import BatchLoader, open_shards  # noqa: E402
from modelraising.train.loop import build_optimizer  # noqa: E402
from modelraising.train.model import build_config, build_model, load_model_kwargs  # noqa: E402

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus" / "tinystories_sample.txt"
EOT = "<|endoftext|>"


def build_shards(dest: Path, vocab_size: int = 8192, val_docs: int = 100) -> Path:
    """A shards directory per the contract, from TinyStories (a stand-in for the tokenize step)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    docs = [d.strip() for d in SOURCE.read_text(encoding="utf-8").split(EOT) if d.strip()]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        docs,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[EOT],
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    dest.mkdir(parents=True, exist_ok=True)
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOT, bos_token=EOT, pad_token=EOT).save_pretrained(dest)
    eot = tok.token_to_id(EOT)
    encoded = [e.ids + [eot] for e in tok.encode_batch(docs)]
    train = np.array([t for d in encoded[:-val_docs] for t in d], dtype=np.uint16)
    val = np.array([t for d in encoded[-val_docs:] for t in d], dtype=np.uint16)
    train.tofile(dest / "train-00000.bin")
    val.tofile(dest / "val.bin")
    index = {
        "format": "modelraising-shards/1",
        "dtype": "uint16",
        "vocab_size": tok.get_vocab_size(),
        "eot_id": eot,
        "shard_tokens": len(train),
        "shards": [{"file": "train-00000.bin", "tokens": len(train)}],
        "train_tokens": len(train),
        "val": {"file": "val.bin", "tokens": len(val), "documents": val_docs},
        "stages": [{"name": "all", "index": 0, "start": 0, "end": len(train)}],
        "documents": {"ids": [], "offsets": []},
        "corpus": {"path": str(SOURCE)},
        "tokenizer": {"trained": True},
    }
    (dest / "index.json").write_text(json.dumps(index))
    return dest


def bare_loop(data: Path, args) -> dict:
    """tokens per second of wall time and of CPU time, for the plainest loop over the same model,
    optimizer and batches."""
    shards = open_shards(data)
    loader = BatchLoader(shards, args.block_size, args.batch_size)
    batches = [loader.micro_batches(step, torch.device("cpu"))[0] for step in range(args.steps)]
    config = build_config(load_model_kwargs(None, "tiny"), shards.vocab_size, shards.eot_id, args.block_size)
    model = build_model(config, seed=0)
    model.train()
    optimizer = build_optimizer(model, _config(data, Path("unused"), args), torch.device("cpu"))
    start, cpu = time.perf_counter(), time.process_time()
    for x, y in batches:
        logits = model(input_ids=x, use_cache=False).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    tokens = args.steps * args.batch_size * args.block_size
    return {"wall": tokens / elapsed, "cpu": tokens / cpu}


def _config(data: Path, out: Path, args) -> TrainConfig:
    return TrainConfig(
        data=data,
        out=out,
        preset="tiny",
        tokens=args.steps * args.batch_size * args.block_size,
        batch_size=args.batch_size,
        block_size=args.block_size,
        device="cpu",
        progress=False,
        eval_windows=args.eval_windows,
        overwrite=True,
    )


def train_run(data: Path, out: Path, args) -> dict:
    """train_model's whole-loop and steady-state tokens/s, and its end-to-end wall time."""
    start = time.perf_counter()
    summary = train_model(_config(data, out, args))
    wall = time.perf_counter() - start
    lines = [r for r in read_jsonl(out / "metrics.jsonl") if "val_loss" not in r]
    tokens = [r["tokens"] - prev["tokens"] for prev, r in zip([{"tokens": 0}, *lines], lines)]
    seconds = sum(t / r["tokens_per_s"] for t, r in zip(tokens, lines))
    return {
        "loop": summary["tokens_per_s"],
        "loop_cpu": summary["tokens"] / summary["loop_cpu_s"],
        "steady": sum(tokens) / seconds if seconds else None,
        "end_to_end": summary["tokens"] / wall,
        "parameters": summary["parameters"],
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--eval-windows", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, help="an existing shards directory (default: build one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    work = Path(tempfile.mkdtemp(prefix="train-bench-"))
    try:
        data = args.data or build_shards(work / "shards")
        bare, runs = [], []
        for r in range(args.rounds):
            bare.append(bare_loop(data, args))
            runs.append(train_run(data, work / f"model-{r}", args))
            print(
                f"round {r}: bare wall {bare[-1]['wall']:.0f} tok/s, cpu {bare[-1]['cpu']:.0f}; train "
                + ", ".join(f"{k} {v or 0:.0f}" for k, v in runs[-1].items() if k != "parameters"),
                flush=True,
            )

        def best(key: str, rows: list[dict]) -> float:
            return max(row[key] or 0 for row in rows)

        def paired(train_key: str, bare_key: str) -> float:
            """Median over rounds of train / bare measured back to back: robust to load that comes and goes."""
            return round(statistics.median((r[train_key] or 0) / b[bare_key] for r, b in zip(runs, bare)), 3)

        result = {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__}, {args.threads} thread(s)",
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "settings": {**vars(args), "data": str(data)},
            "parameters": runs[0]["parameters"],
            "bare_wall_tokens_per_s": [round(b["wall"], 1) for b in bare],
            "bare_cpu_tokens_per_s": [round(b["cpu"], 1) for b in bare],
            **{
                f"train_{key}_tokens_per_s": [round(r[key] or 0, 1) for r in runs]
                for key in ("loop", "loop_cpu", "steady", "end_to_end")
            },
            "ratio_cpu_loop": round(best("loop_cpu", runs) / best("cpu", bare), 3),
            "ratio_cpu_loop_paired_median": paired("loop_cpu", "cpu"),
            "ratio_wall_loop_paired_median": paired("loop", "wall"),
            "ratio_wall_steady_paired_median": paired("steady", "wall"),
            "ratio_wall_steady": round(best("steady", runs) / best("wall", bare), 3),
            "ratio_wall_loop": round(best("loop", runs) / best("wall", bare), 3),
            "ratio_wall_end_to_end": round(best("end_to_end", runs) / best("wall", bare), 3),
        }
        print(json.dumps(result, indent=2, default=str))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
