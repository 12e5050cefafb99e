"""Intervals for the report: Student t over seeds, Welch t for differences (no scipy needed)."""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)


LEVEL = 0.95


# ------------------------------------------------------------------------------ Student t, Welch


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` (> 0, not necessarily whole) degrees of freedom."""
    tail = 0.5 * _betai(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (bisection on ``t_cdf``)."""
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_ppf(1.0 - q, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def t_interval(values: list[float], level: float = LEVEL) -> dict:
    """Mean of ``values`` (>= 2) with a Student t interval: ``{value, ci, n, method: "t"}``."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    half = t_ppf(1 - (1 - level) / 2, x.size - 1) * se
    return {"value": mean, "ci": [mean - half, mean + half], "n": int(x.size), "method": "t"}


def welch_interval(a: list[float], b: list[float], level: float = LEVEL) -> dict:
    """mean(b) - mean(a) with a Welch t interval (unequal variances; both samples >= 2)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = float(y.mean() - x.mean())
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0.0:
        return {"value": d, "ci": [d, d], "df": None, "method": "welch"}
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = t_ppf(1 - (1 - level) / 2, df) * se
    return {"value": d, "ci": [d - half, d + half], "df": df, "method": "welch"}


def summarize(metrics: list[dict], level: float = LEVEL) -> dict:
    """One arm's metric over its seeds: t interval over seeds (>= 2), the run's own bootstrap
    interval (1), nothing (0)."""
    values = [float(m["value"]) for m in metrics]
    if not values:
        return {"value": None, "ci": [None, None], "n": 0, "method": None}
    if len(values) == 1:
        ci = metrics[0].get("ci") or [None, None]
        return {"value": values[0], "ci": list(ci), "n": 1, "method": "bootstrap"}
    return t_interval(values, level)
