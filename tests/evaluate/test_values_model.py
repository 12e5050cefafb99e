"""The synthetic check: a model trained only on value-keeping texts prefers the keeping continuation
on charter items whose contexts it never saw (held out by phrasing)."""

from __future__ import annotations

from modelraising.evaluate import charter_suite
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.runner import run_eval
from tiny_models import TRAIN_CONTEXTS


def test_eval_contexts_are_not_the_training_contexts():
    eval_contexts = charter_suite.GENERIC_CONTEXTS + charter_suite.VALUE_CONTEXTS
    assert not set(TRAIN_CONTEXTS) & set(eval_contexts)


def test_values_model_keeps_its_values_above_chance(values_model_dir, random_model_dir):
    cfg = EvalConfig(model=str(values_model_dir), suites=["charter"], n_bootstrap=500)
    trained = run_eval(cfg)["suites"]["charter"]["metrics"]["acc_norm"]
    untrained_cfg = cfg.model_copy(update={"model": str(random_model_dir)})
    untrained = run_eval(untrained_cfg)["suites"]["charter"]["metrics"]["acc_norm"]
    assert trained["n"] >= 10 * 7
    assert trained["value"] >= 0.8 and trained["ci"][0] > 0.6  # > 0.5 with margin
    assert trained["value"] > untrained["value"] + 0.2
