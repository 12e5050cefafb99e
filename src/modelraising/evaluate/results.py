"""results.json: per-suite metrics with bootstrap CIs, per-item scores, and the side-by-side compare.

Layout::

    {"format": "modelraising-eval/1", "model": {path, sha256, files}, "config": {...},
     "data": {file: sha256}, "versions": {...}, "elapsed_s": ...,
     "suites": {name: {"headline": "acc_calibrated", "summary": [...metrics shown by --compare],
                       "metrics": {name: {value, ci: [lo, hi], n, n_clusters?, item_key?}},
                       "groups": {group: {metric: {...}}}, "baselines": {...}, "info": {...},
                       "verdict": {reading, degenerate, reasons, at_chance, chance, ...},
                       "group_verdicts": {group: {...}},
                       "items": [{id, group, cluster, lls, pred, gold, correct, correct_calibrated, ...}]}}}

A metric with an ``item_key`` is the mean of that per-item field, so two result files scored on the
same items are compared with a paired bootstrap over those items (over their clusters, where items
share a cluster). ``verdict`` says whether the headline means anything (``calibration.py``):
degenerate (answers independent of the item), at chance, above or below chance.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from modelraising.evaluate import calibration
from modelraising.evaluate.items import MCItem
from modelraising.evaluate.scoring import ItemScore
from modelraising.evaluate.stats import approx_diff_ci, bootstrap_ci, paired_diff_ci, unpaired_diff_ci
from modelraising.evaluate.suite import suite_names
from modelraising.io import atomic_write_json

FORMAT = "modelraising-eval/1"
# How items are scored; part of the experiment's eval cache key, so a change re-scores cached runs.
SCORING = "calibrated-1"
ITEM_METRICS = {
    "acc_calibrated": "correct_calibrated",
    "acc": "correct",
    "acc_norm": "correct_norm",
    "p_gold": "p_gold",
    "p_gold_norm": "p_gold_norm",
    "p_gold_calibrated": "p_gold_calibrated",
}


def metric(
    values: Sequence[float], item_key: str | None, n_bootstrap: int, seed: int, clusters: Sequence | None = None
) -> dict:
    out = bootstrap_ci([float(v) for v in values], n_bootstrap, seed, clusters=clusters)
    if item_key:
        out["item_key"] = item_key
    return out


def item_rows(items: Sequence[MCItem], scores: Sequence[ItemScore], meta_keys: Sequence[str] = ()) -> list[dict]:
    """One row per item: its scores, its cluster (the unit the bootstrap resamples) and chosen meta."""
    rows = []
    for item, score in zip(items, scores):
        row = {"id": item.id, "group": item.group, "cluster": str(item.meta.get("cluster", item.id)), **score.to_dict()}
        row.update({k: item.meta[k] for k in meta_keys if k in item.meta})
        rows.append(row)
    return rows


def summarize_rows(
    rows: Sequence[dict], keys: dict[str, str], n_bootstrap: int, seed: int, by_group: bool = True
) -> tuple[dict, dict]:
    """Metrics over all rows, and per group: ``keys`` maps metric name -> per-item field. Intervals
    resample the rows' clusters (each row its own cluster unless it says otherwise)."""

    def block(subset: Sequence[dict]) -> dict:
        out = {}
        for name, field in keys.items():  # a metric no row has a value for is left out
            kept = [r for r in subset if r.get(field) is not None]
            if kept:
                out[name] = metric(
                    [r[field] for r in kept], field, n_bootstrap, seed, [r.get("cluster", r.get("id")) for r in kept]
                )
        return out

    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r.get("group", "")].append(r)
    per_group = {g: block(rs) for g, rs in sorted(groups.items())} if by_group and len(groups) > 1 else {}
    return block(rows), per_group


def _chance(items: Sequence[MCItem]) -> float:
    return sum(1 / len(i.choices) for i in items) / max(len(items), 1)


def verdicts(
    items: Sequence[MCItem], scores: Sequence[ItemScore], metrics: dict, groups: dict, headline: str
) -> tuple[dict | None, dict]:
    """The suite's and each group's verdict on its headline (None when the items are not calibrated)."""
    calibrated = [(i, s) for i, s in zip(items, scores) if s.prior is not None]
    if not calibrated:
        return None, {}

    def one(pairs: list, metric: dict | None) -> dict:
        test = calibration.degeneracy(
            [tuple(i.choices) for i, _ in pairs],
            [s.pred_cal for _, s in pairs],
            [s.gold for _, s in pairs],
            [s.margin_cal for _, s in pairs],
        )
        # diagnostics of the raw answers: how often the raw pick is just the continuation's prior pick
        raw = calibration.constant_share(
            [tuple(i.choices) for i, _ in pairs], [s.pred for _, s in pairs], [s.gold for _, s in pairs]
        )
        test["raw_constant_share"] = round(raw[0], 4) if raw else None
        test["raw_follows_prior"] = round(
            sum(s.pred_norm == s.pred_prior if s.per_byte else s.pred == s.pred_prior for _, s in pairs)
            / max(len(pairs), 1),
            4,
        )
        return calibration.verdict(headline, metric, _chance([i for i, _ in pairs]), test)

    suite = one(calibrated, metrics.get(headline))
    by_group: dict[str, list] = defaultdict(list)
    for item, score in calibrated:
        by_group[item.group].append((item, score))
    per_group = {g: one(pairs, groups.get(g, {}).get(headline)) for g, pairs in by_group.items() if g in groups}
    return suite, per_group


def score_mc_suite(cfg, scorer, items: Sequence[MCItem], *, headline: str, **kwargs: Any) -> dict:
    """``items`` scored by ``scorer`` into :func:`mc_suite_result`, with the run's bootstrap count and seed
    (``cfg``: an EvalConfig); ``kwargs`` as there."""
    scores = scorer.score_items(items)
    return mc_suite_result(items, scores, headline=headline, n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, **kwargs)


def mc_suite_result(
    items: Sequence[MCItem],
    scores: Sequence[ItemScore],
    *,
    headline: str,
    n_bootstrap: int,
    seed: int,
    meta_keys: Sequence[str] = (),
    extra: Callable[[list[dict]], None] | None = None,
    keys: dict[str, str] | None = None,
    summary: Sequence[str] | None = None,
) -> dict:
    """The standard block of a multiple-choice suite: metrics, per-group metrics, chance, verdicts, items."""
    rows = item_rows(items, scores, meta_keys)
    if extra is not None:
        extra(rows)  # suite-specific per-item fields (e.g. persona's charter consistency)
    metrics, groups = summarize_rows(rows, keys or ITEM_METRICS, n_bootstrap, seed)
    verdict, group_verdicts = verdicts(items, scores, metrics, groups, headline)
    out: dict = {
        "headline": headline,
        "summary": list(summary or [headline]),
        "metrics": metrics,
        "groups": groups,
        "baselines": {"chance": _chance(items)},
        "info": {"items": len(items)},
        "items": rows,
    }
    if verdict is not None:
        out["verdict"], out["group_verdicts"] = verdict, group_verdicts
        out["info"]["calibration"] = {
            "method": "contextual calibration (Zhao et al. 2021)",
            "content_free": list(calibration.CONTENT_FREE),
        }
    return out


def write_results(path: str | Path, results: dict) -> None:
    atomic_write_json(path, results)


def load_results(path: str | Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a modelraising results file (format {data.get('format')!r}, want {FORMAT})")
    return data


# ------------------------------------------------------------------------------------------ compare


def _item_values(suite: dict, key: str) -> dict[str, float]:
    return {r["id"]: float(r[key]) for r in suite.get("items", []) if r.get(key) is not None}


def item_clusters(suite: dict) -> dict[str, str]:
    """Item id -> the cluster it is resampled with (itself unless the row names one)."""
    return {r["id"]: str(r.get("cluster", r["id"])) for r in suite.get("items", []) if "id" in r}


def diff(a_suite: dict, b_suite: dict, name: str, n_bootstrap: int = 1000, seed: int = 0) -> dict:
    """b - a for one metric: paired over shared items (resampling their clusters) when the metric is a
    per-item mean."""
    a, b = a_suite["metrics"].get(name), b_suite["metrics"].get(name)
    if a is None or b is None:
        return {"value": None, "ci": [None, None]}
    key = a.get("item_key")
    if key and key == b.get("item_key"):
        va, vb = _item_values(a_suite, key), _item_values(b_suite, key)
        shared = sorted(set(va) & set(vb))
        if shared and len(shared) >= 0.9 * max(len(va), len(vb)):
            clusters = item_clusters(a_suite)
            return paired_diff_ci(
                [va[i] for i in shared],
                [vb[i] for i in shared],
                n_bootstrap,
                seed,
                clusters=[clusters.get(i, i) for i in shared],
            )
        if va and vb:
            return unpaired_diff_ci(list(va.values()), list(vb.values()), n_bootstrap, seed)
    return approx_diff_ci(a, b)


def _fmt(m: dict | None, signed: bool = False) -> str:
    if not m or m.get("value") is None:
        return "-"
    sign = "+" if signed else ""
    lo, hi = m.get("ci", [None, None])
    ci = f" [{lo:{sign}.3f}, {hi:{sign}.3f}]" if lo is not None and hi is not None else ""
    star = "*" if signed and lo is not None and (lo > 0 or hi < 0) else ""
    return f"{m['value']:{sign}.3f}{ci}{star}"


def _rows(results: Sequence[dict], groups: bool) -> list[tuple[str, str, str | None]]:
    """(suite, metric, group) rows in a stable order: suites in pipeline order, their summary metrics."""
    rows: list[tuple[str, str, str | None]] = []
    seen = set()
    order = {name: i for i, name in enumerate(suite_names())}
    for res in results:
        for suite_name, suite in sorted(res["suites"].items(), key=lambda kv: order.get(kv[0], len(order))):
            for m in suite.get("summary", [suite.get("headline")]):
                if (suite_name, m, None) not in seen and m in suite.get("metrics", {}):
                    seen.add((suite_name, m, None))
                    rows.append((suite_name, m, None))
            if groups:
                for g in suite.get("groups", {}):
                    h = suite.get("headline")
                    if (suite_name, h, g) not in seen:
                        seen.add((suite_name, h, g))
                        rows.append((suite_name, h, g))
    return rows


def _labels(paths: Sequence[str | Path]) -> list[str]:
    """Short column names: the file stem, or its folder for results.json; numbered when repeated."""
    labels = [Path(p).stem if Path(p).stem != "results" else (Path(p).resolve().parent.name or str(p)) for p in paths]
    return [f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)]


def view_verdict(view: dict | None, metric_name: str) -> dict | None:
    """The verdict on ``metric_name`` of a suite or group view, when it is the view's headline."""
    if not view or not view.get("verdict") or view["verdict"].get("metric") != metric_name:
        return None
    return view["verdict"]


def _cell(view: dict | None, metric_name: str) -> str:
    """A value [CI], or 'degenerate' instead of a number that means nothing; '(at chance)' marked."""
    v = view_verdict(view, metric_name)
    if v and v.get("degenerate"):
        return "degenerate"
    text = _fmt(view["metrics"].get(metric_name) if view else None)
    return text + (" (at chance)" if v and v.get("at_chance") and text != "-" else "")


def compare_table(paths: Sequence[str | Path], groups: bool = False, n_bootstrap: int = 1000) -> Table:
    """Suites side by side: each model's value [95% CI], and each model minus the first [95% CI]
    (``*`` where that interval excludes 0). A degenerate headline is shown as 'degenerate' (and its
    differences as '-'); one whose interval includes chance is marked '(at chance)'."""
    results = [load_results(p) for p in paths]
    labels = _labels(paths)
    table = Table(
        title="modelraising eval --compare (value [95% CI]; diff = model - " + labels[0] + ")",
        title_justify="left",
        caption="degenerate: the model's answers do not depend on the item (results.json: verdict); "
        "(at chance): the 95% interval includes chance. Headlines are calibrated.",
        caption_justify="left",
    )
    table.add_column("suite")
    table.add_column("metric")
    for label in labels:
        table.add_column(label, justify="right")
    for label in labels[1:]:
        table.add_column(f"{label} - {labels[0]}", justify="right")
    for suite_name, m, group in _rows(results, groups):
        views = [_view(res, suite_name, group) for res in results]
        cells = [_cell(v, m) for v in views]
        degenerate = [bool((view_verdict(v, m) or {}).get("degenerate")) for v in views]
        diffs = [
            "-"
            if views[0] is None or v is None or degenerate[0] or bad
            else _fmt(diff(views[0], v, m, n_bootstrap), signed=True)
            for v, bad in zip(views[1:], degenerate[1:])
        ]
        table.add_row(
            suite_name if not group else f"  {suite_name}", m if not group else f"{m} ({group})", *cells, *diffs
        )
    return table


def _view(res: dict, suite_name: str, group: str | None) -> dict | None:
    """A suite, or one group of it, as {metrics, items} (so groups get paired diffs too)."""
    suite = res["suites"].get(suite_name)
    if suite is None or group is None:
        return suite
    if group not in suite.get("groups", {}):
        return None
    return {
        "metrics": suite["groups"][group],
        "items": [r for r in suite.get("items", []) if r.get("group") == group],
        "verdict": (suite.get("group_verdicts") or {}).get(group),
    }
