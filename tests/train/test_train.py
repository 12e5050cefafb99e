"""train_model end to end on a tiny shard: learning, outputs, stages, budgets, order, CLI."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest
from nano_run import nano_config
from typer.testing import CliRunner

from modelraising.io import read_jsonl
from modelraising.train import ShardError, TrainError, train_model
from modelraising.train.generate import generate_text


@pytest.fixture(scope="module")
def trained(tiny_shards, tmp_path_factory):
    """One 40-step nano run shared by the output tests."""
    out = tmp_path_factory.mktemp("run") / "model"
    return out, train_model(nano_config(tiny_shards, out))


def test_loss_falls_within_a_few_dozen_steps(trained):
    out, summary = trained
    losses = [r["loss"] for r in read_jsonl(out / "metrics.jsonl")]
    assert len(losses) == 40
    assert losses[0] == pytest.approx(math.log(512), abs=0.3), "starts near uniform over the vocabulary"
    assert np.mean(losses[-5:]) < losses[0] - 0.7
    vals = [r["val_loss"] for r in read_jsonl(out / "metrics.jsonl") if "val_loss" in r]
    assert len(vals) == 4 and vals[-1] < vals[0]
    assert summary["final_val_loss"] == vals[-1]


def test_outputs_metrics_train_json_and_plot(trained):
    out, summary = trained
    record = next(read_jsonl(out / "metrics.jsonl"))
    assert {"step", "tokens", "loss", "lr", "tokens_per_s", "stage"} <= record.keys()
    evals = [r for r in read_jsonl(out / "metrics.jsonl") if "val_loss" in r]
    assert [r["step"] for r in evals] == [10, 20, 30, 40]
    assert evals[0]["val_ppl"] == pytest.approx(math.exp(evals[0]["val_loss"]))
    saved = json.loads((out / "train.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    assert saved["steps"] == 40 and saved["tokens"] == 40 * 4 * 32 == saved["tokens_budget"]
    assert saved["parameters"] > 0 and saved["elapsed_s"] > 0 and saved["config"]["preset"] == "nano"
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model.safetensors").is_file()


def test_saved_model_loads_with_auto_classes_and_generates(trained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, summary = trained
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model.config.vocab_size == 512 and tokenizer.eos_token == "<|endoftext|>"
    assert sum(p.numel() for p in model.parameters()) == summary["parameters"]
    text = generate_text((model, tokenizer), "Once upon a time", max_new_tokens=20, seed=1)
    assert isinstance(text, str) and text.strip()
    assert generate_text(out, "Once upon a time", max_new_tokens=20, seed=1) == text, "seeded sampling"


def test_cli_train_and_generate(tiny_shards, trained, tmp_path):
    import typer

    from modelraising.cli_train import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    out = tmp_path / "cli"
    args = [
        "train",
        "--data",
        str(tiny_shards),
        "--out",
        str(out),
        "--preset",
        "nano",
        "--tokens",
        "1280",
        "--batch-size",
        "4",
        "--block-size",
        "32",
        "--device",
        "cpu",
        "--grad-accum",
        "2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "trained 1,280 tokens in 5 steps" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already holds a training run" in again.output
    result = runner.invoke(app, ["generate", "--model", str(trained[0]), "--prompt", "Lily", "--max-new-tokens", "8"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Lily") and len(result.stdout.strip()) > len("Lily")


def test_stage_crossings_are_logged_recorded_and_plotted(shards_copy, tmp_path, caplog):
    index = json.loads((shards_copy / "index.json").read_text())
    index["stages"] = [
        {"name": "early", "index": 0, "start": 0, "end": 1000},
        {"name": "middle", "index": 1, "start": 1000, "end": 2000},
        {"name": "late", "index": 2, "start": 2000, "end": index["train_tokens"]},
    ]
    (shards_copy / "index.json").write_text(json.dumps(index))
    out = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="modelraising"):
        summary = train_model(nano_config(shards_copy, out, tokens=20 * 4 * 32, eval_every=0, tensorboard=True))
    # 132 tokens per step (4 windows of 33): step 7 holds token 1000, step 15 token 2000
    assert [(t["step"], t["stage"]) for t in summary["stages"]] == [(0, "early"), (7, "middle"), (15, "late")]
    assert "entering stage 1 'middle'" in caplog.text
    stages = [r["stage"] for r in read_jsonl(out / "metrics.jsonl")]
    assert stages[6:8] == ["early", "middle"] and stages[-1] == "late"
    tensorboard_installed = (out / "tensorboard").is_dir()
    assert tensorboard_installed or "tensorboard package is not installed" in caplog.text


def test_training_reads_the_curriculum_order_or_a_shuffle(tiny_shards, tmp_path):
    seen = {}
    for order in ("file", "shuffle"):
        out = tmp_path / order
        train_model(nano_config(tiny_shards, out, tokens=8 * 4 * 32, order=order, record_windows=True, eval_every=0))
        seen[order] = [w for r in read_jsonl(out / "windows-rank0.jsonl") for w in r["windows"]]
    assert seen["file"] == list(range(32))
    assert seen["shuffle"] != seen["file"] and len(set(seen["shuffle"])) == 32


def test_gradient_accumulation_matches_the_larger_batch(tiny_shards, tmp_path):
    one = train_model(nano_config(tiny_shards, tmp_path / "a", tokens=10 * 4 * 32, eval_every=0))
    two = train_model(
        nano_config(tiny_shards, tmp_path / "b", tokens=10 * 4 * 32, eval_every=0, batch_size=2, grad_accum=2)
    )
    assert one["steps"] == two["steps"] == 10
    a = [r["loss"] for r in read_jsonl(tmp_path / "a" / "metrics.jsonl")]
    b = [r["loss"] for r in read_jsonl(tmp_path / "b" / "metrics.jsonl")]
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_clear_errors_before_training(shards_copy, tmp_path):
    with pytest.raises(TrainError, match="less than one step of 128 tokens"):
        train_model(nano_config(shards_copy, tmp_path / "a", tokens=100))
    (shards_copy / "train-00000.bin").write_bytes((shards_copy / "train-00000.bin").read_bytes()[:-3])
    with pytest.raises(ShardError, match="train-00000.bin"):
        train_model(nano_config(shards_copy, tmp_path / "b"))


def test_cli_takes_the_preset_from_config_unless_a_flag_overrides_it(tiny_shards, tmp_path):
    import typer

    from modelraising.cli_train import register
    from modelraising.train import preset_parameter_counts

    app = typer.Typer()
    register(app)
    config = tmp_path / "train.yaml"
    config.write_text("preset: nano\nblock_size: 32\nbatch_size: 4\nprogress: false\n")
    counts = preset_parameter_counts(512, 32)
    for name, flags in (("nano", []), ("tiny", ["--preset", "tiny"])):
        out = tmp_path / name
        args = [
            "train",
            "--data",
            str(tiny_shards),
            "--out",
            str(out),
            "--tokens",
            "128",
            "--config",
            str(config),
            "--device",
            "cpu",
            "--eval-every",
            "0",
            *flags,
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        saved = json.loads((out / "train.json").read_text())
        assert saved["config"]["preset"] == name and saved["parameters"] == counts[name]
        assert saved["config"]["block_size"] == 32
