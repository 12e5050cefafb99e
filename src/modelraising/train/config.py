"""``TrainConfig``: everything a training run depends on, validated once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelraising.train.model import PRESETS

# Fields that change neither the result nor the data order: a resumed run may change them.
RUNTIME_FIELDS = {
    "resume",
    "overwrite",
    "progress",
    "stop_after",
    "eval_every",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
    "tensorboard",
    "compile",
    "device",
    "record_windows",
    "eval_windows",
}


class TrainError(Exception):
    """A run that cannot start (budget below one step, output directory of another run, ...)."""


class TrainConfig(BaseModel):
    """How a student model is pretrained on a shards directory."""

    model_config = ConfigDict(extra="forbid")

    data: Path = Field(description="Shards directory (output of `modelraising tokenize`).")
    out: Path = Field(description="Output directory: model, metrics.jsonl, loss.png, train.json, checkpoints/.")
    tokens: int = Field(ge=1, description="Token budget; steps = tokens // (batch x block x grad-accum x processes).")
    preset: str = Field(default="tiny", description="Model size: nano (~1M), tiny (~5M), small (~25M), base (~125M).")
    model: Path | dict[str, Any] | None = Field(
        default=None, description="Explicit LlamaConfig arguments (a dict, or a YAML/JSON file); replaces the preset."
    )
    batch_size: int = Field(default=16, ge=1, description="Windows per micro-batch per process.")
    block_size: int = Field(default=256, ge=2, description="Tokens per window (context length).")
    grad_accum: int = Field(default=1, ge=1, description="Micro-batches per optimizer step.")
    lr: float = Field(default=1e-3, gt=0, description="Peak learning rate.")
    min_lr_ratio: float = Field(
        default=0.1, ge=0, le=1, description="Final learning rate of the cosine, as a fraction of --lr."
    )
    warmup: int | None = Field(default=None, ge=0, description="Warmup steps (default: 5% of the steps).")
    weight_decay: float = Field(default=0.1, ge=0, description="AdamW weight decay.")
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = Field(default=1.0, ge=0, description="Largest gradient norm (0: no clipping).")
    seed: int = Field(default=0, description="Seed: initial weights and --order shuffle.")
    order: Literal["file", "shuffle"] = Field(
        default="file", description=("file (the curriculum) or shuffle (random windows).")
    )
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="auto, cpu or cuda.")
    compile: bool = Field(default=False, description="torch.compile the model.")
    eval_every: int = Field(default=200, ge=0, description="Steps between validation passes (0: only at the end).")
    eval_windows: int = Field(default=256, ge=1, description="Validation windows per pass (the first N of val.bin).")
    checkpoint_every: int = Field(default=1000, ge=0, description="Steps between checkpoints (0: only at the end).")
    keep_checkpoints: int = Field(default=2, ge=1, description="Checkpoints kept (the newest).")
    log_every: int = Field(default=10, ge=1, description="Steps per metrics.jsonl line.")
    tensorboard: bool = Field(default=False, description="Also log to --out/tensorboard (if installed).")
    resume: bool = Field(default=False, description="Continue from the latest checkpoint in --out.")
    overwrite: bool = Field(default=False, description="Discard an earlier run in --out.")
    progress: bool = True
    stop_after: int | None = Field(
        default=None,
        ge=1,
        description=("Checkpoint and stop after this step (resume later; the schedule still spans the whole budget)."),
    )
    record_windows: bool = Field(
        default=False, description=("Write windows-rank*.jsonl: the window indices each process read, per step.")
    )

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        if self.model is None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; valid: {', '.join(PRESETS)}")
        if self.resume and self.overwrite:
            raise ValueError("--resume and --overwrite exclude each other")
        return self

    def run_identity(self) -> dict[str, Any]:
        """The fields a checkpoint must share with the run that resumes it."""
        return self.model_dump(mode="json", exclude=RUNTIME_FIELDS | {"data", "out"})
