"""The report's numbers: the main table (headline per suite and arm, difference to the reference, reading)
and contamination."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from modelraising.report.load import Experiment, SeedRun, load_experiment
from modelraising.report.stats import summarize, welch_interval

log = logging.getLogger(__name__)


DASH = "—"
SINGLE = "†"  # one seed: bootstrap interval over items, from results.json
APPROX = "‡"  # difference interval from two summaries (half-widths in quadrature)


def _item_values(suite: dict, key: str, group: str | None = None) -> dict[str, float]:
    return {
        r["id"]: float(r[key])
        for r in suite.get("items") or []
        if isinstance(r, dict) and r.get(key) is not None and "id" in r and (group is None or r.get("group") == group)
    }


def difference(ref: list[tuple[SeedRun, dict]], arm: list[tuple[SeedRun, dict]], suite: str, n_bootstrap: int) -> dict:
    """arm - reference: Welch over seeds when both have >= 2; one seed each: bootstrap over items (paired
    where the items are shared); otherwise the two intervals' half-widths in quadrature (marked approx)."""
    from modelraising.evaluate.stats import approx_diff_ci, paired_diff_ci, unpaired_diff_ci

    if not ref or not arm:
        return {"value": None, "ci": [None, None], "method": None}
    if len(ref) >= 2 and len(arm) >= 2:
        return welch_interval([m["value"] for _, m in ref], [m["value"] for _, m in arm])
    if len(ref) == 1 and len(arm) == 1:
        (ra, ma), (rb, mb) = ref[0], arm[0]
        key = ma.get("item_key")
        if key and key == mb.get("item_key"):
            va, vb = _item_values(ra.suite(suite) or {}, key), _item_values(rb.suite(suite) or {}, key)
            shared = sorted(set(va) & set(vb))
            if shared and len(shared) >= 0.9 * max(len(va), len(vb)):
                out = paired_diff_ci([va[i] for i in shared], [vb[i] for i in shared], n_bootstrap, 0)
                return {"value": out["value"], "ci": out["ci"], "method": "paired bootstrap"}
            if va and vb:
                out = unpaired_diff_ci(list(va.values()), list(vb.values()), n_bootstrap, 0)
                return {"value": out["value"], "ci": out["ci"], "method": "bootstrap"}
    a, b = summarize([m for _, m in ref]), summarize([m for _, m in arm])
    if None in (a["ci"][0], a["ci"][1], b["ci"][0], b["ci"][1]):
        return {"value": b["value"] - a["value"], "ci": [None, None], "method": "approx"}
    out = approx_diff_ci(a, b)
    return {"value": out["value"], "ci": out["ci"], "method": "approx"}


def fmt_num(v: float | None, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return DASH
    fmt = ("+" if signed else "") + (".1f" if abs(v) >= 100 else ".3f")
    return format(v, fmt)


def with_ci(m: dict, signed: bool = False) -> str:
    if m.get("value") is None:
        return DASH
    lo, hi = (m.get("ci") or [None, None])[:2]
    text = fmt_num(m["value"], signed)
    if lo is not None and hi is not None:
        text += f" [{fmt_num(lo, signed)}, {fmt_num(hi, signed)}]"
    return text


def _excludes_zero(d: dict) -> str:
    lo, hi = (d.get("ci") or [None, None])[:2]
    if d.get("value") is None or lo is None or hi is None:
        return DASH
    return "yes" if lo > 0 or hi < 0 else "no"


@dataclass
class Row:
    suite: str
    metric: str
    arm: str
    seeds: str
    value: str
    diff: str
    excludes: str
    summary: dict
    delta: dict | None
    reading: str = ""
    degenerate: bool = False


def arm_verdicts(runs: list[SeedRun], suite: str, group: str | None = None) -> list[dict]:
    out = []
    for r in runs:
        s = r.suite(suite) or {}
        v = s.get("verdict") if group is None else (s.get("group_verdicts") or {}).get(group)
        if isinstance(v, dict):
            out.append(v)
    return out


def reading(summary: dict, verdicts: list[dict], lower_is_better: bool = False) -> tuple[str, bool]:
    """(reading, degenerate) of one arm's headline over its seeds: degenerate when every seed with a
    verdict is; otherwise chance against the interval over seeds (and how many seeds were degenerate)."""
    from modelraising.evaluate.calibration import reading as read

    if not verdicts:
        return "", False
    bad = [v for v in verdicts if v.get("degenerate")]
    if len(bad) == len(verdicts):
        reasons = bad[0].get("reasons") or []
        return "degenerate" + (f": {reasons[0]}" if reasons else ""), True
    chances = [v["chance"] for v in verdicts if isinstance(v.get("chance"), (int, float))]
    text = read(summary, sum(chances) / len(chances) if chances else None, False, lower_is_better)
    if bad:
        some = f"{len(bad)}/{len(verdicts)} seeds degenerate"
        text = f"{text}; {some}" if text else some
    return text, False


def main_rows(exp: Experiment) -> list[Row]:
    rows = []
    for suite in exp.suites:
        metric = exp.headlines[suite]
        per_arm = {
            arm: [(r, m) for r in exp.arm_runs(arm) if (m := r.metric(suite, metric)) is not None] for arm in exp.arms
        }
        readings = {
            arm: reading(
                summarize([m for _, m in per_arm[arm]]),
                arm_verdicts([r for r, _ in per_arm[arm]], suite),
                exp.lower_better.get(suite, False),
            )
            for arm in exp.arms
        }
        for arm in exp.arms:
            got = per_arm[arm]
            s = summarize([m for _, m in got])
            text, degenerate = readings[arm]
            value = "degenerate" if degenerate else with_ci(s) + (SINGLE if s["method"] == "bootstrap" else "")
            delta, diff_text, excl = None, "", ""
            if exp.reference is not None:
                if arm == exp.reference:
                    diff_text, excl = "(reference)", ""
                elif degenerate or readings[exp.reference][1]:
                    diff_text, excl = DASH, DASH  # a difference to a number that means nothing means nothing
                else:
                    delta = difference(per_arm[exp.reference], got, suite, exp.n_bootstrap)
                    diff_text = with_ci(delta, signed=True) + (
                        APPROX if delta["method"] == "approx" and delta["value"] is not None else ""
                    )
                    excl = _excludes_zero(delta)
            rows.append(
                Row(
                    suite,
                    metric + (" ↓" if exp.lower_better.get(suite) else ""),
                    arm,
                    f"{len(got)}/{len(exp.arm_runs(arm))}",
                    value,
                    diff_text,
                    excl,
                    s,
                    delta,
                    text,
                    degenerate,
                )
            )
    return rows


def table_notes(exp: Experiment, rows: list[Row]) -> list[str]:
    notes = [
        "95% intervals: Student t over seeds (arms with >= 2 seeds with results)"
        + (f"; differences to {exp.reference}: Welch t over seeds" if exp.reference else "")
        + "."
    ]
    if any(r.summary["method"] == "bootstrap" for r in rows):
        notes.append(
            f"{SINGLE} one seed with results: the 95% bootstrap interval over items from its results.json "
            "(item noise only, not seed variance)."
        )
    if any(r.delta and r.delta["method"] in ("paired bootstrap", "bootstrap") for r in rows):
        notes.append("Differences between two single-seed arms: bootstrap over items (paired over shared items).")
    if any(r.delta and r.delta["method"] == "approx" and r.delta["value"] is not None for r in rows):
        notes.append(f"{APPROX} approximate interval: the two arms' half-widths added in quadrature.")
    if any(r.metric.endswith("↓") for r in rows):
        notes.append("↓ lower is better.")
    if any(r.value == DASH for r in rows):
        notes.append(f"{DASH} no results (failed or missing run). Seeds: runs with results / runs of the arm.")
    if any(r.reading for r in rows):
        notes.append(
            "Multiple-choice headlines are calibrated (each choice against itself after neutral contexts, "
            "docs/evaluation.md). Reading: degenerate = the answers do not depend on the item (no number "
            "shown, no difference taken); at chance = the 95% interval includes chance."
        )
    return notes


def table_headers(exp: Experiment) -> list[str]:
    head = ["suite", "metric", "arm", "seeds", "mean [95% CI]"]
    if exp.reference:
        head += [f"Δ vs {exp.reference} [95% CI]", "CI excl. 0"]
    return head + ["reading"]


def table_cells(exp: Experiment, row: Row) -> list[str]:
    cells = [row.suite, row.metric, row.arm, row.seeds, row.value]
    return (cells + [row.diff, row.excludes] if exp.reference else cells) + [row.reading]


def main_table_text(summary: dict, experiment_dir: str | Path | None = None) -> str:
    """The main table as plain text for a terminal (paths in the summary are resolved against
    ``experiment_dir``, then the working directory)."""
    exp = load_experiment(summary, experiment_dir)
    rows = main_rows(exp)
    title = f"{summary.get('name', 'experiment')}: headline metric per suite and arm"
    if not rows:
        return f"{title}\n(no results)"
    table = [table_headers(exp)] + [table_cells(exp, r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    right = {3, 4, 5, 6}

    def fmt(line: list[str]) -> str:
        cells = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
        return "  ".join(cells).rstrip()

    out = [title, fmt(table[0]), "  ".join("-" * w for w in widths)]
    previous = None
    for r, line in zip(rows, table[1:]):
        if previous is not None and r.suite != previous:
            out.append("")
        previous = r.suite
        out.append(fmt(line))
    lines = contamination_lines(exp)
    return "\n".join(out + [""] + table_notes(exp, rows) + ([""] + lines if lines else []))


def contamination_rows(exp: Experiment) -> list[dict]:
    """Per run whose charter suite was checked: how many items share n-grams with its training data."""
    rows = []
    for r in exp.runs:
        s = ((r.suite("charter") or {}).get("contamination") or {}).get("summary")
        if not isinstance(s, dict) or "items" not in s:
            continue
        rows.append(
            {
                "arm": r.arm,
                "seed": r.seed,
                "n_items": s["items"],
                "contaminated": s.get("contaminated", 0),
                "with_overlap": s.get("with_overlap", DASH),
                "mean_share": fmt_num(s.get("mean_share")),
                "max_share": fmt_num(s.get("max_share")),
                "n": s.get("n", DASH),
                "threshold": s.get("threshold"),
                "documents": s.get("documents", DASH),
                "corpus": ", ".join(Path(c).name for c in s.get("corpora") or [s.get("corpus", "")]),
            }
        )
    return rows


def contamination_lines(exp: Experiment) -> list[str]:
    rows = contamination_rows(exp)
    if not rows:
        return []
    out = ["Contamination of the charter items with each run's training data (word n-grams):"]
    for c in rows:
        out.append(
            f"  {c['arm']} (seed {c['seed']}): {c['contaminated']} of {c['n_items']} items contaminated, "
            f"{c['with_overlap']} with any shared {c['n']}-gram, max share {c['max_share']} "
            f"({c['documents']} documents: {c['corpus']})"
        )
    return out
