"""Pretraining the student model from scratch on tokenized shards, in curriculum order.

``train_model(TrainConfig(...))`` is the whole step (the CLI's ``modelraising train`` calls it);
``generate_text`` samples from the directory it writes.
"""

from modelraising.train.config import TrainConfig, TrainError
from modelraising.train.data import ShardError, open_shards
from modelraising.train.generate import generate_text
from modelraising.train.loop import train_model
from modelraising.train.model import PRESETS, ModelConfigError, preset_parameter_counts

__all__ = ["PRESETS", "ModelConfigError", "ShardError", "TrainConfig", "TrainError", "generate_text",
           "open_shards", "preset_parameter_counts", "train_model"]
