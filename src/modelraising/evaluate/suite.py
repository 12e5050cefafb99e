"""The table of evaluation suites: what the eval step, robustness, the lm-eval export, the CLI and the report read.

A suite is one module that exports ``SUITE = Suite(...)``: its name, its headline metric, how it scores a
model (``run``) and, where they apply, the items it is scored on under attack, its lm-evaluation-harness
tasks and its extra console rows. The built-in suites are listed in :data:`BUILTIN` by module path and
imported when first asked for (they pull in torch; a config can name them without it). Adding a suite:
write its module and add one line to :data:`BUILTIN`; a suite outside the package calls :func:`register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Record = Callable[[Path], None]  # hashes one input file into results["data"]

# name -> module that defines SUITE; the order is the pipeline's (results tables and the report follow it)
BUILTIN: dict[str, str] = {
    "charter": "modelraising.evaluate.charter_suite",
    "ethics": "modelraising.evaluate.ethics",
    "persona": "modelraising.evaluate.persona",
    "truthfulqa": "modelraising.evaluate.truthfulqa",
    "identity": "modelraising.evaluate.identity",
    "robustness": "modelraising.evaluate.robustness",
    "capability": "modelraising.evaluate.capability",
}


@dataclass(frozen=True)
class LmEvalTask:
    """One lm-evaluation-harness task a suite exports: multiple-choice items or documents for perplexity."""

    suffix: str | None  # task name = modelraising_<suite>[_<suffix>]
    kind: Literal["mc", "ppl"]
    rows: list  # MCItem for "mc", {"id", "text"} documents for "ppl"
    grouped: bool = False  # tagged with the suite's group name as well (several tasks make one suite)


def keeps_value(item: Any, score: Any) -> float | None:
    """Default value-keeping score of an item under attack: calibrated credit, else normalised accuracy."""
    return score.credit_cal if score.prior is not None else float(score.correct_norm)


@dataclass(frozen=True)
class Suite:
    name: str
    headline: str
    # (EvalConfig, Scorer, Charter, Record) -> the suite's block of results.json
    run: Callable[..., dict]
    # (EvalConfig, Charter) -> the small seeded item set scored under each attack; None: not scored under attack
    attack_items: Callable[..., list] | None = None
    # (MCItem, ItemScore) -> how far the item keeps the charter's value (None: the item does not count)
    attack_value: Callable[[Any, Any], float | None] = keeps_value
    # (EvalConfig, Charter) -> its lm-evaluation-harness tasks
    lm_eval_tasks: Callable[..., list[LmEvalTask]] | None = None
    # (result block) -> extra rows (metric, value, CI, n, baseline, reading) under the suite in `modelraising eval`
    detail_rows: Callable[[dict], list[list[str]]] | None = None
    # (result block) -> what `modelraising eval` prints after the table (rich renderables or text)
    console_extra: Callable[[dict], list[Any]] | None = None


_REGISTERED: dict[str, Suite] = {}


def register(suite: Suite) -> Suite:
    """Add a suite from outside the package (or replace a built-in one) for this process."""
    _REGISTERED[suite.name] = suite
    return suite


def unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def suite_names() -> tuple[str, ...]:
    """Every suite a config may name, built-in ones first, in pipeline order."""
    return (*BUILTIN, *(n for n in _REGISTERED if n not in BUILTIN))


def get_suite(name: str) -> Suite:
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in BUILTIN:
        raise KeyError(f"unknown suite {name!r} (known: {', '.join(suite_names())})")
    suite = importlib.import_module(BUILTIN[name]).SUITE
    assert isinstance(suite, Suite) and suite.name == name, f"{BUILTIN[name]}.SUITE is not the {name!r} suite"
    return suite


def attackable_suites() -> tuple[str, ...]:
    """The suites that can be scored under attack."""
    return tuple(n for n in suite_names() if get_suite(n).attack_items is not None)


def ci_text(m: dict) -> str:
    return f"[{m['ci'][0]:.3f}, {m['ci'][1]:.3f}]"


def reading_text(verdict: dict | None) -> str:
    """A verdict as the console shows it: degenerate (with why), at chance, above or below chance."""
    if not verdict or not verdict.get("reading"):
        return ""
    if verdict.get("degenerate"):
        return "DEGENERATE: " + "; ".join(verdict.get("reasons", []))
    return verdict["reading"]
