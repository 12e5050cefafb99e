"""Bootstrap confidence intervals: every number in results.json comes with one.

Percentile bootstrap over items (vectorised with numpy), or over *clusters* of items where items are
not independent: the same keep/betray pair placed under ten contexts is one observation of the
model's preference, not ten, so resampling items would make the interval look ten times surer than
it is. With ``clusters`` the bootstrap draws whole clusters and recomputes the item mean over them.
Differences between two models are bootstrapped *paired* when they were scored on the same items,
which is far tighter than comparing two independent intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_BOOTSTRAP = 1000


def _resample_means(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n, len(x)))
    return x[idx].mean(axis=1)


def _cluster_sums(x: np.ndarray, clusters: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and item counts (clusters in first-seen order)."""
    index: dict = {}
    ids = np.fromiter((index.setdefault(c, len(index)) for c in clusters), dtype=np.int64, count=len(clusters))
    return np.bincount(ids, weights=x, minlength=len(index)), np.bincount(ids, minlength=len(index)).astype(float)


def bootstrap_ci(
    values: Sequence[float], n: int = N_BOOTSTRAP, seed: int = 0, level: float = 0.95, clusters: Sequence | None = None
) -> dict:
    """Mean of ``values`` with a percentile-bootstrap ``level`` interval: ``{value, ci, n}``; with
    ``clusters`` (one key per value) whole clusters are resampled and ``n_clusters`` is added."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return {"value": None, "ci": [None, None], "n": 0}
    mean = float(x.mean())
    extra = {}
    if clusters is not None:
        if len(clusters) != x.size:
            raise ValueError(f"{len(clusters)} cluster keys for {x.size} values")
        sums, counts = _cluster_sums(x, clusters)
        extra = {"n_clusters": int(sums.size)}
        if sums.size == x.size:  # every item its own cluster: the plain bootstrap (same draws)
            clusters = None
    if x.size == 1 or n <= 0 or (clusters is not None and sums.size == 1):
        return {"value": mean, "ci": [mean, mean], "n": int(x.size), **extra}
    if clusters is None:
        means = _resample_means(x, n, seed)
    else:
        idx = np.random.default_rng(seed).integers(0, sums.size, size=(n, sums.size))
        means = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"value": mean, "ci": [float(lo), float(hi)], "n": int(x.size), **extra}


def bootstrap_ratio_ci(
    num: Sequence[float], den: Sequence[float], n: int = N_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> dict:
    """sum(num)/sum(den) with a bootstrap over paired rows (e.g. nats per byte over documents)."""
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if a.size == 0 or b.sum() == 0:
        return {"value": None, "ci": [None, None], "n": int(a.size)}
    value = float(a.sum() / b.sum())
    if a.size == 1 or n <= 0:
        return {"value": value, "ci": [value, value], "n": int(a.size)}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n, a.size))
    ratios = a[idx].sum(axis=1) / np.maximum(b[idx].sum(axis=1), 1e-12)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"value": value, "ci": [float(lo), float(hi)], "n": int(a.size)}


def paired_diff_ci(
    a: Sequence[float],
    b: Sequence[float],
    n: int = N_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
    clusters: Sequence | None = None,
) -> dict:
    """mean(b - a) over the same items, resampling items (or their ``clusters``) jointly."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    out = bootstrap_ci(d, n, seed, level, clusters)
    out["paired"] = True
    return out


def unpaired_diff_ci(
    a: Sequence[float], b: Sequence[float], n: int = N_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> dict:
    """mean(b) - mean(a) for two independent samples (different items)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return {"value": None, "ci": [None, None], "n": 0, "paired": False}
    diffs = _resample_means(y, n, seed + 1) - _resample_means(x, n, seed)
    lo, hi = np.quantile(diffs, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {
        "value": float(y.mean() - x.mean()),
        "ci": [float(lo), float(hi)],
        "n": int(min(x.size, y.size)),
        "paired": False,
    }


def approx_diff_ci(a: dict, b: dict) -> dict:
    """b - a from two summaries alone (no per-item data): half-widths added in quadrature."""
    if a.get("value") is None or b.get("value") is None:
        return {"value": None, "ci": [None, None], "paired": False, "approx": True}
    half = [(m["ci"][1] - m["ci"][0]) / 2 if None not in m.get("ci", [None]) else 0.0 for m in (a, b)]
    d = b["value"] - a["value"]
    w = float(np.hypot(half[0], half[1]))
    return {"value": d, "ci": [d - w, d + w], "paired": False, "approx": True}


def trapezoid_area(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Area under ys(xs) with xs rescaled to [0, 1]: the mean level of a curve over its range."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.size == 0 or np.isnan(y).any():
        return None
    if x.size == 1 or x[-1] == x[0]:
        return float(y[0])
    x = (x - x[0]) / (x[-1] - x[0])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def curve_area_ci(
    xs: Sequence[float],
    values: Sequence[Sequence[float]],
    n: int = N_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
    relative: bool = False,
) -> dict:
    """Area under the mean-score curve (``values[k][item]``: the same items at every x), with a bootstrap
    over items. ``relative`` divides each curve by its first point (retention: 1.0 = nothing lost)."""
    m = np.asarray(values, dtype=float)  # (points, items)
    if m.size == 0:
        return {"value": None, "ci": [None, None], "n": 0}

    def area(cols: np.ndarray) -> np.ndarray:  # cols: (resamples, points, items) or (points, items)
        curve = cols.mean(axis=-1)
        if relative:
            curve = curve / np.maximum(curve[..., :1], 1e-12)
        x = np.asarray(xs, dtype=float)
        if x.size == 1 or x[-1] == x[0]:
            return curve[..., 0]
        x = (x - x[0]) / (x[-1] - x[0])
        return np.sum((x[1:] - x[:-1]) * (curve[..., 1:] + curve[..., :-1]) / 2, axis=-1)

    value = float(area(m))
    if n <= 0 or m.shape[1] < 2:
        return {"value": value, "ci": [value, value], "n": int(m.shape[1])}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m.shape[1], size=(n, m.shape[1]))
    areas = area(np.transpose(m[:, idx], (1, 0, 2)))
    lo, hi = np.quantile(areas, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"value": value, "ci": [float(lo), float(hi)], "n": int(m.shape[1])}
