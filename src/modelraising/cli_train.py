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

from modelraising.cli_common import check_paths, claim_out, config_options, standalone_app
from modelraising.cli_common import fail as _fail
from modelraising.cli_common import quiet as _quiet
from modelraising.train.config import TrainConfig

log = logging.getLogger("modelraising")


@config_options(
    TrainConfig,
    [
        "data",
        "out",
        "tokens",
        "preset",
        "batch_size",
        "block_size",
        "grad_accum",
        "lr",
        "min_lr_ratio",
        "warmup",
        "weight_decay",
        "grad_clip",
        "seed",
        "order",
        "device",
        "eval_every",
        "eval_windows",
        "checkpoint_every",
        "keep_checkpoints",
        "log_every",
        "resume",
        "overwrite",
        "compile",
        "tensorboard",
        "stop_after",
        "record_windows",
    ],
)
def train(
    overrides: dict,
    model_config: Annotated[
        Optional[Path], typer.Option(help="YAML/JSON of LlamaConfig arguments; replaces --preset.")
    ] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML of any TrainConfig field; flags override it.")] = None,
) -> None:
    """Pretrain the student model from scratch on the shards, reading them in curriculum order."""
    from modelraising.config import ConfigError, load_yaml_config
    from modelraising.train import ModelConfigError, ShardError, TrainError, train_model
    from modelraising.train.checkpoint import CheckpointError

    overrides = {**overrides, "model": model_config, "progress": False if _quiet() else None}
    try:
        run_config = load_yaml_config(config, TrainConfig, overrides)
    except ConfigError as exc:
        _fail(f"{exc.source}: invalid configuration", exc.problems)
    from modelraising.outdir import check_input_dir, check_input_file

    check_paths(
        lambda: check_input_dir(run_config.data, "--data"),
        lambda: check_input_file(run_config.data / "index.json", "--data"),
        lambda: isinstance(run_config.model, Path) and check_input_file(run_config.model, "--model-config"),
    )
    if os.environ.get("RANK", "0") == "0":  # one lock per run: rank 0 holds it for all of torchrun's processes
        claim_out(run_config.out)
    try:
        result = train_model(run_config)
    except (TrainError, ShardError, ModelConfigError, CheckpointError) as exc:
        _fail(str(exc))
    main_rank = os.environ.get("RANK", "0") == "0"
    if result["status"] == "stopped":
        if main_rank:
            typer.echo(
                f"stopped at step {result['step']}/{result['steps']}; checkpoint {result['checkpoint']}", err=True
            )
        if result["signal"] != "stop_after":
            raise typer.Exit(128 + signal.Signals[result["signal"]].value)
        return
    if not _quiet() and main_rank:
        val = result["final_val_loss"]
        typer.echo(
            f"trained {result['tokens']:,} tokens in {result['steps']} steps "
            f"({result['parameters']:,} parameters); final val loss "
            f"{'n/a' if val is None else f'{val:.4f}'}; model in {run_config.out}"
        )


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
