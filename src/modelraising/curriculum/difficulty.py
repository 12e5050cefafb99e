"""From raw features to one difficulty in [0, 1], and from a difficulty to a charter stage.

Vectorised over the whole feature matrix: scoring holds one row of floats per document, never texts.
"""

from __future__ import annotations

import numpy as np

from modelraising.charter import Charter
from modelraising.curriculum.config import WEIGHT_GROUPS, FeatureRange

FEATURE_DECIMALS = 4  # features are rounded once, so the stored values reproduce the difficulty exactly


def normalise(values: np.ndarray, rng: FeatureRange) -> np.ndarray:
    """Map a feature column to [0, 1] on its fixed range (absolute, not corpus-relative)."""
    x = np.asarray(values, dtype=np.float64)
    lo, hi = rng.lo, rng.hi
    if rng.log:
        x, lo, hi = np.log10(np.maximum(x, 1e-12)), np.log10(lo), np.log10(hi)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def combine(
    features: np.ndarray, names: tuple[str, ...], weights: dict[str, float], ranges: dict[str, FeatureRange]
) -> np.ndarray:
    """Weighted mean over weight groups of the mean normalised feature of each group.

    ``features`` is (documents x len(names)); groups whose features are absent (a reference loss
    without a reference model) must have weight 0, which the config guarantees.
    """
    features = np.round(np.asarray(features, dtype=np.float64), FEATURE_DECIMALS)
    total = np.zeros(features.shape[0])
    weight_sum = 0.0
    for group, weight in weights.items():
        members = [names.index(f) for f in WEIGHT_GROUPS[group] if f in names]
        if weight <= 0 or not members:
            continue
        group_value = np.mean([normalise(features[:, i], ranges[names[i]]) for i in members], axis=0)
        total += weight * group_value
        weight_sum += weight
    return total / weight_sum if weight_sum else total


def stage_indices(difficulty: np.ndarray, charter: Charter) -> np.ndarray:
    """Vectorised ``Charter.stage_for``: the first stage whose ceiling the difficulty fits under."""
    ceilings = np.array([s.ceiling for s in charter.stages])
    return np.minimum(np.searchsorted(ceilings, difficulty, side="left"), len(ceilings) - 1).astype(np.int16)
