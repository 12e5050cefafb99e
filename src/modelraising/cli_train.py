"""``modelraising train`` and ``modelraising generate``, registered onto the main app by ``register(app)``.

Also runnable alone (``python -m modelraising.cli_train train ...``), e.g. under
``torchrun --nproc-per-node 2 -m modelraising.cli_train train ...``.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from modelraising.cli_common import check_paths, claim_out
from modelraising.cli_common import fail as _fail
from modelraising.cli_common import quiet as _quiet
from modelraising.cli_common import standalone_app

log = logging.getLogger("modelraising")


def train(
    data: Annotated[Path, typer.Option(help="Shards directory (output of `modelraising tokenize`).")],
    out: Annotated[Path, typer.Option(help="Output directory: model, metrics.jsonl, loss.png, train.json, checkpoints/.")],
    tokens: Annotated[int, typer.Option(help="Token budget; steps = tokens // (batch x block x grad-accum x processes).")],
    preset: Annotated[Optional[str], typer.Option(
        help="Model size: nano (~1M), tiny (~5M), small (~25M), base (~125M) (default: tiny).")] = None,
    model_config: Annotated[Optional[Path], typer.Option(help="YAML/JSON of LlamaConfig arguments; replaces --preset.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML of any TrainConfig field; flags override it.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Windows per micro-batch per process [16].")] = None,
    block_size: Annotated[Optional[int], typer.Option(help="Tokens per window (context length) [256].")] = None,
    grad_accum: Annotated[Optional[int], typer.Option(help="Micro-batches per optimizer step [1].")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate [1e-3].")] = None,
    warmup: Annotated[Optional[int], typer.Option(help="Warmup steps [5% of the steps].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed: initial weights and --order shuffle [0].")] = None,
    order: Annotated[Optional[str], typer.Option(help="file (the curriculum) or shuffle (random windows) (default: file).")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto, cpu or cuda (default: auto).")] = None,
    eval_every: Annotated[Optional[int], typer.Option(help="Steps between validation passes [200].")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help="Steps between checkpoints [1000].")] = None,
    log_every: Annotated[Optional[int], typer.Option(help="Steps per metrics.jsonl line [10].")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the latest checkpoint in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Discard an earlier run in --out.")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model.")] = False,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Also log to --out/tensorboard (if installed).")] = False,
    stop_after: Annotated[Optional[int], typer.Option(help="Checkpoint and stop after this step (resume later).")] = None,
    record_windows: Annotated[bool, typer.Option(
        "--record-windows", help="Write windows-rank*.jsonl: the window indices each process read, per step.")] = False,
) -> None:
    """Pretrain the student model from scratch on the shards, reading them in curriculum order."""
    from modelraising.config import ConfigError, load_yaml_config
    from modelraising.train import ModelConfigError, ShardError, TrainConfig, TrainError, train_model
    from modelraising.train.checkpoint import CheckpointError

    overrides = {"data": data, "out": out, "tokens": tokens, "preset": preset, "model": model_config,
                 "batch_size": batch_size, "block_size": block_size, "grad_accum": grad_accum, "lr": lr,
                 "warmup": warmup, "seed": seed, "order": order, "device": device, "eval_every": eval_every,
                 "checkpoint_every": checkpoint_every, "log_every": log_every, "resume": resume or None,
                 "overwrite": overwrite or None, "compile": compile or None, "tensorboard": tensorboard or None,
                 "stop_after": stop_after, "record_windows": record_windows or None,
                 "progress": False if _quiet() else None}
    try:
        run_config = load_yaml_config(config, TrainConfig, overrides)
    except ConfigError as exc:
        _fail(f"{exc.source}: invalid configuration", exc.problems)
    from modelraising.outdir import check_input_dir, check_input_file

    check_paths(lambda: check_input_dir(run_config.data, "--data"),
                lambda: check_input_file(run_config.data / "index.json", "--data"),
                lambda: run_config.model and check_input_file(run_config.model, "--model-config"))
    if os.environ.get("RANK", "0") == "0":  # one lock per run: rank 0 holds it for all of torchrun's processes
        claim_out(run_config.out)
    try:
        result = train_model(run_config)
    except (TrainError, ShardError, ModelConfigError, CheckpointError) as exc:
        _fail(str(exc))
    main_rank = os.environ.get("RANK", "0") == "0"
    if result["status"] == "stopped":
        if main_rank:
            typer.echo(f"stopped at step {result['step']}/{result['steps']}; checkpoint {result['checkpoint']}",
                       err=True)
        if result["signal"] != "stop_after":
            raise typer.Exit(128 + signal.Signals[result["signal"]].value)
        return
    if not _quiet() and main_rank:
        val = result["final_val_loss"]
        typer.echo(f"trained {result['tokens']:,} tokens in {result['steps']} steps "
                   f"({result['parameters']:,} parameters); final val loss "
                   f"{'n/a' if val is None else f'{val:.4f}'}; model in {out}")


def generate(
    model: Annotated[Path, typer.Option(help="A trained model directory (output of `modelraising train`).")],
    prompt: Annotated[str, typer.Option(help="Text to continue.")],
    max_new_tokens: Annotated[int, typer.Option(help="Tokens to sample.")] = 100,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0: greedy).")] = 0.8,
    top_k: Annotated[int, typer.Option(help="Sample from the k most likely tokens (0: all).")] = 50,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
) -> None:
    """Sample a continuation of --prompt from a trained model; prints prompt + continuation."""
    from transformers.utils import logging as hf_logging

    from modelraising.train.generate import generate_text

    hf_logging.disable_progress_bar()  # stdout carries the text only
    from modelraising.outdir import check_input_dir

    check_paths(lambda: check_input_dir(model, "--model"))
    if not (model / "config.json").is_file():
        _fail(f"{model}: no config.json (is it the --out of `modelraising train`?)")
    text = generate_text(model, prompt, max_new_tokens, temperature, top_k or None, seed, device)
    typer.echo(prompt + text)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``generate`` to the ``modelraising`` app."""
    app.command("train")(train)
    app.command("generate")(generate)


if __name__ == "__main__":
    standalone_app(register)()
