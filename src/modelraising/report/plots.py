"""The report's plots: loss curves, value retention under attack, per-value charter accuracy."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from modelraising.io import read_jsonl
from modelraising.report.load import Experiment, SeedRun, load_json
from modelraising.report.stats import summarize
from modelraising.report.tables import arm_verdicts, reading

log = logging.getLogger(__name__)


PLOTS = ("loss.png", "retention.png", "charter_values.png", "difficulty.png")


COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
)


# -------------------------------------------------------------------------------------- plots


def _figure(**kw):
    from matplotlib.figure import Figure

    return Figure(**kw)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def arm_colors(exp: Experiment) -> dict[str, str]:
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
    groups: dict[Path, list[SeedRun]] = {}
    for r in exp.runs:
        if r.train is not None:
            groups.setdefault(r.train.resolve() if r.train.exists() else r.train, []).append(r)
    curves = [(runs, recs) for runs, recs in ((rs, _metrics(d)) for d, rs in groups.items()) if recs]
    if not curves:
        return None
    colors = arm_colors(exp)
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
            ax.plot(*zip(*val), "o", color=color, ms=4, mec="black", mew=0.4, label=f"{label} (val)" if first else None)
        for tokens, stage in stage_changes(recs):
            if (tokens, stage) in staged.setdefault(label, set()):
                continue
            staged[label].add((tokens, stage))
            ax.axvline(tokens, color=color, ls="--", lw=0.8, alpha=0.7)
            ax.text(
                tokens,
                0.98 - 0.05 * ((len(staged[label]) - 1) % 4),
                f" {stage}",
                color=color,
                fontsize=7,
                transform=ax.get_xaxis_transform(),
                va="top",
            )
    from matplotlib.ticker import EngFormatter

    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set(
        xlabel="tokens", ylabel="loss (nats/token)", title="Training loss (dashed verticals: curriculum stage changes)"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", ncol=2 if len(labelled) > 3 else 1)
    fig.tight_layout()
    return _png(fig)


def attack_names(exp: Experiment) -> tuple[list[str], list[str]]:
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
    names, suites = attack_names(exp)
    if not names:
        return None
    colors = arm_colors(exp)
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
                ax.plot(
                    curves[0][0],
                    np.mean(same, axis=0),
                    "o-",
                    color=colors[arm],
                    lw=1.8,
                    ms=4,
                    label=f"{arm} (n={len(same)})",
                )
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
    table = {
        arm: {v: summarize([m for r in exp.arm_runs(arm) if (m := r.metric("charter", metric, v))]) for v in values}
        for arm in exp.arms
    }
    return values, table


def charter_plot(exp: Experiment) -> bytes | None:
    values, table = charter_groups(exp)
    arms = [a for a in exp.arms if any(s["value"] is not None for s in table.get(a, {}).values())]
    if not values or not arms:
        return None
    colors = arm_colors(exp)
    fig = _figure(figsize=(max(7.0, 0.22 * len(values) * len(arms) + 2.5), 4.6))
    ax = fig.subplots()
    width = 0.8 / len(arms)
    x = np.arange(len(values))
    for k, arm in enumerate(arms):
        s = [table[arm][v] for v in values]
        ys = np.array([m["value"] if m["value"] is not None else np.nan for m in s])
        err = np.array(
            [
                [m["value"] - m["ci"][0], m["ci"][1] - m["value"]]
                if m["value"] is not None and None not in m["ci"][:2]
                else [0.0, 0.0]
                for m in s
            ]
        ).T
        bars = ax.bar(
            x - 0.4 + width * (k + 0.5),
            ys,
            width,
            yerr=np.clip(err, 0, None),
            color=colors[arm],
            capsize=2,
            error_kw={"lw": 0.8},
            label=arm,
        )
        for bar, v in zip(bars, values):  # a degenerate value's bar is hatched and faded: not a measurement
            if reading(table[arm][v], arm_verdicts(exp.arm_runs(arm), "charter", v))[1]:
                bar.set(hatch="///", alpha=0.35, edgecolor="black")
    chances = [
        c for r in exp.runs if (c := ((r.suite("charter") or {}).get("baselines") or {}).get("chance")) is not None
    ]
    if chances:
        ax.axhline(float(np.mean(chances)), color="grey", ls="--", lw=0.9, label="chance")
    ax.set_xticks(x, values, rotation=30 if len(values) > 5 else 0, ha="right" if len(values) > 5 else "center")
    ax.set(
        ylabel=exp.headlines["charter"], ylim=(0, 1.05), title="Charter suite per value (95% CI; hatched: degenerate)"
    )
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return _png(fig)


def curriculum_run(exp: Experiment) -> tuple[str, Path] | None:
    """The raised arm's curriculum directory: arm ``raised``, else the first scaffolded one, else the
    first ``raised-*`` arm's (ablations); None for baselines only."""
    candidates = list(
        dict.fromkeys(
            (r.arm, r.curriculum) for r in exp.runs if r.curriculum and (r.curriculum / "difficulty.png").is_file()
        )
    )
    for arm, d in candidates:
        if arm == "raised":
            return arm, d
    for arm, d in candidates:
        if (load_json(d / "curriculum.json") or {}).get("order") == "scaffold":
            return arm, d
    return next(((arm, d) for arm, d in candidates if arm.startswith("raised")), None)
