"""Loading an experiment from the files its runs left behind (summary.json, results, metrics)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelraising.evaluate.suite import suite_names

log = logging.getLogger(__name__)


FORMAT = "modelraising-experiment/1"
RESULTS_FORMAT = "modelraising-eval/1"


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


def load_json(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("report: cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _load_results(path: Path | None) -> dict | None:
    data = load_json(path)
    if data is None:
        return None
    if data.get("format") != RESULTS_FORMAT or not isinstance(data.get("suites"), dict):
        log.warning("report: %s is not a results file (format %r)", path, data.get("format"))
        return None
    return data


@dataclass
class SeedRun:
    """One (arm, seed) run of an experiment: its results, training log and curriculum, where they exist."""

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
    runs: list[SeedRun]
    suites: list[str] = field(default_factory=list)
    headlines: dict[str, str] = field(default_factory=dict)
    lower_better: dict[str, bool] = field(default_factory=dict)

    def arm_runs(self, arm: str) -> list[SeedRun]:
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
        runs.append(
            SeedRun(
                arm=r["arm"],
                seed=r.get("seed"),
                results=_load_results(resolve(base, r.get("results"))),
                train=resolve(base, r.get("train")),
                curriculum=resolve(base, r.get("curriculum")),
            )
        )
    arms = list(summary.get("arms") or dict.fromkeys(r.arm for r in runs))
    reference = summary.get("reference")
    exp = Experiment(base, summary, arms, reference if reference in arms else None, runs)
    present = {name for r in runs if r.results for name in r.results["suites"]}
    order = list(summary.get("suites") or [])
    order += [s for s in suite_names() if s not in order]
    order += sorted(present - set(order))
    for name in order:
        if name not in present:
            continue  # not run (or every run failed before writing it)
        heads = Counter(s["headline"] for r in runs if (s := r.suite(name)) and s.get("headline"))
        if not heads:
            continue
        headline = heads.most_common(1)[0][0]
        exp.suites.append(name)
        exp.headlines[name] = headline
        exp.lower_better[name] = any(
            headline in ((r.suite(name) or {}).get("info") or {}).get("lower_is_better", []) for r in runs
        )
    return exp
