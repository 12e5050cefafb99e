"""Fixtures of the teacher tests: the scripted OpenAI-compatible server on loopback and a small corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from teacher_helpers import write_corpus

from modelraising.teacher.server import Script, ScriptedServer


@pytest.fixture(autouse=True)
def _fresh_endpoint_health():
    """Endpoint health is process-wide: a port reused by a later test's server starts healthy."""
    from modelraising.teacher import client

    client._HEALTH.clear()
    yield
    client._HEALTH.clear()


@pytest.fixture
def server():
    with ScriptedServer(Script(latency=0.005)) as srv:
        yield srv


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.jsonl"
    write_corpus(path, 24)
    return path
