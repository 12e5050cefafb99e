"""The training tests' nano run, imported by name (a conftest is not a module to import from: which
``conftest`` the name finds depends on which test directories pytest was given)."""

from __future__ import annotations

from pathlib import Path


def nano_config(data: Path, out: Path, **overrides):
    """A nano run that takes seconds on CPU: block 32, batch 4, no progress bar."""
    from modelraising.train import TrainConfig

    values = {
        "data": data,
        "out": out,
        "preset": "nano",
        "block_size": 32,
        "batch_size": 4,
        "tokens": 40 * 4 * 32,
        "lr": 3e-3,
        "warmup": 4,
        "eval_every": 10,
        "eval_windows": 16,
        "checkpoint_every": 0,
        "log_every": 1,
        "progress": False,
        "seed": 0,
        "device": "cpu",
    }
    values.update(overrides)
    return TrainConfig(**values)
