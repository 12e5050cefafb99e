"""The experiment: every arm's steps, the budget check, the summary and the report."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import modelraising
from modelraising.charter import default_charter_path, load_charter
from modelraising.config import ConfigError
from modelraising.io import atomic_write_json, describe_file
from modelraising.outdir import exclusive_out
from modelraising.sources import expand_sources

if TYPE_CHECKING:
    pass


from modelraising.experiment.config import FORMAT, REFERENCE_ARM, Arm, ExperimentConfig, arm_table
from modelraising.experiment.steps import (
    AuditFailed,
    Runner,
    Step,
    align_step,
    audit_rows,
    audit_step,
    curriculum_step,
    enforced_arms,
    eval_step,
    experiment_sources,
    headlines,
    pretrain_step,
    raise_step,
    tokenize_step,
    tokenizer_step,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------
# The experiment


def _align_tokens_estimate(config: ExperimentConfig) -> int:
    """Tokens an alignment run will see, at most: steps x batch x max_length (counted against the budget)."""
    a = config.align
    return a.steps * a.batch_size * a.max_length


def pretrain_budget(config: ExperimentConfig, arm: Arm) -> int:
    """Equal budgets: an aligned arm pretrains on the budget minus its alignment tokens."""
    if arm.align is None:
        return config.tokens
    budget = config.tokens - _align_tokens_estimate(config)
    if budget <= 0:
        raise ConfigError(
            "experiment",
            [
                f"tokens: {config.tokens} leaves nothing for pretraining after "
                f"alignment ({_align_tokens_estimate(config)} tokens); raise tokens"
            ],
        )
    return budget


@exclusive_out("out")
def run_experiment(config: ExperimentConfig, out: str | Path, *, progress: bool = True) -> dict:
    """Run every arm x seed (reusing cached steps) and write summary.json and the report."""
    started = time.perf_counter()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    r = Runner(config, out, progress)
    charter_path = Path(config.charter) if config.charter else default_charter_path()
    load_charter(charter_path)
    inputs = [
        {k: v for k, v in describe_file(p).items() if k != "bytes"} | {"spec": s.model_dump()}
        for p, s in expand_sources(experiment_sources(config))
    ]

    table = arm_table()
    arms = {name: table[name] for name in config.arms}
    raised = {name: raise_step(r, arm, charter_path, inputs) for name, arm in arms.items()}
    audits = {name: audit_step(r, raised[name], charter_path) for name in arms}
    enforced = enforced_arms(config, arms)
    failures = [
        f"{name}: {line}"
        for name in enforced
        for line in json.loads((audits[name].dir / ".done").read_text())["failures"]
    ]
    if failures and config.audit.fail:
        raise AuditFailed(failures)
    ordered = {name: curriculum_step(r, raised[name], arm, charter_path) for name, arm in arms.items()}
    tokenizer = tokenizer_step(r, list(ordered.values()))
    shards = {name: tokenize_step(r, ordered[name], tokenizer) for name in arms}

    runs, budget = [], {}
    for name, arm in arms.items():
        for seed in config.seeds:
            pretrain = pretrain_budget(config, arm)
            model = pretrain_step(r, shards[name], pretrain, seed, arm.order)
            trained = json.loads((model.dir / ".done").read_text()).get("tokens") or pretrain
            final, align_dir, align_tokens = model, None, 0
            if arm.align:
                final = align_step(r, model, arm.align, charter_path, seed)
                align_dir = final.dir
                align_tokens = json.loads((final.dir / ".done").read_text()).get("tokens_seen") or 0
            evaluated = eval_step(r, final, arm.prompt, charter_path, ordered[name], seed, final if arm.align else None)
            budget[f"{name}/{seed}"] = {
                "pretrain_tokens": trained,
                "align_tokens": align_tokens,
                "total_tokens": trained + align_tokens,
            }
            rel = lambda p: str(p.relative_to(out))  # noqa: E731 - paths relative to DIR: the folder can move
            runs.append(
                {
                    "arm": name,
                    "seed": seed,
                    "model": rel(final.dir),
                    "train": rel(model.dir),
                    "results": rel(evaluated.dir / "results.json"),
                    "curriculum": rel(ordered[name].dir),
                    "raised": rel(raised[name].dir),
                    "align": rel(align_dir) if align_dir else None,
                    "prompt": arm.prompt,
                    "headlines": headlines(evaluated.dir / "results.json"),
                }
            )

    summary = {
        "format": FORMAT,
        "name": config.name,
        "config": config.model_dump(mode="json", by_alias=True),
        "arms": list(arms),
        "seeds": config.seeds,
        "suites": config.suites,
        "reference": REFERENCE_ARM if REFERENCE_ARM in arms else None,
        "arm_descriptions": {name: arm.description for name, arm in arms.items()},
        "budget": {"tokens": config.tokens, "runs": budget, "check": check_budgets(config, budget)},
        "runs": runs,
        "examples": pick_examples(config, raised, arms),
        "audit": audit_rows(out, audits, enforced),
        "steps": {"computed": r.computed, "reused": r.reused},
        "elapsed_s": round(time.perf_counter() - started, 3),
        "version": modelraising.__version__,
    }
    atomic_write_json(out / "summary.json", summary)
    from modelraising.report import write_report

    html, md = write_report(out, summary)
    summary["report"] = {"html": str(html), "md": str(md)}
    return summary


def check_budgets(config: ExperimentConfig, budget: dict[str, dict]) -> dict:
    """Every arm must train on the same number of tokens, within one pretraining step plus the alignment
    estimate's slack (alignment batches are shorter than their maximum length)."""
    t = config.train
    step_tokens = t.batch_size * t.block_size
    tolerance = step_tokens + _align_tokens_estimate(config)
    totals = {run: b["total_tokens"] for run, b in budget.items()}
    worst = max((abs(v - config.tokens) for v in totals.values()), default=0)
    ok = worst <= tolerance
    if not ok:
        log.warning("unequal budgets: %s (budget %d, tolerance %d)", totals, config.tokens, tolerance)
    return {"equal": ok, "tolerance": tolerance, "max_deviation": worst}


def pick_examples(config: ExperimentConfig, raised: dict[str, Step], arms: dict[str, Arm]) -> list[dict]:
    """A few raised documents of the first raising arm beside their source passages."""
    name = next((n for n, a in arms.items() if len(a.pillars) > 1), None)
    if name is None or config.examples == 0:
        return []
    from modelraising.document import Document
    from modelraising.preview import pick_examples as pick
    from modelraising.sources import read_sources

    docs = pick(raised[name].dir, config.examples, seed=0)
    wanted = {d.id for d in docs}
    sources = {}
    for item in read_sources(experiment_sources(config)):
        if isinstance(item, Document) and item.id in wanted:  # a Reject is no source passage
            sources[item.id] = item.text
    return [
        {
            "id": d.id,
            "arm": name,
            "source": sources.get(d.id, ""),
            "raised": d.text,
            "pillars": d.metadata.get("pillars", []),
        }
        for d in docs
    ]


def clear_cache(out: str | Path) -> None:
    shutil.rmtree(Path(out) / "cache", ignore_errors=True)
