"""Fixtures: the shipped charter and a tiny untrained base model saved to a tmp dir, one thread per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from align_models import one_thread, save_base

from modelraising.charter import default_charter_path, load_charter


@pytest.fixture(autouse=True)
def _single_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def wren():
    return load_charter(default_charter_path())


@pytest.fixture(scope="session")
def base_model(tmp_path_factory, wren) -> Path:
    """A tiny Llama (hidden 32, 2 layers) with a shards-style tokenizer; never written to by the tests."""
    return save_base(tmp_path_factory.mktemp("base-model"), wren)


@pytest.fixture(scope="session")
def tokenizer(base_model):
    from transformers import AutoTokenizer

    from modelraising.align.chat import attach_chat_template

    tok = AutoTokenizer.from_pretrained(base_model)
    attach_chat_template(tok, "Wren")
    return tok
