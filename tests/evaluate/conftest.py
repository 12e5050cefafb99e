"""Fixtures: tiny Hugging Face causal LMs saved to tmp dirs (see tiny_models.py), one thread per test:
random initialisations, shuffled-token models (the null controls) and the values model (the
fine-tuned control), all with one tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_models
from tiny_models import build_model, build_tokenizer, keep_texts, one_thread, shuffled_token_texts, train

NULL_SEEDS = (0, 1, 2)  # the null controls average three initialisations (tests/evaluate/test_controls.py)


@pytest.fixture(autouse=True)
def _single_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def tokenizer():
    from modelraising.evaluate.config import EVAL_DATA

    heldout = (EVAL_DATA / "heldout.txt").read_text().split("\n\n")
    return build_tokenizer(tiny_models.tokenizer_texts() + heldout)


def _save(model, tokenizer, path: Path) -> Path:
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def random_model_dirs(tmp_path_factory, tokenizer) -> list[Path]:
    """Untrained tiny Llamas, one per seed in NULL_SEEDS."""
    return [
        _save(build_model(len(tokenizer), seed=seed), tokenizer, tmp_path_factory.mktemp(f"random-{seed}"))
        for seed in NULL_SEEDS
    ]


@pytest.fixture(scope="session")
def random_model_dir(random_model_dirs) -> Path:
    """An untrained tiny Llama (scores near chance)."""
    return random_model_dirs[0]


@pytest.fixture(scope="session")
def shuffled_model_dirs(tmp_path_factory, tokenizer) -> list[Path]:
    """Tiny Llamas trained 200 steps on the values model's tokens in a random order (fresh seeds)."""
    out = []
    with one_thread():
        for seed in NULL_SEEDS:
            texts = shuffled_token_texts(tokenizer, seed)
            model = train(build_model(len(tokenizer), seed=100 + seed), tokenizer, texts, steps=200, seed=seed)
            out.append(_save(model, tokenizer, tmp_path_factory.mktemp(f"shuffled-{seed}")))
    return out


@pytest.fixture(scope="session")
def values_model_dir(tmp_path_factory, tokenizer) -> Path:
    """A tiny Llama trained 300 steps on the keep side of the held-in half of the item bank."""
    with one_thread():
        model = train(build_model(len(tokenizer)), tokenizer, keep_texts(), steps=300)
    return _save(model, tokenizer, tmp_path_factory.mktemp("values-model"))


@pytest.fixture(scope="session")
def shared_eval(repo) -> Path:
    path = repo.parent / "shared" / "data"
    if not (path / "eval").is_dir():
        pytest.skip(f"shared eval data not found at {path}/eval (the project's ../shared/data)")
    return path
