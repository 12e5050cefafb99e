"""The curriculum step: difficulty features, an absolute difficulty, charter stages and the order.

One module per concern: ``features`` (raw per-document numbers), ``reference`` (optional reference-model
loss), ``config`` (order, weights, fixed normalisation ranges), ``difficulty`` (features -> [0, 1] ->
stage), ``order`` (scaffold, shuffle, reverse, stage-shuffle, spaced review), ``plot`` and ``step`` (the
step itself: output directory, scoring chunks, the ordered files, the manifest).
"""

from modelraising.curriculum.config import CurriculumConfig, parse_weights
from modelraising.curriculum.features import FEATURES, document_features
from modelraising.curriculum.step import CurriculumError, run_curriculum

__all__ = ["FEATURES", "CurriculumConfig", "CurriculumError", "document_features", "parse_weights", "run_curriculum"]
