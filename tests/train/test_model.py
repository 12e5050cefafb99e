"""Model presets and explicit configs: sizes, vocabulary from the shards, clear errors."""

from __future__ import annotations

import json

import pytest

from modelraising.train.model import (
    ModelConfigError,
    build_config,
    build_model,
    count_parameters,
    load_model_kwargs,
    preset_parameter_counts,
)

TARGETS = {"nano": 1e6, "tiny": 5e6, "small": 25e6, "base": 125e6}


def test_presets_have_their_nominal_size_at_vocab_8192():
    counts = preset_parameter_counts(vocab_size=8192)
    for name, target in TARGETS.items():
        assert 0.85 * target <= counts[name] <= 1.15 * target, (name, counts[name])


def test_explicit_config_file_wins_over_the_preset_and_vocab_comes_from_the_shards(tmp_path, caplog):
    path = tmp_path / "model.json"
    path.write_text(
        json.dumps(
            {
                "hidden_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "intermediate_size": 64,
                "vocab_size": 100,
            }
        )
    )
    config = build_config(load_model_kwargs(path, "base"), vocab_size=512, eot_id=0, block_size=64)
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (32, 1, 512)
    assert config.eos_token_id == config.bos_token_id == config.pad_token_id == 0
    assert "replaced by the shards' 512" in caplog.text
    model = build_model(config, seed=0)
    assert count_parameters(model) == 512 * 32 + 32 * 32 * 4 + 3 * 32 * 64 + 3 * 32
    assert model.lm_head.weight is model.model.embed_tokens.weight


def test_yaml_config_and_errors(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("hidden_size: 48\nnum_hidden_layers: 2\nnum_attention_heads: 5\nintermediate_size: 96\n")
    with pytest.raises(ModelConfigError, match="not a multiple"):
        build_config(load_model_kwargs(path, None), 512, 0, 32)
    with pytest.raises(ModelConfigError, match="unknown preset 'huge'"):
        load_model_kwargs(None, "huge")
    with pytest.raises(ModelConfigError, match="cannot read"):
        load_model_kwargs(tmp_path / "missing.yaml", None)


def test_same_seed_same_weights():
    config = build_config(load_model_kwargs(None, "nano"), 512, 0, 32)
    a, b = build_model(config, 1), build_model(config, 1)
    assert all((p == q).all() for p, q in zip(a.parameters(), b.parameters()))
