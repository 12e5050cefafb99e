"""A training run's files: the output directory, metrics.jsonl (cut back on resume), loss.png, the final model."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from modelraising.io import atomic_write_text, read_jsonl
from modelraising.train.checkpoint import (
    clear_stale,
)
from modelraising.train.config import TrainConfig, TrainError
from modelraising.train.data import Shards

log = logging.getLogger(__name__)
RUN_FILES = ("metrics.jsonl", "train.json", "loss.png")


def prepare_out(config: TrainConfig) -> None:
    """Refuse to mix two runs in one directory unless told to resume or overwrite."""
    out = config.out
    taken = (
        (out / "checkpoints").is_dir()
        or any((out / f).exists() for f in RUN_FILES)
        or any(out.glob("windows-rank*.jsonl"))
    )
    if taken and not config.resume:
        if not config.overwrite:
            raise TrainError(
                f"{out} already holds a training run; use --resume to continue it, "
                "--overwrite to discard it, or another --out"
            )
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        for path in out.glob("windows-rank*.jsonl"):
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    clear_stale(out)
    for tmp in out.glob(".final-*"):  # a final save that was killed
        shutil.rmtree(tmp, ignore_errors=True)


def truncate_jsonl(path: Path, step: int) -> None:
    """Drop lines logged after ``step`` (a run killed after its last checkpoint logged them)."""
    if path.exists():
        kept = [json.dumps(r) + "\n" for r in read_jsonl(path) if r["step"] <= step]
        atomic_write_text(path, "".join(kept))


class Metrics:
    """metrics.jsonl (one line per log step) and, if installed and asked for, TensorBoard."""

    def __init__(self, out: Path, tensorboard: bool, enabled: bool):
        self.enabled = enabled
        self.file = open(out / "metrics.jsonl", "a", encoding="utf-8") if enabled else None
        self.writer = None
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(out / "tensorboard"))
            except ImportError:
                log.warning("--tensorboard: the tensorboard package is not installed; logging to metrics.jsonl only")

    def write(self, record: dict) -> None:
        if self.file is None:  # not enabled
            return
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key not in ("step",):
                    self.writer.add_scalar(key, value, record["step"])

    def close(self) -> None:
        if self.file:
            self.file.close()
        if self.writer is not None:
            self.writer.close()


def plot_loss(out: Path, transitions: list[dict]) -> None:
    """loss.png: train and validation loss against tokens, a labelled vertical line per stage change."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = list(read_jsonl(out / "metrics.jsonl"))
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot([r["tokens"] for r in records], [r["loss"] for r in records], label="train loss", lw=1.2)
    val = [r for r in records if r.get("val_loss") is not None]
    if val:
        ax.plot([r["tokens"] for r in val], [r["val_loss"] for r in val], "o-", label="val loss", ms=4)
    for i, t in enumerate(transitions):
        ax.axvline(t["tokens"], color="grey", ls="--", lw=0.8)
        ax.text(
            t["tokens"],
            0.98 - 0.06 * (i % 3),
            f" {t['stage']}",
            transform=ax.get_xaxis_transform(),
            rotation=0,
            va="top",
            fontsize=8,
            color="dimgrey",
        )
    ax.set_xlabel("tokens")
    ax.set_ylabel("loss (nats/token)")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with tempfile.NamedTemporaryFile(dir=out, prefix=".loss.", suffix=".png", delete=False) as tmp:
        fig.savefig(tmp.name, dpi=120)
    plt.close(fig)
    os.replace(tmp.name, out / "loss.png")


def save_final(model, shards: Shards, out: Path) -> None:
    """save_pretrained (safetensors) plus the shards' tokenizer, staged in a temp dir and moved in."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    staging = Path(tempfile.mkdtemp(dir=out, prefix=".final-"))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one-file "Writing model shards" bar: noise after the training bar
    try:
        model.save_pretrained(staging)
        AutoTokenizer.from_pretrained(shards.path).save_pretrained(staging)
        for path in staging.iterdir():
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if bars:
            hf_logging.enable_progress_bar()
