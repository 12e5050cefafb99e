"""Values evaluation: does a model hold its values, and do they survive attack?

Every suite is scored by log-likelihood (tiny base models cannot follow instructions):
``scoring.Scorer`` ranks continuations, one module per suite builds the items and scores them (its
``SUITE``, listed in ``suite.BUILTIN``), ``runner.run_eval`` writes results.json,
``results.compare_table`` puts runs side by side, and ``lm_eval_export`` writes every suite as an
lm-evaluation-harness task. See docs/evaluation.md.
"""

from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.suite import Suite, get_suite, register, suite_names

__all__ = ["EvalConfig", "Suite", "get_suite", "register", "suite_names"]
