"""The report's context and rendering to report.html (self-contained) and report.md."""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
from pathlib import Path

from modelraising.io import atomic_write_bytes, atomic_write_text
from modelraising.report.load import FORMAT, Experiment, load_experiment, load_json
from modelraising.report.plots import (
    PLOTS,
    arm_colors,
    attack_names,
    charter_groups,
    charter_plot,
    curriculum_run,
    loss_plot,
    retention_plot,
)
from modelraising.report.stats import summarize
from modelraising.report.tables import (
    DASH,
    SINGLE,
    arm_verdicts,
    contamination_rows,
    fmt_num,
    main_rows,
    reading,
    table_cells,
    table_headers,
    table_notes,
    with_ci,
)

log = logging.getLogger(__name__)


FILES_DIR = "report_files"
TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "report"


MAX_EXAMPLE_CHARS = 6000


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

        rows.append(
            {
                "arm": arm,
                "runs": len(entries),
                "pretrain": span("pretrain_tokens"),
                "align": span("align_tokens"),
                "total": span("total_tokens"),
            }
        )
    return rows


def _attack_table(exp: Experiment) -> dict | None:
    names, suites = attack_names(exp)
    if not names:
        return None
    suite = suites[0]
    rows = []
    for arm in exp.arms:
        cells = []
        for name in names:
            key = f"attack/{name}/{suite}_area"
            s = summarize([m for r in exp.arm_runs(arm) if (m := r.metric("robustness", key))])
            cells.append(with_ci(s) + (SINGLE if s["method"] == "bootstrap" else ""))
        rows.append({"arm": arm, "cells": cells})
    return {"suite": suite, "attacks": names, "rows": rows}


def _stages(curriculum: Path) -> list[dict]:
    data = load_json(curriculum / "curriculum.json") or {}
    out = []
    for s in data.get("stages") or []:
        if not isinstance(s, dict):
            continue
        d = s.get("difficulty") or {}
        out.append(
            {
                "name": s.get("name", ""),
                "documents": s.get("documents", DASH),
                "review": s.get("review", DASH),
                "tokens": f"{s['tokens_estimate']:,}" if isinstance(s.get("tokens_estimate"), int) else DASH,
                "ceiling": fmt_num(s.get("ceiling")) if isinstance(s.get("ceiling"), (int, float)) else DASH,
                "difficulty": " / ".join(
                    fmt_num(d.get(k)) if isinstance(d.get(k), (int, float)) else DASH for k in ("min", "mean", "max")
                ),
            }
        )
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
        rows.append(
            {
                **a,
                "max_sentence_share": pct(a["max_sentence_share"]),
                "in_10plus": pct(a["in_10plus"]),
                "charter_sentence": pct(a["charter_sentence"]),
                "worst_artifact_rate": pct(a["worst_artifact_rate"]),
                "voice": pct(a["voice"]),
                "verbatim": pct(a["verbatim"]),
                "verdict": ("caps met" if not a["failures"] else f"{len(a['failures'])} cap(s) exceeded")
                + ("" if a["enforced"] else " (reported only)"),
            }
        )
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
    figures = {
        name.removesuffix(".png"): (
            {"file": f"{FILES_DIR}/{name}", "src": _data_uri(plots[name])} if name in plots else None
        )
        for name in PLOTS
    }
    spans, previous = [], None
    for i, r in enumerate(rows):
        spans.append(sum(1 for x in rows[i:] if x.suite == r.suite) if r.suite != previous else 0)
        previous = r.suite
    values, groups = charter_groups(exp)
    charter_rows = []
    for v in values:
        cells = []
        for a in exp.arms:
            text, degenerate = reading(groups[a][v], arm_verdicts(exp.arm_runs(a), "charter", v))
            cells.append("degenerate" if degenerate else (with_ci(groups[a][v]) + (f" {text}" if text else "")))
        charter_rows.append({"value": v, "cells": cells})
    examples = []
    for e in summary.get("examples") or []:
        if not isinstance(e, dict):
            continue
        source, raised = _clip(e.get("source", "")), _clip(e.get("raised", ""))
        examples.append(
            {
                "id": e.get("id", ""),
                "arm": e.get("arm", ""),
                "pillars": ", ".join(e.get("pillars") or []),
                "source": source,
                "raised": raised,
                "source_html": _tagged_html(e.get("source", "")),
                "raised_html": _tagged_html(e.get("raised", "")),
                "source_fence": _fence(source),
                "raised_fence": _fence(raised),
            }
        )
    budget = summary.get("budget") or {}
    check = budget.get("check") or {}
    descriptions = summary.get("arm_descriptions") or {}
    colors = arm_colors(exp)
    ctx = {
        "name": summary.get("name", "experiment"),
        "version": summary.get("version", ""),
        "arms": [
            {
                "name": a,
                "description": descriptions.get(a, ""),
                "color": colors[a],
                "runs": len(exp.arm_runs(a)),
                "ok": sum(1 for r in exp.arm_runs(a) if r.results),
            }
            for a in exp.arms
        ],
        "seeds": ", ".join(str(s) for s in summary.get("seeds") or []),
        "reference": exp.reference,
        "headers": table_headers(exp),
        "rows": [
            {
                "cells": table_cells(exp, r),
                "span": span,
                "arm": r.arm,
                "excludes": r.excludes,
                "reading_class": r.reading.split(":")[0].replace(" ", "-"),
            }
            for r, span in zip(rows, spans)
        ],
        "contamination": contamination_rows(exp),
        "audit": _audit_rows(summary),
        "notes": table_notes(exp, rows) if rows else [],
        "budget_tokens": f"{budget['tokens']:,}" if isinstance(budget.get("tokens"), int) else DASH,
        "budget_check": ("equal" if check.get("equal") else "NOT equal") if "equal" in check else None,
        "budget_deviation": check.get("max_deviation"),
        "budget_tolerance": check.get("tolerance"),
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

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
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
