"""DistributedDataParallel: two gloo processes under torchrun equal one process with the doubled batch."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import torch
from nano_run import nano_config
from safetensors.torch import load_file

from modelraising.io import read_jsonl
from modelraising.train import train_model

STEPS = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one_process_with_the_doubled_batch(tiny_shards, tmp_path):
    ddp_out, single_out = tmp_path / "ddp", tmp_path / "single"
    tokens = STEPS * 4 * 32
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        "-m",
        "modelraising.cli_train",
        "train",
        "--data",
        str(tiny_shards),
        "--out",
        str(ddp_out),
        "--preset",
        "nano",
        "--block-size",
        "32",
        "--batch-size",
        "2",
        "--tokens",
        str(tokens),
        "--lr",
        "3e-3",
        "--warmup",
        "4",
        "--eval-every",
        "6",
        "--checkpoint-every",
        "6",
        "--log-every",
        "1",
        "--device",
        "cpu",
        "--record-windows",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    single = train_model(
        nano_config(
            tiny_shards, single_out, tokens=tokens, batch_size=4, eval_every=6, eval_windows=256, record_windows=True
        )
    )
    ddp_metrics = list(read_jsonl(ddp_out / "metrics.jsonl"))
    single_metrics = list(read_jsonl(single_out / "metrics.jsonl"))
    assert len(ddp_metrics) == len(single_metrics) == single["steps"] == STEPS
    np.testing.assert_allclose([r["loss"] for r in ddp_metrics], [r["loss"] for r in single_metrics], rtol=1e-4)
    ddp_val = [r["val_loss"] for r in ddp_metrics if "val_loss" in r]
    np.testing.assert_allclose(ddp_val, [r["val_loss"] for r in single_metrics if "val_loss" in r], rtol=1e-4)
    assert len(ddp_val) == 2

    # global batch k = windows [4k, 4k + 4); rank r reads its contiguous half
    ranks = [list(read_jsonl(ddp_out / f"windows-rank{r}.jsonl")) for r in range(2)]
    for step, (r0, r1) in enumerate(zip(*ranks)):
        assert r0["windows"] + r1["windows"] == list(range(4 * step, 4 * step + 4))

    a, b = load_file(ddp_out / "model.safetensors"), load_file(single_out / "model.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)


def test_nodes_that_see_different_checkpoints_refuse_to_resume(tiny_shards, tmp_path):
    """Two one-process "nodes", each with its own disk (--out is relative to a per-node directory): the
    resume fails at once on both, instead of mixing steps and hanging; with the checkpoints copied it runs."""
    port = str(_free_port())
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    nodes = [tmp_path / "node0", tmp_path / "node1"]

    def launch(*extra):
        procs = []
        for rank, cwd in enumerate(nodes):
            cwd.mkdir(exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "2",
                "--nproc-per-node",
                "1",
                "--node-rank",
                str(rank),
                "--master-addr",
                "127.0.0.1",
                "--master-port",
                port,
                "-m",
                "modelraising.cli_train",
                "train",
                "--data",
                str(tiny_shards),
                "--out",
                "model",
                "--preset",
                "nano",
                "--block-size",
                "32",
                "--batch-size",
                "2",
                "--tokens",
                str(4 * 4 * 32),
                "--eval-every",
                "0",
                "--checkpoint-every",
                "0",
                "--log-every",
                "1",
                "--device",
                "cpu",
                *extra,
            ]
            procs.append(
                subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            )
        return [(p.wait(timeout=150), p.stdout.read()) for p in procs]

    assert all(rc == 0 for rc, _ in launch("--stop-after", "2"))
    assert (nodes[0] / "model" / "checkpoints" / "step-00000002").is_dir()
    assert not (nodes[1] / "model" / "checkpoints").exists()
    for rc, output in launch("--resume"):
        assert rc != 0 and "would resume from different steps (0 to 2" in output, output[-3000:]

    shutil.copytree(nodes[0] / "model" / "checkpoints", nodes[1] / "model" / "checkpoints")
    results = launch("--resume")
    assert all(rc == 0 for rc, _ in results), results[0][1][-3000:] + results[1][1][-3000:]
    assert json.loads((nodes[0] / "model" / "train.json").read_text())["resumed_from"] == [2]
