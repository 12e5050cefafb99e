"""Fixtures: tiny Hugging Face causal LMs saved to tmp dirs (see tiny_models.py), one thread per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiny_models import build_model, build_tokenizer, keep_texts, one_thread, train


@pytest.fixture(autouse=True)
def _single_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def tokenizer_texts() -> list[str]:
    from modelraising.evaluate.config import EVAL_DATA

    heldout = (EVAL_DATA / "heldout.txt").read_text().split("\n\n")
    return keep_texts() + heldout


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory, tokenizer_texts) -> Path:
    """An untrained tiny Llama (scores near chance)."""
    path = tmp_path_factory.mktemp("random-model")
    tokenizer = build_tokenizer(tokenizer_texts)
    build_model(len(tokenizer)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def values_model_dir(tmp_path_factory, tokenizer_texts) -> Path:
    """A tiny Llama trained 300 steps on texts that always keep the charter's values."""
    path = tmp_path_factory.mktemp("values-model")
    tokenizer = build_tokenizer(tokenizer_texts)
    with one_thread():
        model = train(build_model(len(tokenizer)), tokenizer, keep_texts(), steps=300)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def shared_eval(repo) -> Path:
    path = repo.parent / "shared" / "data"
    if not (path / "eval").is_dir():
        pytest.skip(f"shared eval data not found at {path}/eval (the project's ../shared/data)")
    return path
