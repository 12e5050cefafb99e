"""The student model: a Llama-architecture causal LM built from a config, never downloaded.

Size presets are named by their parameter count at a vocabulary of 8,192 (embeddings included,
counted once: input and output embeddings are tied). Any explicit ``LlamaConfig`` (YAML or JSON of its
keyword arguments) can stand in for a preset; the vocabulary and the special token ids always come
from the shards, so the model and the tokenizer agree.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # torch is imported where a model is built: the CLI and the configs load without it
    import torch

log = logging.getLogger(__name__)

# hidden, layers, heads, MLP width: ~1M, ~5M, ~25M, ~125M parameters at vocab 8192 (see docs/training.md).
PRESETS: dict[str, dict[str, Any]] = {
    "nano": {"hidden_size": 64, "num_hidden_layers": 6, "num_attention_heads": 4, "intermediate_size": 256},
    "tiny": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 8, "intermediate_size": 688},
    "small": {"hidden_size": 512, "num_hidden_layers": 6, "num_attention_heads": 8, "intermediate_size": 1536},
    "base": {"hidden_size": 896, "num_hidden_layers": 12, "num_attention_heads": 14, "intermediate_size": 2432},
}
DEFAULTS: dict[str, Any] = {
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
    "initializer_range": 0.02,
    "attention_dropout": 0.0,
    "use_cache": True,
}


class ModelConfigError(ValueError):
    """A preset name or an explicit model config that cannot build a model."""


def load_model_kwargs(source: str | Path | dict | None, preset: str | None) -> dict[str, Any]:
    """LlamaConfig keyword arguments from an explicit config (dict, YAML or JSON file) or a preset."""
    if isinstance(source, dict):
        return {**DEFAULTS, **source}
    if source is not None:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ModelConfigError(f"{path}: cannot read model config ({exc})") from None
        if not isinstance(data, dict):
            raise ModelConfigError(f"{path}: a model config must be a mapping of LlamaConfig arguments")
        return {**DEFAULTS, **data}
    if preset not in PRESETS:
        raise ModelConfigError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    return {**DEFAULTS, **PRESETS[preset]}


def build_config(kwargs: dict[str, Any], vocab_size: int, eot_id: int, block_size: int):
    """A LlamaConfig whose vocabulary and special ids are the shards' (an explicit vocab_size that
    disagrees would index past the embedding table, so the shards win, with a warning)."""
    from transformers import LlamaConfig

    kwargs = dict(kwargs)
    for drop in ("architectures", "model_type", "transformers_version"):
        kwargs.pop(drop, None)
    if kwargs.get("vocab_size", vocab_size) != vocab_size:
        log.warning("model config vocab_size %s replaced by the shards' %d", kwargs["vocab_size"], vocab_size)
    kwargs.update(vocab_size=vocab_size, bos_token_id=eot_id, eos_token_id=eot_id, pad_token_id=eot_id)
    kwargs["max_position_embeddings"] = max(int(kwargs.get("max_position_embeddings", 0)), block_size)
    try:
        config = LlamaConfig(**kwargs)
    except Exception as exc:  # noqa: BLE001 - transformers validates with its own error types
        raise ModelConfigError(f"invalid model config: {exc}") from None
    config.architectures = ["LlamaForCausalLM"]
    return config


def build_model(config, seed: int):
    """A freshly initialised LlamaForCausalLM; the seed alone fixes the initial weights."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def count_parameters(model: torch.nn.Module) -> int:
    """Unique parameters (tied embeddings counted once), embeddings included."""
    return sum(p.numel() for p in model.parameters())


def preset_parameter_counts(vocab_size: int = 8192, block_size: int = 256) -> dict[str, int]:
    """Parameter count of every preset at ``vocab_size`` (built on the meta device: no memory, no time)."""
    import torch
    from transformers import LlamaForCausalLM

    counts = {}
    for name in PRESETS:
        config = build_config(load_model_kwargs(None, name), vocab_size, 0, block_size)
        with torch.device("meta"):
            counts[name] = count_parameters(LlamaForCausalLM(config))
    return counts
