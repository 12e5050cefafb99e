"""``modelraising align``: the post-hoc alignment baselines, registered onto the main app by ``register(app)``.

    modelraising align sft --model DIR --out DIR2 [--charter PATH] [--data USER.jsonl] [--steps N | --epochs E]
    modelraising align dpo --model DIR --out DIR2 [--charter PATH] [--data USER.jsonl] [--beta 0.1]
    modelraising align prompt [--charter PATH] [--style statements|full|compact]
    modelraising align data --method sft|dpo --out FILE.jsonl [--charter PATH]

Also runnable alone: ``python -m modelraising.cli_align sft ...``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modelraising.align.dpo import DPOAlignConfig
from modelraising.align.run import AlignConfig
from modelraising.align.sft import SFTAlignConfig
from modelraising.cli_common import check_paths, claim_out, config_options, standalone_app
from modelraising.cli_common import fail as _fail
from modelraising.cli_common import quiet as _quiet

log = logging.getLogger("modelraising")

align_app = typer.Typer(
    help="Post-hoc alignment baselines: SFT and DPO on the charter, the charter as a system prompt.",
    no_args_is_help=True,
    add_completion=False,
)


CharterOpt = Annotated[Optional[Path], typer.Option(help="Charter YAML (default: the shipped one).")]
ConfigOpt = Annotated[Optional[Path], typer.Option(help="YAML of any config field; flags override it.")]
# Each method's options are its config's fields (type, help and default defined once, in align/).
COMMON = [
    "model",
    "out",
    "charter",
    "data",
    "steps",
    "epochs",
    "lr",
    "batch_size",
    "grad_accum",
    "seed",
    "max_length",
    "warmup_steps",
    "scheduler",
    "weight_decay",
    "device",
    "user_name",
    "overwrite",
]


def _method(method: str) -> tuple[type[AlignConfig], Callable[[Any], dict]]:
    """The config model of ``align sft`` or ``align dpo`` and the function that runs it (on that config)."""
    if method == "sft":
        from modelraising.align.sft import align_sft

        return SFTAlignConfig, align_sft
    from modelraising.align.dpo import align_dpo

    return DPOAlignConfig, align_dpo


def _run(method: str, config: Optional[Path], overrides: dict) -> None:
    from modelraising.align.data import AlignDataError
    from modelraising.align.run import AlignError
    from modelraising.charter import CharterError
    from modelraising.config import ConfigError, load_yaml_config

    Config, align = _method(method)
    overrides = {**overrides, "progress": False if _quiet() else None}
    try:
        cfg = load_yaml_config(config, Config, overrides)
    except ConfigError as exc:
        _fail(f"{exc.source}: invalid configuration", exc.problems)
    from modelraising.outdir import check_input_dir, check_input_file

    check_paths(
        lambda: check_input_dir(cfg.model, "--model"),
        lambda: cfg.data and check_input_file(cfg.data, "--data"),
        lambda: cfg.charter and check_input_file(cfg.charter, "--charter"),
    )
    claim_out(cfg.out, beside=True)
    try:
        record = align(cfg)
    except CharterError as exc:
        _fail(f"{exc.path}: invalid charter", exc.problems)
    except (AlignError, AlignDataError) as exc:
        _fail(str(exc))
    if not _quiet():
        loss = record["final_loss"]
        typer.echo(
            f"align {method}: {record['examples']} examples, {record['steps']} steps, "
            f"{record['tokens_seen']:,} tokens seen, final loss {'n/a' if loss is None else f'{loss:.4f}'}; "
            f"model in {cfg.out}"
        )


@config_options(SFTAlignConfig, COMMON)
def sft(
    overrides: dict,
    config: ConfigOpt = None,
    all_tokens: Annotated[
        bool, typer.Option("--all-tokens", help="Train on every token, not only the assistant's.")
    ] = False,
) -> None:
    """Supervised fine-tuning (TRL SFTTrainer) on value demonstrations from the charter or --data."""
    _run("sft", config, {**overrides, "assistant_only_loss": False if all_tokens else None})


@config_options(DPOAlignConfig, [*COMMON, "beta", "loss_type"])
def dpo(overrides: dict, config: ConfigOpt = None) -> None:
    """Direct preference optimisation (TRL DPOTrainer) on do-vs-dont pairs from the charter or --data."""
    _run("dpo", config, overrides)


def _charter(path: Optional[Path]):
    from modelraising.charter import CharterError, default_charter_path, load_charter

    try:
        return load_charter(path or default_charter_path())
    except CharterError as exc:
        _fail(f"{exc.path}: invalid charter", exc.problems)


def prompt(
    charter: CharterOpt = None,
    style: Annotated[str, typer.Option(help="statements, full or compact.")] = "statements",
) -> None:
    """Print the system-prompt baseline: the charter as a first-person preamble."""
    from modelraising.align.prompt import system_prompt

    try:
        typer.echo(system_prompt(_charter(charter), style))  # type: ignore[arg-type]
    except ValueError as exc:
        _fail(str(exc))


def data(
    method: Annotated[str, typer.Option(help="sft (demonstrations) or dpo (preference pairs).")],
    out: Annotated[Path, typer.Option(help="JSONL file to write (the --data format; edit and feed it back).")],
    charter: CharterOpt = None,
) -> None:
    """Write the charter-derived training examples as JSONL."""
    from modelraising.align.data import as_user_records, dpo_pairs, sft_demonstrations
    from modelraising.io import atomic_write_jsonl

    if method not in ("sft", "dpo"):
        _fail(f"--method must be sft or dpo, got {method!r}")
    from modelraising.outdir import check_output_file

    check_paths(lambda: check_output_file(out))
    c = _charter(charter)
    examples = sft_demonstrations(c) if method == "sft" else dpo_pairs(c)
    n = atomic_write_jsonl(out, as_user_records(examples, method))
    if not _quiet():
        typer.echo(f"wrote {n} {method} examples to {out}")


def register(app: typer.Typer) -> None:
    """Add the ``align`` group (sft, dpo, prompt, data) to the ``modelraising`` app."""
    align_app.command("sft")(sft)
    align_app.command("dpo")(dpo)
    align_app.command("prompt")(prompt)
    align_app.command("data")(data)
    app.add_typer(align_app, name="align")


def _register_flat(app: typer.Typer) -> None:
    for name, fn in (("sft", sft), ("dpo", dpo), ("prompt", prompt), ("data", data)):
        app.command(name)(fn)


if __name__ == "__main__":
    standalone_app(_register_flat)()
