"""Checkpoints: a split run equals a straight one; SIGTERM in a real process leaves a resumable checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from nano_run import nano_config
from safetensors.torch import load_file

from modelraising.io import read_jsonl
from modelraising.train import train_model
from modelraising.train.checkpoint import CheckpointError, latest_checkpoint, list_checkpoints


def _windows(out):
    return [(r["step"], r["windows"]) for r in read_jsonl(out / "windows-rank0.jsonl")]


def test_resume_gives_the_same_parameters_and_data_order(tiny_shards, tmp_path):
    common = {"order": "shuffle", "record_windows": True, "checkpoint_every": 7}
    straight = train_model(nano_config(tiny_shards, tmp_path / "a", **common))
    first = train_model(nano_config(tiny_shards, tmp_path / "b", stop_after=20, **common))
    assert first["status"] == "stopped" and first["step"] == 20
    assert [p.name for p in list_checkpoints(tmp_path / "b")] == ["step-00000014", "step-00000020"]
    resumed = train_model(nano_config(tiny_shards, tmp_path / "b", resume=True, **common))

    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)
    assert _windows(tmp_path / "a") == _windows(tmp_path / "b")
    assert [w for _, w in _windows(tmp_path / "a")] != [list(range(4 * s, 4 * s + 4)) for s in range(40)]
    losses = [[r["loss"] for r in read_jsonl(tmp_path / d / "metrics.jsonl")] for d in "ab"]
    assert len(losses[1]) == 40
    assert losses[0] == pytest.approx(losses[1], rel=1e-6, abs=1e-6)
    assert resumed["final_val_loss"] == pytest.approx(straight["final_val_loss"], rel=1e-6)
    assert resumed["resumed_from"] == [20] and resumed["tokens"] == straight["tokens"]


def test_resume_refuses_a_different_run(tiny_shards, tmp_path):
    train_model(nano_config(tiny_shards, tmp_path / "r", stop_after=3, tokens=10 * 128))
    with pytest.raises(CheckpointError, match="lr: checkpoint 0.003, now 0.001"):
        train_model(nano_config(tiny_shards, tmp_path / "r", resume=True, tokens=10 * 128, lr=1e-3))


def test_sigterm_writes_a_checkpoint_that_resumes(tiny_shards, tmp_path):
    out = tmp_path / "run"
    steps = 400
    cmd = [
        sys.executable,
        "-m",
        "modelraising.cli_train",
        "train",
        "--data",
        str(tiny_shards),
        "--out",
        str(out),
        "--preset",
        "nano",
        "--block-size",
        "32",
        "--batch-size",
        "4",
        "--tokens",
        str(steps * 128),
        "--lr",
        "3e-3",
        "--warmup",
        "4",
        "--eval-every",
        "0",
        "--checkpoint-every",
        "0",
        "--log-every",
        "1",
        "--device",
        "cpu",
        "--record-windows",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 90
    metrics = out / "metrics.jsonl"
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[0]
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "received SIGTERM" in output and "continue with --resume" in output

    checkpoint = latest_checkpoint(out)
    assert checkpoint is not None and not list((out / "checkpoints").glob(".tmp-*"))
    stopped_at = json.loads((checkpoint / "meta.json").read_text())["step"]
    assert 5 <= stopped_at < steps
    assert not (out / "train.json").exists()

    config = nano_config(
        tiny_shards, out, tokens=steps * 128, eval_every=0, checkpoint_every=0, record_windows=True, resume=True
    )
    summary = train_model(config)
    assert summary["status"] == "done" and summary["steps"] == steps and summary["resumed_from"] == [stopped_at]
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")] == list(range(1, steps + 1))
    assert [w for r in read_jsonl(out / "windows-rank0.jsonl") for w in r["windows"]] == list(range(steps * 4))
