"""Values evaluation: does a model hold its values, and do they survive attack?

Every suite is scored by log-likelihood (tiny base models cannot follow instructions):
``scoring.Scorer`` ranks continuations, one module per suite builds the items, ``runner.run_eval``
writes results.json, ``results.compare_table`` puts runs side by side, and ``lm_eval_export``
writes every suite as an lm-evaluation-harness task. See docs/evaluation.md.
"""

from modelraising.evaluate.config import SUITES, EvalConfig

__all__ = ["SUITES", "EvalConfig"]
