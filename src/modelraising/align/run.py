"""What SFT and DPO share: the config, loading the base model, the output directory, ``align.json``.

A run reads a base model directory and writes a new one::

    DIR2/model.safetensors, config.json, generation_config.json   save_pretrained
    DIR2/tokenizer.json, tokenizer_config.json, chat_template.jinja   the base tokenizer + chat template
    DIR2/align.json        method, base model, examples, epochs, steps, tokens_seen, config, final loss
    DIR2/metrics.jsonl     one line per optimizer step (loss, learning rate, tokens seen, ...)
    DIR2/train_data.jsonl  the examples trained on (charter-derived or the user's file)

Everything is written into ``.DIR2.partial`` beside ``DIR2`` and renamed into place at the end, so a
directory with an ``align.json`` is always complete. ``tokens_seen`` counts the non-padding tokens of
every training forward pass (prompt tokens included, every epoch again): what the experiment runner
subtracts from the arm's pretraining budget.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm import tqdm

import modelraising
from modelraising.charter import Charter, default_charter_path, load_charter
from modelraising.io import atomic_write_json, atomic_write_jsonl, sha256_file, sha256_json
from modelraising.outdir import exclusive_out

log = logging.getLogger(__name__)
FORMAT = "modelraising-align/1"
# Files that define a model for the base-model hash (logs and checkpoints beside them do not count).
_MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
)


class AlignError(Exception):
    """A run that cannot start or finish (missing model, occupied output directory, ...)."""

    keep_staging: bool = False  # True: the finished staging directory is left in place, not removed


class AlignConfig(BaseModel):
    """Options shared by ``align sft`` and ``align dpo`` (one field per CLI flag)."""

    model_config = ConfigDict(extra="forbid")
    default_epochs: ClassVar[float] = 1.0

    model: Path = Field(description="Base model directory (save_pretrained layout, with its tokenizer).")
    out: Path = Field(description="Output model directory (model, tokenizer + chat template, align.json).")
    charter: Path | None = Field(
        None, description="Charter YAML (default: the shipped one); also names the I in the chat template."
    )
    data: Path | None = Field(None, description="User JSONL instead of the charter-derived examples.")
    steps: int | None = Field(None, ge=1, description="Optimizer steps (exclusive with epochs).")
    epochs: float | None = Field(None, gt=0, description="Passes over the examples (default per method).")
    lr: float = Field(1e-4, gt=0, description="Peak learning rate (AdamW).")
    batch_size: int = Field(8, ge=1, description="Examples per micro-batch (DPO: pairs).")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimizer step.")
    scheduler: Literal["linear", "cosine", "constant"] = Field(
        "linear", description="Learning-rate schedule after warmup."
    )
    warmup_steps: int = Field(0, ge=0, description="Linear warmup steps.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_length: int = Field(512, ge=8, description="Tokens per sequence at most (longer ones are cut at the end).")
    seed: int = Field(0, description="Seed for the data order and dropout: same seed, same model (on CPU).")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="cpu, cuda or auto.")
    user_name: str = Field("User", min_length=1, description="Speaker name of user turns in the chat template.")
    overwrite: bool = Field(False, description="Replace an existing output directory.")
    progress: bool = Field(True, description="Show a progress bar.")

    @model_validator(mode="after")
    def _steps_or_epochs(self) -> "AlignConfig":
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        return self

    def resolved_epochs(self) -> float:
        return self.epochs if self.epochs is not None else self.default_epochs


# ------------------------------------------------------------------------------------------- inputs


def charter_of(cfg: AlignConfig) -> tuple[Charter, Path]:
    path = cfg.charter or default_charter_path()
    return load_charter(path), Path(path)


def check_paths(cfg: AlignConfig) -> None:
    """Fail before any work: no base model, or an output directory that holds something else."""
    if not (cfg.model / "config.json").is_file():
        raise AlignError(f"{cfg.model}: no config.json (expected a model directory written by save_pretrained)")
    if cfg.out.resolve() == cfg.model.resolve():
        raise AlignError(f"--out {cfg.out} is the base model directory; give a new directory")
    if cfg.out.exists() and (not cfg.out.is_dir() or any(cfg.out.iterdir())) and not cfg.overwrite:
        raise AlignError(f"{cfg.out} already exists and is not empty; use a new --out or --overwrite")


def model_hash(path: Path) -> str:
    """Hash of the weights, config and tokenizer files: which base model this run started from."""
    files = sorted(p for p in path.iterdir() if p.is_file() and (p.name in _MODEL_FILES or p.suffix == ".safetensors"))
    return sha256_json({p.name: sha256_file(p) for p in files})[:16]


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise AlignError("--device cuda: no CUDA device available")
    return device


def load_base(cfg: AlignConfig, charter: Charter):
    """The base model (float32) and its tokenizer with the chat template attached; speaker tags the
    tokenizer lacks are added and the embeddings grown to match."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelraising.align.chat import attach_chat_template

    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    if not getattr(tokenizer, "is_fast", False):
        raise AlignError(f"{cfg.model}: the tokenizer is not a fast tokenizer (the assistant mask needs offsets)")
    added = attach_chat_template(tokenizer, charter.identity.name, cfg.user_name)
    with no_hf_bars():
        model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32)
    # transformers types the embedding's weight as Tensor | Module: it is an nn.Embedding's Tensor
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:  # type: ignore[index]
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer, added


# ----------------------------------------------------------------------------------------- training


def window(cfg: AlignConfig, model) -> int:
    """``max_length``, but no longer than the model's position table: longer sequences would fail or
    run on positions the model never saw."""
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and cfg.max_length > limit:
        log.warning("max_length %d is longer than the model's window; using %d", cfg.max_length, limit)
        return int(limit)
    return cfg.max_length


def trainer_args(cfg: AlignConfig, output_dir: Path, device: str, max_length: int) -> dict[str, Any]:
    """TrainingArguments shared by SFTConfig and DPOConfig: log every step, save nothing, count tokens."""
    import torch

    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    args = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        data_seed=cfg.seed,
        max_length=max_length,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=device == "cpu",
        bf16=bf16,
        fp16=False,
        activation_checkpointing=False,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    if cfg.steps is not None:
        args["max_steps"] = cfg.steps
    else:
        args["num_train_epochs"] = cfg.resolved_epochs()
    return args


def progress_callback(desc: str, enabled: bool):
    """A tqdm bar over optimizer steps (transformers' own printer is removed: it prints raw dicts)."""
    from transformers import TrainerCallback

    class AlignProgress(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(total=state.max_steps, desc=desc, unit="step", disable=not enabled, dynamic_ncols=True)

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

        def on_train_end(self, args, state, control, **kwargs):
            self.bar.close()

    return AlignProgress()


def quiet_trainer(trainer, desc: str, enabled: bool) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(progress_callback(desc, enabled))


class _DropMessage(logging.Filter):
    """Drops records containing ``text`` (accelerate prefixes TRL's messages with the rank)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in str(record.getMessage())


@contextlib.contextmanager
def training_context() -> Iterator[None]:
    """Quiet the libraries for the length of one run and restore them after.

    - TRL checks that the *last* masked token of an assistant turn followed by another turn is an
      end-of-turn token. Our template ends such a turn with a newline (trained) and only the
      conversation with ``<|endoftext|>`` (trained too), so the warning is a false alarm here.
    - ``datasets`` shows a progress bar per preprocessing pass; deprecation FutureWarnings come from
      TRL's own calls into transformers. Neither is actionable by the user.
    """
    import datasets

    stop_warning = _DropMessage("The chat template does not include the assistant turn's end-of-turn token")
    loggers = [logging.getLogger("trl.trainer.sft_trainer"), logging.getLogger("trl.trainer.dpo_trainer")]
    for lg in loggers:
        lg.addFilter(stop_warning)
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        if bars:
            datasets.enable_progress_bars()
        for lg in loggers:
            lg.removeFilter(stop_warning)


def step_metrics(log_history: list[dict]) -> list[dict]:
    """One record per optimizer step from the trainer's log history (the summary entry left out)."""
    rows = []
    for entry in log_history:
        if "loss" not in entry:
            continue
        row = {
            "step": entry["step"],
            "epoch": round(float(entry.get("epoch", 0.0)), 6),
            "tokens_seen": int(entry.get("num_input_tokens_seen", 0)),
        }
        row.update(
            {
                k: float(v)
                for k, v in entry.items()
                if k not in row
                and k not in ("num_input_tokens_seen", "train_runtime", "train_tokens_per_second")
                and isinstance(v, (int, float))
            }
        )
        rows.append(row)
    return rows


@exclusive_out(lambda arguments: arguments["cfg"].out, beside=True)  # the finished run replaces the directory
def run_alignment(
    cfg: AlignConfig,
    method: str,
    load_examples: Callable[[Charter], list[dict]],
    make_trainer: Callable[..., Any],
    extras: Callable[[Any, list[dict]], dict] | None = None,
) -> dict:
    """The run both methods share: check, load, train (TRL), save into a staging directory, publish.

    ``make_trainer(model, tokenizer, examples, args)`` builds the TRL trainer from the shared
    ``trainer_args``; ``extras(trainer, metrics)`` adds method-specific fields to ``align.json``.
    """
    started = time.time()
    charter, charter_path = charter_of(cfg)
    check_paths(cfg)
    examples = load_examples(charter)
    device = resolve_device(cfg.device)
    model, tokenizer, added = load_base(cfg, charter)
    max_length = window(cfg, model)
    staging = staging_dir(cfg.out)
    try:
        with training_context():
            args = trainer_args(cfg, staging / ".trainer", device, max_length)
            trainer = make_trainer(model, tokenizer, examples, args)
            quiet_trainer(trainer, f"align {method}", cfg.progress)
            log.info(
                "align %s: %d examples, %s from %s",
                method,
                len(examples),
                f"{cfg.steps} steps" if cfg.steps else f"{cfg.resolved_epochs():g} epochs",
                cfg.model,
            )
            trainer.train()
        shutil.rmtree(staging / ".trainer", ignore_errors=True)
        metrics = step_metrics(trainer.state.log_history)
        record = summary(cfg, method, charter, charter_path, examples, trainer, metrics, added, started)
        record.update(examples_trained=len(trainer.train_dataset), max_length=max_length, device=device)
        if extras:
            record.update(extras(trainer, metrics))
        save_model(trainer.model, tokenizer, staging)
        record["elapsed_s"] = round(time.time() - started, 3)
        write_outputs(staging, record, metrics, examples)
        publish(staging, cfg.out, cfg.overwrite)
    except BaseException as exc:
        if not getattr(exc, "keep_staging", False):
            shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "align %s: %d steps, %d tokens seen, final loss %s; model in %s",
        method,
        record["steps"],
        record["tokens_seen"],
        record["final_loss"],
        cfg.out,
    )
    return record


# -------------------------------------------------------------------------------------------- output


def staging_dir(out: Path) -> Path:
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


@contextlib.contextmanager
def no_hf_bars() -> Iterator[None]:
    """transformers' one-file "Loading weights"/"Writing model shards" bars: noise beside the step bar."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def save_model(model, tokenizer, staging: Path) -> None:
    """save_pretrained (safetensors) of the trained weights and the tokenizer with its chat template."""
    with no_hf_bars():
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)


def publish(staging: Path, out: Path, overwrite: bool) -> None:
    """Move the finished directory into place (replacing ``out`` only with ``overwrite``)."""
    if out.exists():
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        elif overwrite:
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        else:
            error = AlignError(f"{out} appeared while training; the result is left in {staging}")
            error.keep_staging = True
            raise error
    os.replace(staging, out)


def versions() -> dict[str, str]:
    import datasets
    import torch
    import transformers
    import trl

    return {
        "modelraising": modelraising.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
        "datasets": datasets.__version__,
    }


def summary(
    cfg: AlignConfig,
    method: str,
    charter: Charter,
    charter_path: Path,
    examples: list[dict],
    trainer,
    metrics: list[dict],
    added: list[str],
    started: float,
) -> dict[str, Any]:
    """The ``align.json`` record (also what ``align_sft``/``align_dpo`` return)."""
    state = trainer.state
    last = metrics[-1] if metrics else {}
    data = (
        {"source": "file", "path": str(cfg.data), "sha256": sha256_file(cfg.data)}
        if cfg.data
        else {"source": "charter"}
    )
    return {
        "format": FORMAT,
        "method": method,
        "base_model": {"path": str(cfg.model), "sha256": model_hash(cfg.model)},
        "charter": {"path": str(charter_path), "hash": charter.hash, "name": charter.identity.name},
        "data": data,
        "examples": len(examples),
        "epochs": round(float(state.epoch or 0.0), 6),
        "steps": int(state.global_step),
        "tokens_seen": int(state.num_input_tokens_seen),
        "final_loss": last.get("loss"),
        "mean_loss": (sum(m["loss"] for m in metrics) / len(metrics)) if metrics else None,
        "config": cfg.model_dump(mode="json"),
        "added_tokens": added,
        "elapsed_s": round(time.time() - started, 3),
        "versions": versions(),
    }


def write_outputs(staging: Path, record: dict, metrics: list[dict], examples: list[dict]) -> None:
    atomic_write_jsonl(staging / "metrics.jsonl", metrics)
    atomic_write_jsonl(staging / "train_data.jsonl", examples)
    atomic_write_json(staging / "align.json", record)  # last: its presence marks a complete directory


def read_align_json(path: str | Path) -> dict:
    """``align.json`` of an aligned model directory (for the experiment runner)."""
    return json.loads((Path(path) / "align.json").read_text(encoding="utf-8"))
