"""Shared fixtures: the repo's paths, the shipped charter, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
STARTER = REPO / "examples" / "starter"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def charter_path() -> Path:
    return REPO / "charters" / "default.yaml"


@pytest.fixture(scope="session")
def charter(charter_path):
    from modelraising.charter import load_charter

    return load_charter(charter_path)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    path = SHARED_DATA / "corpus"
    if not path.is_dir():
        pytest.skip(f"shared corpus not found at {path} (the project's ../shared/data)")
    return path


@pytest.fixture(scope="session")
def starter() -> Path:
    return STARTER


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance with 2 CPUs for the session (started on first use, a few seconds)."""
    import ray

    from modelraising.ray_executor import init_ray

    init_ray(num_cpus=2)
    yield
    ray.shutdown()
