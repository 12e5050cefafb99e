"""Training checkpoints: enough state to continue a run as if it had never stopped.

``checkpoints/step-00000020/`` holds ``model.pt``, ``optimizer.pt``, ``state.pt`` (scheduler and the
python, numpy and torch RNG states of every rank) and ``meta.json`` (step, tokens, data position, run
identity). It is written into a temporary directory and renamed into place, so a kill mid-write leaves
the previous checkpoint as the latest one. Everything loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from modelraising.io import atomic_write_json

log = logging.getLogger(__name__)
STEP_DIR = re.compile(r"^step-(\d{8})$")


class CheckpointError(Exception):
    """A checkpoint that cannot continue this run (different config or data order)."""


def rng_state() -> dict:
    """Python, numpy and torch generator states as tensors and lists (``weights_only``-loadable)."""
    version, internal, gauss = random.getstate()
    legacy = np.random.get_state(legacy=True)  # the default, as a tuple: the global generator is MT19937
    assert isinstance(legacy, tuple)
    kind, keys, pos, has_gauss, cached = legacy
    return {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(out: Path) -> Path:
    return Path(out) / "checkpoints"


def list_checkpoints(out: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a directory is complete once renamed into place)."""
    root = checkpoint_dir(out)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if STEP_DIR.match(p.name) and (p / "meta.json").is_file()]
    return sorted(found, key=lambda p: p.name)


def latest_checkpoint(out: Path) -> Path | None:
    found = list_checkpoints(out)
    return found[-1] if found else None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(
    out: Path,
    step: int,
    model: torch.nn.Module,
    optimizer,
    scheduler,
    meta: dict,
    rng_states: list[dict],
    keep: int = 2,
) -> Path:
    """Write checkpoint ``step`` atomically (temp dir + rename) and keep only the last ``keep``."""
    root = checkpoint_dir(out)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    if (final / "meta.json").is_file():  # the same step is the same state
        return final
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".tmp-{final.name}-"))
    try:
        torch.save(model.state_dict(), tmp / "model.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save({"scheduler": scheduler.state_dict(), "rng": rng_states}, tmp / "state.pt")
        atomic_write_json(tmp / "meta.json", {"step": step, **meta})
        for name in ("model.pt", "optimizer.pt", "state.pt"):
            _fsync(tmp / name)
        if final.exists():  # a torn earlier attempt without meta.json
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(out)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer, scheduler, rank: int = 0) -> dict:
    """Restore model, optimizer, scheduler and this rank's RNG states; returns meta.json."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    model.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True))
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    scheduler.load_state_dict(state["scheduler"])
    rngs = state["rng"]
    set_rng_state(rngs[rank] if rank < len(rngs) else rngs[0])
    return meta


def clear_stale(out: Path) -> None:
    """Remove temporary directories of checkpoints whose writing was killed."""
    root = checkpoint_dir(out)
    if root.is_dir():
        for tmp in root.glob(".tmp-step-*"):
            shutil.rmtree(tmp, ignore_errors=True)
