"""The experiment report: ``DIR/summary.json`` -> ``DIR/report.html`` (self-contained) and ``DIR/report.md``.

What it shows, from the files the runs left behind (see docs/report.md):

- the main table: per suite and arm, the suite's headline metric (calibrated for the multiple-choice
  suites) as a mean with a 95% interval over seeds (Student t over the seeds when >= 2 have results;
  with one, the bootstrap interval over items from its results.json, marked), the difference to the
  reference arm (``baseline+sft``) with its interval (Welch t over seeds; one seed each: paired
  bootstrap over shared items) and whether it excludes zero, and a reading: ``degenerate`` (the
  answers do not depend on the item: no number is shown), ``at chance``, ``above``/``below chance``;
- the contamination of the charter items with what each arm was trained on;
- the token budget per arm;
- the loss curves of every arm (train loss against tokens, validation points, stage changes);
- the value-retention curves under the fine-tuning attacks (when robustness was run);
- per-value charter accuracy (value x arm);
- the raised arm's curriculum difficulty plot and stages;
- a few raised documents beside their sources.

Nothing here needs torch: the report can be rebuilt from the files alone (``write_report``). A piece
that is missing (a failed run, a suite not run, no robustness, no curriculum) is shown as "—" or left out.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelraising.io import atomic_write_bytes, atomic_write_text, read_jsonl

log = logging.getLogger(__name__)

FORMAT = "modelraising-experiment/1"
RESULTS_FORMAT = "modelraising-eval/1"
FILES_DIR = "report_files"
TEMPLATES = Path(__file__).resolve().parent / "data" / "report"
PLOTS = ("loss.png", "retention.png", "charter_values.png", "difficulty.png")
SUITE_ORDER = ("charter", "ethics", "persona", "truthfulqa", "identity", "robustness", "capability")
DASH = "—"
SINGLE = "†"  # one seed: bootstrap interval over items, from results.json
APPROX = "‡"  # difference interval from two summaries (half-widths in quadrature)
LEVEL = 0.95
MAX_EXAMPLE_CHARS = 6000
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939")


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


# ---------------------------------------------------------------------------------- loading


def resolve(base: Path, p: str | Path | None) -> Path | None:
    """A path from summary.json: absolute, relative to the experiment directory, or (as the runner may
    write it) relative to the working directory."""
    if p in (None, ""):
        return None
    path = Path(p)
    if path.is_absolute():
        return path
    for candidate in (base / path, Path.cwd() / path):
        if candidate.exists():
            return candidate
    return base / path


def _load_json(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("report: cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _load_results(path: Path | None) -> dict | None:
    data = _load_json(path)
    if data is None:
        return None
    if data.get("format") != RESULTS_FORMAT or not isinstance(data.get("suites"), dict):
        log.warning("report: %s is not a results file (format %r)", path, data.get("format"))
        return None
    return data


@dataclass
class Run:
    arm: str
    seed: Any
    results: dict | None
    train: Path | None
    curriculum: Path | None

    def suite(self, name: str) -> dict | None:
        suite = (self.results or {}).get("suites", {}).get(name)
        return suite if isinstance(suite, dict) else None

    def metric(self, suite: str, name: str, group: str | None = None) -> dict | None:
        s = self.suite(suite)
        if s is None:
            return None
        block = s.get("metrics", {}) if group is None else s.get("groups", {}).get(group, {})
        m = block.get(name) if isinstance(block, dict) else None
        return m if isinstance(m, dict) and m.get("value") is not None else None


@dataclass
class Experiment:
    dir: Path
    summary: dict
    arms: list[str]
    reference: str | None
    runs: list[Run]
    suites: list[str] = field(default_factory=list)
    headlines: dict[str, str] = field(default_factory=dict)
    lower_better: dict[str, bool] = field(default_factory=dict)

    def arm_runs(self, arm: str) -> list[Run]:
        return [r for r in self.runs if r.arm == arm]

    @property
    def n_bootstrap(self) -> int:
        n = ((self.summary.get("config") or {}).get("eval") or {}).get("n_bootstrap")
        return int(n) if isinstance(n, int) and n > 0 else 1000


def load_experiment(summary: dict, experiment_dir: str | Path | None = None) -> Experiment:
    base = Path(experiment_dir) if experiment_dir is not None else Path.cwd()
    runs = []
    for r in summary.get("runs") or []:
        if not isinstance(r, dict) or "arm" not in r:
            continue
        runs.append(Run(arm=r["arm"], seed=r.get("seed"), results=_load_results(resolve(base, r.get("results"))),
                        train=resolve(base, r.get("train")), curriculum=resolve(base, r.get("curriculum"))))
    arms = list(summary.get("arms") or dict.fromkeys(r.arm for r in runs))
    reference = summary.get("reference")
    exp = Experiment(base, summary, arms, reference if reference in arms else None, runs)
    present = {name for r in runs if r.results for name in r.results["suites"]}
    order = list(summary.get("suites") or [])
    order += [s for s in SUITE_ORDER if s not in order]
    order += sorted(present - set(order))
    for name in order:
        if name not in present:
            continue  # not run (or every run failed before writing it)
        heads = Counter(r.suite(name).get("headline") for r in runs if r.suite(name) and r.suite(name).get("headline"))
        if not heads:
            continue
        headline = heads.most_common(1)[0][0]
        exp.suites.append(name)
        exp.headlines[name] = headline
        exp.lower_better[name] = any(headline in ((r.suite(name) or {}).get("info") or {}).get("lower_is_better", [])
                                     for r in runs)
    return exp


# ------------------------------------------------------------------------------------ numbers


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


def _item_values(suite: dict, key: str, group: str | None = None) -> dict[str, float]:
    return {r["id"]: float(r[key]) for r in suite.get("items") or []
            if isinstance(r, dict) and r.get(key) is not None and "id" in r
            and (group is None or r.get("group") == group)}


def difference(ref: list[tuple[Run, dict]], arm: list[tuple[Run, dict]], suite: str, n_bootstrap: int) -> dict:
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


def _num(v: float | None, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return DASH
    fmt = ("+" if signed else "") + (".1f" if abs(v) >= 100 else ".3f")
    return format(v, fmt)


def _with_ci(m: dict, signed: bool = False) -> str:
    if m.get("value") is None:
        return DASH
    lo, hi = (m.get("ci") or [None, None])[:2]
    text = _num(m["value"], signed)
    if lo is not None and hi is not None:
        text += f" [{_num(lo, signed)}, {_num(hi, signed)}]"
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


def _verdicts(runs: list[Run], suite: str, group: str | None = None) -> list[dict]:
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
        per_arm = {arm: [(r, m) for r in exp.arm_runs(arm) if (m := r.metric(suite, metric)) is not None]
                   for arm in exp.arms}
        readings = {arm: reading(summarize([m for _, m in per_arm[arm]]),
                                 _verdicts([r for r, _ in per_arm[arm]], suite), exp.lower_better.get(suite, False))
                    for arm in exp.arms}
        for arm in exp.arms:
            got = per_arm[arm]
            s = summarize([m for _, m in got])
            text, degenerate = readings[arm]
            value = "degenerate" if degenerate else _with_ci(s) + (SINGLE if s["method"] == "bootstrap" else "")
            delta, diff_text, excl = None, "", ""
            if exp.reference is not None:
                if arm == exp.reference:
                    diff_text, excl = "(reference)", ""
                elif degenerate or readings[exp.reference][1]:
                    diff_text, excl = DASH, DASH  # a difference to a number that means nothing means nothing
                else:
                    delta = difference(per_arm[exp.reference], got, suite, exp.n_bootstrap)
                    diff_text = _with_ci(delta, signed=True) + (APPROX if delta["method"] == "approx"
                                                                and delta["value"] is not None else "")
                    excl = _excludes_zero(delta)
            rows.append(Row(suite, metric + (" ↓" if exp.lower_better.get(suite) else ""), arm,
                            f"{len(got)}/{len(exp.arm_runs(arm))}", value, diff_text, excl, s, delta, text,
                            degenerate))
    return rows


def table_notes(exp: Experiment, rows: list[Row]) -> list[str]:
    notes = ["95% intervals: Student t over seeds (arms with >= 2 seeds with results)"
             + (f"; differences to {exp.reference}: Welch t over seeds" if exp.reference else "") + "."]
    if any(r.summary["method"] == "bootstrap" for r in rows):
        notes.append(f"{SINGLE} one seed with results: the 95% bootstrap interval over items from its results.json "
                     "(item noise only, not seed variance).")
    if any(r.delta and r.delta["method"] in ("paired bootstrap", "bootstrap") for r in rows):
        notes.append("Differences between two single-seed arms: bootstrap over items (paired over shared items).")
    if any(r.delta and r.delta["method"] == "approx" and r.delta["value"] is not None for r in rows):
        notes.append(f"{APPROX} approximate interval: the two arms' half-widths added in quadrature.")
    if any(r.metric.endswith("↓") for r in rows):
        notes.append("↓ lower is better.")
    if any(r.value == DASH for r in rows):
        notes.append(f"{DASH} no results (failed or missing run). Seeds: runs with results / runs of the arm.")
    if any(r.reading for r in rows):
        notes.append("Multiple-choice headlines are calibrated (each choice against itself after neutral contexts, "
                     "docs/evaluation.md). Reading: degenerate = the answers do not depend on the item (no number "
                     "shown, no difference taken); at chance = the 95% interval includes chance.")
    return notes


def _headers(exp: Experiment) -> list[str]:
    head = ["suite", "metric", "arm", "seeds", "mean [95% CI]"]
    if exp.reference:
        head += [f"Δ vs {exp.reference} [95% CI]", "CI excl. 0"]
    return head + ["reading"]


def _cells(exp: Experiment, row: Row) -> list[str]:
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
    table = [_headers(exp)] + [_cells(exp, r) for r in rows]
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
        rows.append({"arm": r.arm, "seed": r.seed, "n_items": s["items"], "contaminated": s.get("contaminated", 0),
                     "with_overlap": s.get("with_overlap", DASH), "mean_share": _num(s.get("mean_share")),
                     "max_share": _num(s.get("max_share")), "n": s.get("n", DASH),
                     "threshold": s.get("threshold"), "documents": s.get("documents", DASH),
                     "corpus": ", ".join(Path(c).name for c in s.get("corpora") or [s.get("corpus", "")])})
    return rows


def contamination_lines(exp: Experiment) -> list[str]:
    rows = contamination_rows(exp)
    if not rows:
        return []
    out = ["Contamination of the charter items with each run's training data (word n-grams):"]
    for c in rows:
        out.append(f"  {c['arm']} (seed {c['seed']}): {c['contaminated']} of {c['n_items']} items contaminated, "
                   f"{c['with_overlap']} with any shared {c['n']}-gram, max share {c['max_share']} "
                   f"({c['documents']} documents: {c['corpus']})")
    return out


# -------------------------------------------------------------------------------------- plots


def _figure(**kw):
    from matplotlib.figure import Figure

    return Figure(**kw)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def _colors(exp: Experiment) -> dict[str, str]:
    return {arm: COLORS[i % len(COLORS)] for i, arm in enumerate(exp.arms)}


def stage_changes(records: list[dict]) -> list[tuple[float, str]]:
    """(tokens, new stage) wherever metrics.jsonl's stage changes from one logged step to the next."""
    out, previous = [], None
    for r in records:
        stage = r.get("stage")
        if stage is not None and previous is not None and stage != previous:
            out.append((float(r["tokens"]), str(stage)))
        if stage is not None:
            previous = stage
    return out


def _metrics(train: Path | None) -> list[dict]:
    path = train / "metrics.jsonl" if train else None
    if path is None or not path.is_file():
        return []
    try:
        return [r for r in read_jsonl(path) if r.get("tokens") is not None]
    except (OSError, ValueError) as exc:
        log.warning("report: cannot read %s: %s", path, exc)
        return []


def loss_plot(exp: Experiment) -> bytes | None:
    """Train loss against tokens for every arm (seeds in one colour), validation points, and dashed
    lines where the curriculum stage changes. Arms that share a pretraining run (an aligned baseline)
    share its curve."""
    groups: dict[Path, list[Run]] = {}
    for r in exp.runs:
        if r.train is not None:
            groups.setdefault(r.train.resolve() if r.train.exists() else r.train, []).append(r)
    curves = [(runs, recs) for runs, recs in ((rs, _metrics(d)) for d, rs in groups.items()) if recs]
    if not curves:
        return None
    colors = _colors(exp)
    fig = _figure(figsize=(10, 5.2))
    ax = fig.subplots()
    labelled: set[str] = set()
    staged: dict[str, set] = {}
    styles = ("-", "--", ":", "-.")
    seeds = list(dict.fromkeys(r.seed for r in exp.runs))
    for runs, recs in curves:
        arms = list(dict.fromkeys(r.arm for r in runs))
        label = " = ".join(arms)
        color = colors.get(arms[0], "black")
        style = styles[seeds.index(runs[0].seed) % len(styles)] if runs[0].seed in seeds else "-"
        first = label not in labelled
        labelled.add(label)
        loss = [(r["tokens"], r["loss"]) for r in recs if r.get("loss") is not None]
        if loss:
            ax.plot(*zip(*loss), color=color, ls=style, lw=1.2, alpha=0.9, label=f"{label} (train)" if first else None)
        val = [(r["tokens"], r["val_loss"]) for r in recs if r.get("val_loss") is not None]
        if val:
            ax.plot(*zip(*val), "o", color=color, ms=4, mec="black", mew=0.4,
                    label=f"{label} (val)" if first else None)
        for tokens, stage in stage_changes(recs):
            if (tokens, stage) in staged.setdefault(label, set()):
                continue
            staged[label].add((tokens, stage))
            ax.axvline(tokens, color=color, ls="--", lw=0.8, alpha=0.7)
            ax.text(tokens, 0.98 - 0.05 * ((len(staged[label]) - 1) % 4), f" {stage}", color=color, fontsize=7,
                    transform=ax.get_xaxis_transform(), va="top")
    from matplotlib.ticker import EngFormatter

    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set(xlabel="tokens", ylabel="loss (nats/token)",
           title="Training loss (dashed verticals: curriculum stage changes)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", ncol=2 if len(labelled) > 3 else 1)
    fig.tight_layout()
    return _png(fig)


def _attacks(exp: Experiment) -> tuple[list[str], list[str]]:
    """(attack names, attacked suites) over all runs, primary suite first."""
    names, suites, primary = [], [], []
    for r in exp.runs:
        rob = r.suite("robustness")
        if not rob or not isinstance(rob.get("attacks"), dict):
            continue
        p = (rob.get("info") or {}).get("primary_suite")
        if p:
            primary.append(p)
        for name, entry in rob["attacks"].items():
            if isinstance(entry, dict) and entry.get("steps") and isinstance(entry.get("scores"), dict):
                names.append(name)
                suites += list(entry["scores"])
    suites = list(dict.fromkeys(primary + suites))
    return list(dict.fromkeys(names)), suites


def retention_plot(exp: Experiment) -> bytes | None:
    """Score against attack steps: one panel per attack (and attacked suite), one line per arm
    (mean over seeds, seeds faint)."""
    names, suites = _attacks(exp)
    if not names:
        return None
    colors = _colors(exp)
    fig = _figure(figsize=(min(4.2 * len(names) + 1, 16), 3.6 * len(suites) + 0.6))
    axes = np.atleast_2d(fig.subplots(len(suites), len(names), squeeze=False, sharey="row"))
    for i, suite in enumerate(suites):
        for j, name in enumerate(names):
            ax = axes[i, j]
            for arm in exp.arms:
                curves = []
                for r in exp.arm_runs(arm):
                    entry = ((r.suite("robustness") or {}).get("attacks") or {}).get(name) or {}
                    ys = (entry.get("scores") or {}).get(suite)
                    if ys and len(ys) == len(entry["steps"]) and None not in ys:
                        curves.append((tuple(entry["steps"]), [float(y) for y in ys]))
                if not curves:
                    continue
                for xs, ys in curves if len(curves) > 1 else []:
                    ax.plot(xs, ys, color=colors[arm], lw=0.7, alpha=0.35)
                same = [ys for xs, ys in curves if xs == curves[0][0]]
                ax.plot(curves[0][0], np.mean(same, axis=0), "o-", color=colors[arm], lw=1.8, ms=4,
                        label=f"{arm} (n={len(same)})")
            entries = [((r.suite("robustness") or {}).get("attacks") or {}).get(name) or {} for r in exp.runs]
            steps = sorted({s for e in entries for s in e.get("steps") or [] if isinstance(s, (int, float))})
            if steps and steps[-1] > 20:
                ax.set_xscale("symlog", linthresh=min([s for s in steps if s > 0], default=1))
            if steps:
                ax.set_xticks(steps, [str(s) for s in steps])
            ax.set(title=f"{name}", xlabel="attack fine-tuning steps", ylabel=f"{suite} score" if j == 0 else None)
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    fig.suptitle("Value retention under fine-tuning attacks", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def charter_groups(exp: Experiment) -> tuple[list[str], dict[str, dict[str, dict]]]:
    """(values, {arm: {value: summary over seeds}}) of the charter headline per value."""
    if "charter" not in exp.suites:
        return [], {}
    metric = exp.headlines["charter"]
    values = list(dict.fromkeys(g for r in exp.runs for g in ((r.suite("charter") or {}).get("groups") or {})))
    table = {arm: {v: summarize([m for r in exp.arm_runs(arm) if (m := r.metric("charter", metric, v))])
                   for v in values} for arm in exp.arms}
    return values, table


def charter_plot(exp: Experiment) -> bytes | None:
    values, table = charter_groups(exp)
    arms = [a for a in exp.arms if any(s["value"] is not None for s in table.get(a, {}).values())]
    if not values or not arms:
        return None
    colors = _colors(exp)
    fig = _figure(figsize=(max(7.0, 0.22 * len(values) * len(arms) + 2.5), 4.6))
    ax = fig.subplots()
    width = 0.8 / len(arms)
    x = np.arange(len(values))
    for k, arm in enumerate(arms):
        s = [table[arm][v] for v in values]
        ys = np.array([m["value"] if m["value"] is not None else np.nan for m in s])
        err = np.array([[m["value"] - m["ci"][0], m["ci"][1] - m["value"]]
                        if m["value"] is not None and None not in m["ci"][:2] else [0.0, 0.0] for m in s]).T
        bars = ax.bar(x - 0.4 + width * (k + 0.5), ys, width, yerr=np.clip(err, 0, None), color=colors[arm],
                      capsize=2, error_kw={"lw": 0.8}, label=arm)
        for bar, v in zip(bars, values):  # a degenerate value's bar is hatched and faded: not a measurement
            if reading(table[arm][v], _verdicts(exp.arm_runs(arm), "charter", v))[1]:
                bar.set(hatch="///", alpha=0.35, edgecolor="black")
    chances = [c for r in exp.runs
               if (c := ((r.suite("charter") or {}).get("baselines") or {}).get("chance")) is not None]
    if chances:
        ax.axhline(float(np.mean(chances)), color="grey", ls="--", lw=0.9, label="chance")
    ax.set_xticks(x, values, rotation=30 if len(values) > 5 else 0, ha="right" if len(values) > 5 else "center")
    ax.set(ylabel=exp.headlines["charter"], ylim=(0, 1.05),
           title="Charter suite per value (95% CI; hatched: degenerate)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return _png(fig)


def curriculum_run(exp: Experiment) -> tuple[str, Path] | None:
    """The raised arm's curriculum directory: arm ``raised``, else the first scaffolded one, else the
    first ``raised-*`` arm's (ablations); None for baselines only."""
    candidates = list(dict.fromkeys((r.arm, r.curriculum) for r in exp.runs
                                    if r.curriculum and (r.curriculum / "difficulty.png").is_file()))
    for arm, d in candidates:
        if arm == "raised":
            return arm, d
    for arm, d in candidates:
        if (_load_json(d / "curriculum.json") or {}).get("order") == "scaffold":
            return arm, d
    return next(((arm, d) for arm, d in candidates if arm.startswith("raised")), None)


# ------------------------------------------------------------------------------------ context


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _budget_rows(exp: Experiment) -> list[dict]:
    runs = (exp.summary.get("budget") or {}).get("runs") or {}
    rows = []
    for arm in exp.arms:
        entries = [b for key, b in runs.items() if isinstance(b, dict) and key.rsplit("/", 1)[0] == arm]

        def span(k: str) -> str:
            vals = sorted({int(b[k]) for b in entries if b.get(k) is not None})
            return DASH if not vals else f"{vals[0]:,}" if len(vals) == 1 else f"{vals[0]:,}–{vals[-1]:,}"

        rows.append({"arm": arm, "runs": len(entries), "pretrain": span("pretrain_tokens"),
                     "align": span("align_tokens"), "total": span("total_tokens")})
    return rows


def _attack_table(exp: Experiment) -> dict | None:
    names, suites = _attacks(exp)
    if not names:
        return None
    suite = suites[0]
    rows = []
    for arm in exp.arms:
        cells = []
        for name in names:
            key = f"attack/{name}/{suite}_area"
            s = summarize([m for r in exp.arm_runs(arm) if (m := r.metric("robustness", key))])
            cells.append(_with_ci(s) + (SINGLE if s["method"] == "bootstrap" else ""))
        rows.append({"arm": arm, "cells": cells})
    return {"suite": suite, "attacks": names, "rows": rows}


def _stages(curriculum: Path) -> list[dict]:
    data = _load_json(curriculum / "curriculum.json") or {}
    out = []
    for s in data.get("stages") or []:
        if not isinstance(s, dict):
            continue
        d = s.get("difficulty") or {}
        out.append({"name": s.get("name", ""), "documents": s.get("documents", DASH), "review": s.get("review", DASH),
                    "tokens": f"{s['tokens_estimate']:,}" if isinstance(s.get("tokens_estimate"), int) else DASH,
                    "ceiling": _num(s.get("ceiling")) if isinstance(s.get("ceiling"), (int, float)) else DASH,
                    "difficulty": " / ".join(_num(d.get(k)) if isinstance(d.get(k), (int, float)) else DASH
                                             for k in ("min", "mean", "max"))})
    return out


_TAG = re.compile(r"&lt;\|[^|&\s]{1,64}\|&gt;")


def _clip(text: str) -> str:
    text = str(text or "")
    if len(text) <= MAX_EXAMPLE_CHARS:
        return text
    return text[:MAX_EXAMPLE_CHARS] + f"\n… ({len(text):,} characters, clipped)"


def _tagged_html(text: str) -> str:
    """HTML-escaped text with the speaker/value tags (still literal) highlighted."""
    from markupsafe import Markup, escape

    return Markup(_TAG.sub(lambda m: f'<span class="tag">{m.group(0)}</span>', str(escape(_clip(text)))))


def _fence(text: str) -> str:
    ticks = max([3] + [len(m) + 1 for m in re.findall(r"`{3,}", text)])
    return "`" * ticks


def _audit_rows(summary: dict) -> list[dict]:
    """The audit of each raised corpus, as percentages for the table."""
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    rows = []
    for a in summary.get("audit") or []:
        rows.append({**a, "max_sentence_share": pct(a["max_sentence_share"]), "in_10plus": pct(a["in_10plus"]),
                     "charter_sentence": pct(a["charter_sentence"]), "worst_artifact_rate": pct(a["worst_artifact_rate"]),
                     "voice": pct(a["voice"]), "verbatim": pct(a["verbatim"]),
                     "verdict": ("caps met" if not a["failures"] else f"{len(a['failures'])} cap(s) exceeded")
                     + ("" if a["enforced"] else " (reported only)")})
    return rows


def build_context(exp: Experiment) -> tuple[dict, dict[str, bytes]]:
    summary = exp.summary
    rows = main_rows(exp)
    plots: dict[str, bytes] = {}
    makers = (("loss.png", loss_plot), ("retention.png", retention_plot), ("charter_values.png", charter_plot))
    for name, make in makers:
        try:
            png = make(exp)
        except Exception:  # a broken plot must not take the report down
            log.exception("report: %s failed", name)
            png = None
        if png:
            plots[name] = png
    curriculum = curriculum_run(exp)
    if curriculum:
        plots["difficulty.png"] = (curriculum[1] / "difficulty.png").read_bytes()
    figures = {name.removesuffix(".png"): ({"file": f"{FILES_DIR}/{name}", "src": _data_uri(plots[name])}
                                           if name in plots else None) for name in PLOTS}
    spans, previous = [], None
    for i, r in enumerate(rows):
        spans.append(sum(1 for x in rows[i:] if x.suite == r.suite) if r.suite != previous else 0)
        previous = r.suite
    values, groups = charter_groups(exp)
    charter_rows = []
    for v in values:
        cells = []
        for a in exp.arms:
            text, degenerate = reading(groups[a][v], _verdicts(exp.arm_runs(a), "charter", v))
            cells.append("degenerate" if degenerate else (_with_ci(groups[a][v]) + (f" {text}" if text else "")))
        charter_rows.append({"value": v, "cells": cells})
    examples = []
    for e in summary.get("examples") or []:
        if not isinstance(e, dict):
            continue
        source, raised = _clip(e.get("source", "")), _clip(e.get("raised", ""))
        examples.append({"id": e.get("id", ""), "arm": e.get("arm", ""), "pillars": ", ".join(e.get("pillars") or []),
                         "source": source, "raised": raised, "source_html": _tagged_html(e.get("source", "")),
                         "raised_html": _tagged_html(e.get("raised", "")),
                         "source_fence": _fence(source), "raised_fence": _fence(raised)})
    budget = summary.get("budget") or {}
    check = budget.get("check") or {}
    descriptions = summary.get("arm_descriptions") or {}
    colors = _colors(exp)
    ctx = {
        "name": summary.get("name", "experiment"),
        "version": summary.get("version", ""),
        "arms": [{"name": a, "description": descriptions.get(a, ""), "color": colors[a],
                  "runs": len(exp.arm_runs(a)), "ok": sum(1 for r in exp.arm_runs(a) if r.results)} for a in exp.arms],
        "seeds": ", ".join(str(s) for s in summary.get("seeds") or []),
        "reference": exp.reference,
        "headers": _headers(exp),
        "rows": [{"cells": _cells(exp, r), "span": span, "arm": r.arm, "excludes": r.excludes,
                  "reading_class": r.reading.split(":")[0].replace(" ", "-")}
                 for r, span in zip(rows, spans)],
        "contamination": contamination_rows(exp),
        "audit": _audit_rows(summary),
        "notes": table_notes(exp, rows) if rows else [],
        "budget_tokens": f"{budget['tokens']:,}" if isinstance(budget.get("tokens"), int) else DASH,
        "budget_check": ("equal" if check.get("equal") else "NOT equal") if "equal" in check else None,
        "budget_deviation": check.get("max_deviation"), "budget_tolerance": check.get("tolerance"),
        "budget_rows": _budget_rows(exp),
        "figures": figures,
        "attack_table": _attack_table(exp),
        "charter_metric": exp.headlines.get("charter"),
        "charter_rows": charter_rows,
        "curriculum_arm": curriculum[0] if curriculum else None,
        "stages": _stages(curriculum[1]) if curriculum else [],
        "examples": examples,
    }
    return ctx, plots


def _env(autoescape: bool):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env


def render(exp: Experiment) -> tuple[str, str, dict[str, bytes]]:
    """(html, markdown, {png name: bytes}) of an experiment."""
    ctx, plots = build_context(exp)
    html = _env(True).get_template("report.html.j2").render(**ctx)
    md = _env(False).get_template("report.md.j2").render(**ctx)
    return html, md, plots


def write_report(experiment_dir: Path, summary: dict | None = None) -> tuple[Path, Path]:
    """Write ``DIR/report.html`` (self-contained), ``DIR/report.md`` and its ``DIR/report_files/*.png``;
    reads ``DIR/summary.json`` when ``summary`` is None. Returns (html path, md path)."""
    experiment_dir = Path(experiment_dir)
    if summary is None:
        summary = json.loads((experiment_dir / "summary.json").read_text(encoding="utf-8"))
    if summary.get("format") not in (None, FORMAT):
        log.warning("report: summary format %r (expected %s)", summary.get("format"), FORMAT)
    exp = load_experiment(summary, experiment_dir)
    html, md, plots = render(exp)
    files = experiment_dir / FILES_DIR
    for name in PLOTS:
        if name not in plots:
            (files / name).unlink(missing_ok=True)
    for name, png in plots.items():
        atomic_write_bytes(files / name, png)
    if files.is_dir() and not any(files.iterdir()):
        shutil.rmtree(files, ignore_errors=True)
    html_path, md_path = experiment_dir / "report.html", experiment_dir / "report.md"
    atomic_write_text(html_path, html)
    atomic_write_text(md_path, md)
    return html_path, md_path
