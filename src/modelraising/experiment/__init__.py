"""``modelraising experiment``: raised vs. trained-then-aligned, arms x seeds, on an equal token budget.

Every step is a content-addressed directory under ``DIR/cache/``::

    raise-<key>/ -> curriculum-<key>/ -> tokenize-<key>/ -> train-<key>/ -> align-<key>/ -> eval-<key>/
                                 tokenizer-<key>/ (one, shared by all arms)

A key hashes the step's config and the keys of its inputs, so arms share what they share (the
baseline corpus feeds ``baseline``, ``baseline+sft``, ``baseline+dpo`` and ``baseline+prompt``), a
rerun skips every step whose ``.done`` marker exists, and a killed experiment resumes (each step is
itself resumable). ``DIR/summary.json`` indexes the runs; ``DIR/report.html`` / ``report.md`` show them.

One module per concern: ``config`` (arms, sections, the YAML), ``steps`` (the step cache and each
step) and ``run`` (:func:`run_experiment`).
"""

from modelraising.experiment.config import (
    AlignSettings,
    Arm,
    EvalSettings,
    ExperimentConfig,
    TrainSettings,
    arm_table,
    load_experiment_config,
)
from modelraising.experiment.run import clear_cache, run_experiment
from modelraising.experiment.steps import AuditFailed, experiment_sources

__all__ = [
    "AlignSettings",
    "Arm",
    "AuditFailed",
    "EvalSettings",
    "ExperimentConfig",
    "TrainSettings",
    "arm_table",
    "clear_cache",
    "experiment_sources",
    "load_experiment_config",
    "run_experiment",
]
