"""``TrainConfig``: everything a training run depends on, validated once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelraising.train.model import PRESETS

# Fields that change neither the result nor the data order: a resumed run may change them.
RUNTIME_FIELDS = {"resume", "overwrite", "progress", "stop_after", "eval_every", "checkpoint_every",
                  "keep_checkpoints", "log_every", "tensorboard", "compile", "device", "record_windows",
                  "eval_windows"}


class TrainError(Exception):
    """A run that cannot start (budget below one step, output directory of another run, ...)."""


class TrainConfig(BaseModel):
    """How a student model is pretrained on a shards directory."""

    model_config = ConfigDict(extra="forbid")

    data: Path = Field(description="shards directory (index.json, train-*.bin, val.bin, tokenizer)")
    out: Path = Field(description="output directory (model, metrics.jsonl, loss.png, train.json, checkpoints/)")
    tokens: int = Field(ge=1, description="token budget; steps = tokens // (batch_size*block_size*grad_accum*world)")
    preset: str = "tiny"
    model: Path | dict[str, Any] | None = Field(
        default=None, description="explicit LlamaConfig kwargs (dict, or a YAML/JSON file); replaces the preset")
    batch_size: int = Field(default=16, ge=1, description="windows per micro-batch per process")
    block_size: int = Field(default=256, ge=2)
    grad_accum: int = Field(default=1, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1, description="final lr of the cosine, as a fraction of lr")
    warmup: int | None = Field(default=None, ge=0, description="warmup steps (default: 5% of the steps)")
    weight_decay: float = Field(default=0.1, ge=0)
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = Field(default=1.0, ge=0, description="max gradient norm (0: off)")
    seed: int = 0
    order: Literal["file", "shuffle"] = "file"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compile: bool = False
    eval_every: int = Field(default=200, ge=0, description="steps between validation passes (0: only at the end)")
    eval_windows: int = Field(default=256, ge=1, description="validation windows per pass (the first N of val.bin)")
    checkpoint_every: int = Field(default=1000, ge=0, description="steps between checkpoints (0: only at the end)")
    keep_checkpoints: int = Field(default=2, ge=1)
    log_every: int = Field(default=10, ge=1, description="steps per metrics.jsonl line")
    tensorboard: bool = False
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    stop_after: int | None = Field(default=None, ge=1, description=(
        "checkpoint and stop after this step (splits a run; the schedule still spans the whole budget)"))
    record_windows: bool = Field(default=False, description="write windows.jsonl: each step's window indices")

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
