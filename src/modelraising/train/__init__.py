"""Pretraining the student model from scratch on tokenized shards, in curriculum order.

``train_model(TrainConfig(...))`` is the whole step (the CLI's ``modelraising train`` calls it);
``generate_text`` samples from the directory it writes. Names load on first use, so the configs (and the
CLI that derives its options from them) import without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelraising.train.config import TrainConfig, TrainError
    from modelraising.train.data import ShardError, open_shards
    from modelraising.train.generate import generate_text
    from modelraising.train.loop import train_model
    from modelraising.train.model import PRESETS, ModelConfigError, preset_parameter_counts

_WHERE = {
    "TrainConfig": "config",
    "TrainError": "config",
    "ShardError": "data",
    "open_shards": "data",
    "generate_text": "generate",
    "train_model": "loop",
    "PRESETS": "model",
    "ModelConfigError": "model",
    "preset_parameter_counts": "model",
}
__all__ = [
    "PRESETS",
    "ModelConfigError",
    "ShardError",
    "TrainConfig",
    "TrainError",
    "generate_text",
    "open_shards",
    "preset_parameter_counts",
    "train_model",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'modelraising.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f"modelraising.train.{_WHERE[name]}"), name)
