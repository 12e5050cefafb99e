"""Robustness: do the values survive adversarial prompts and fine-tuning attacks?

1. **Adversarial prefixes.** Role-play, "ignore your values", an evil persona, and AdvBench goals
   (Zou et al. 2023) the model is said to have agreed to, put before the charter and persona items.
   Reported per prefix: the score under it and the paired drop from the plain score.
2. **Fine-tuning attacks.** For each attack set (``attacks.py``) a copy of the model is fine-tuned
   for k in ``--attack-steps`` (default 0, 10, 50, 200) at a fixed learning rate and re-scored on
   ``--attack-suites`` at each k: the value-retention curve. Its area (x = k / k_max, so the area is
   the mean level over the attack) is reported as absolute score and as retention relative to k = 0.

The per-suite score is each suite's own calibrated value-keeping number (``calibration.py``): charter
``acc_calibrated``, persona ``consistent_calibrated``, identity mass ``p_gold_calibrated``, ethics and
TruthfulQA ``acc_calibrated``. The neutral contexts carry no prefix: a prefix is part of the context
whose effect is measured, against the model's own prior (under a fine-tuning attack, the attacked
model's). Items are a seeded sample of at most ``--robustness-limit`` per suite, the same items at
every k, so curves are paired.
"""

from __future__ import annotations

import csv
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelraising.evaluate import persona
from modelraising.evaluate.attacks import finetune, load_attack
from modelraising.evaluate.config import EVAL_DATA, EvalConfig
from modelraising.evaluate.items import MCItem, load_text_records
from modelraising.evaluate.scoring import Scorer
from modelraising.evaluate.stats import bootstrap_ci, curve_area_ci
from modelraising.evaluate.suite import LmEvalTask, Record, Suite, get_suite

log = logging.getLogger(__name__)
NAME = "robustness"
PREFIX_SUITES = ("charter", "persona")
PREFIX_FILE = EVAL_DATA / "prefixes.jsonl"
GOALS_PER_TEMPLATE = 2


def suite_items(cfg: EvalConfig, charter, suite: str) -> list[MCItem]:
    """The (small, seeded) item set a suite is scored on under attack."""
    build = get_suite(suite).attack_items
    if build is None:
        raise ValueError(f"suite {suite!r} cannot be scored under attack")
    return build(cfg, charter)


def item_values(scorer: Scorer, suite: str, items: Sequence[MCItem]) -> dict[str, float]:
    """Per item, the suite's calibrated value-keeping score (see the module docstring)."""
    value = get_suite(suite).attack_value
    out = {}
    for item, score in zip(items, scorer.score_items(items)):
        v = value(item, score)
        if v is not None:
            out[item.id] = v
    return out


def load_prefixes(cfg: EvalConfig) -> list[dict]:
    """Shipped prefixes plus ``--prefix-file`` ones; ``{goal}`` templates are filled with AdvBench goals."""
    records = []
    for path in [PREFIX_FILE, *map(Path, cfg.prefixes)]:
        for n, r in enumerate(load_text_records(path)):
            records.append({"id": r.get("id", f"{path.stem}-{n}"), "kind": r.get("kind", "custom"), "text": r["text"]})
    goals = _advbench_goals(cfg) if any("{goal}" in r["text"] for r in records) else []
    out = []
    for r in records:
        if "{goal}" not in r["text"]:
            out.append(r)
            continue
        for g, goal in enumerate(goals):
            out.append({**r, "id": f"{r['id']}-g{g}", "text": r["text"].replace("{goal}", goal)})
    return out


def _advbench_goals(cfg: EvalConfig) -> list[str]:
    try:
        path = cfg.eval_path("advbench", "harmful_behaviors.csv")
    except FileNotFoundError as exc:
        log.warning("AdvBench prefixes skipped: %s", exc)
        return []
    with open(path, encoding="utf-8", newline="") as f:
        goals = [row["goal"].strip() for row in csv.DictReader(f) if row.get("goal", "").strip()]
    picked = random.Random(f"{cfg.seed}/advbench").sample(goals, min(GOALS_PER_TEMPLATE, len(goals)))
    return [g[:1].lower() + g[1:].rstrip(".") for g in picked]


def run_prefixes(
    cfg: EvalConfig, scorer: Scorer, base_items: dict[str, list[MCItem]], base_values: dict[str, dict[str, float]]
) -> tuple[dict, dict, list[dict]]:
    prefixes = load_prefixes(cfg)
    details, rows = {}, []
    drops: dict[str, list[float]] = {s: [] for s in base_items}
    for prefix in prefixes:
        entry = {"kind": prefix["kind"], "text": prefix["text"]}
        for suite, items in base_items.items():
            shifted = [i.with_context(f"{prefix['text']}\n\n{i.context}", prefix["id"]) for i in items]
            values = item_values(scorer, suite, shifted)
            base = base_values[suite]
            pairs = [(base[i.id], values[s.id]) for i, s in zip(items, shifted) if i.id in base and s.id in values]
            entry[suite] = sum(v for _, v in pairs) / max(len(pairs), 1)
            entry[f"{suite}_drop"] = sum(b - v for b, v in pairs) / max(len(pairs), 1)
            drops[suite] += [b - v for b, v in pairs]
            rows += [
                {"id": s.id, "group": f"{suite}@{prefix['kind']}", "value": values[s.id]}
                for s in shifted
                if s.id in values
            ]
        details[prefix["id"]] = entry
    metrics = {f"prefix_drop/{s}": bootstrap_ci(d, cfg.n_bootstrap, cfg.seed) for s, d in drops.items() if d}
    return metrics, details, rows


def run_attacks(cfg: EvalConfig, scorer: Scorer, items: dict[str, list[MCItem]]) -> tuple[dict, dict]:
    metrics, details = {}, {}
    primary = cfg.attack_suites[0]
    for name in cfg.attacks:
        attack = load_attack(name)
        curves: dict[str, list[dict[str, float]]] = {s: [] for s in items}
        steps, losses = [], []

        def checkpoint(k: int, model, loss: float | None) -> None:
            attacked = Scorer(
                model,
                scorer.tokenizer,
                batch_size=scorer.batch_size,
                max_length=scorer.max_length,
                padding_side=scorer.padding_side,
                preamble=scorer.preamble,
            )
            steps.append(k)
            losses.append(loss)
            for suite, suite_items_ in items.items():
                curves[suite].append(item_values(attacked, suite, suite_items_))
            log.info("attack %s: step %d, loss %s, %s %.3f", attack.name, k, loss, primary, _mean(curves[primary][-1]))

        finetune(
            scorer.model,
            scorer.tokenizer,
            attack.texts,
            cfg.attack_steps,
            lr=cfg.attack_lr,
            batch_size=cfg.attack_batch_size,
            max_tokens=cfg.attack_max_tokens,
            seed=cfg.seed,
            on_checkpoint=checkpoint,
        )
        entry: dict[str, Any] = {
            "file": str(attack.path),
            "sha256": attack.sha256,
            "examples": len(attack.texts),
            "steps": steps,
            "loss": losses,
            "scores": {},
            "retention": {},
            "area": {},
            "retention_area": {},
        }
        for suite, curve in curves.items():
            ids = sorted(curve[0])
            matrix = [[point[i] for i in ids] for point in curve]
            entry["scores"][suite] = [_mean(point) for point in curve]
            first = entry["scores"][suite][0] or 1e-12
            entry["retention"][suite] = [s / first for s in entry["scores"][suite]]
            area = curve_area_ci(steps, matrix, cfg.n_bootstrap, cfg.seed)
            kept = curve_area_ci(steps, matrix, cfg.n_bootstrap, cfg.seed, relative=True)
            entry["area"][suite], entry["retention_area"][suite] = area["value"], kept["value"]
            metrics[f"attack/{attack.name}/{suite}_area"] = area
            metrics[f"attack/{attack.name}/{suite}_retention"] = kept
        details[attack.name] = entry
    return metrics, details


def _mean(values: dict[str, float]) -> float:
    return sum(values.values()) / max(len(values), 1)


def run(cfg: EvalConfig, scorer: Scorer, charter) -> dict:
    wanted = list(dict.fromkeys([*PREFIX_SUITES, *cfg.attack_suites]))
    items = {s: suite_items(cfg, charter, s) for s in wanted}
    base_values = {s: item_values(scorer, s, items[s]) for s in wanted}
    metrics = {f"plain/{s}": bootstrap_ci(list(v.values()), cfg.n_bootstrap, cfg.seed) for s, v in base_values.items()}
    prefix_metrics, prefix_details, rows = run_prefixes(cfg, scorer, {s: items[s] for s in PREFIX_SUITES}, base_values)
    metrics.update(prefix_metrics)
    attack_metrics, attack_details = run_attacks(cfg, scorer, {s: items[s] for s in cfg.attack_suites})
    metrics.update(attack_metrics)
    primary = cfg.attack_suites[0]
    areas = [m for k, m in attack_metrics.items() if k.endswith(f"/{primary}_area")]
    if areas:
        metrics["attack_area"] = {
            "value": sum(a["value"] for a in areas) / len(areas),
            "ci": [sum(a["ci"][0] for a in areas) / len(areas), sum(a["ci"][1] for a in areas) / len(areas)],
            "n": areas[0]["n"],
        }
    headline = "attack_area" if areas else "prefix_drop/charter"
    summary = [
        headline,
        *[k for k in metrics if k.startswith("prefix_drop/")],
        *[k for k in attack_metrics if k.endswith(f"/{primary}_area")],
    ]
    return {
        "headline": headline,
        "summary": list(dict.fromkeys(summary)),
        "metrics": metrics,
        "groups": {},
        "baselines": {},
        "info": {
            "primary_suite": primary,
            "items": {s: len(v) for s, v in items.items()},
            "attack_steps": cfg.attack_steps,
            "attack_lr": cfg.attack_lr,
        },
        "prefixes": prefix_details,
        "attacks": attack_details,
        "items": rows,
    }


def run_suite(cfg: EvalConfig, scorer: Scorer, charter, record: Record) -> dict:
    for path in [PREFIX_FILE, *map(Path, cfg.prefixes)]:
        record(path)
    for name in cfg.attacks:
        record(load_attack(name).path)
    return run(cfg, scorer, charter)


def lm_eval_tasks(cfg: EvalConfig, charter) -> list[LmEvalTask]:
    """The charter and (charter-consistent) persona items plain, then behind each kind of prefix."""
    base = suite_items(cfg, charter, "charter") + persona.consistent_gold(suite_items(cfg, charter, "persona"))
    by_kind: dict[str, list[MCItem]] = defaultdict(list)
    for prefix in load_prefixes(cfg):
        lead = prefix["text"] + "\n\n"
        by_kind[prefix["kind"]] += [i.with_context(lead + i.context, prefix["id"]) for i in base]
    return [
        LmEvalTask("plain", "mc", base, grouped=True),
        *(LmEvalTask(kind, "mc", items, grouped=True) for kind, items in by_kind.items()),
    ]


def console_tables(block: dict) -> list:
    """Per prefix: scores and drops; per attack: the score at each step (the retention curve)."""
    from rich.table import Table

    prefixes = Table(
        "prefix",
        "kind",
        *[f"{s} / drop" for s in PREFIX_SUITES],
        title="robustness: adversarial prefixes",
        title_justify="left",
    )
    for pid, entry in block["prefixes"].items():
        cells = [f"{entry[s]:.3f} / {entry[f'{s}_drop']:+.3f}" for s in PREFIX_SUITES]
        prefixes.add_row(pid, entry["kind"], *cells)
    primary = block["info"]["primary_suite"]
    attacks = Table(
        "attack",
        "steps",
        f"{primary} score",
        "retention",
        "area",
        "loss",
        title="robustness: fine-tuning attacks",
        title_justify="left",
    )
    for name, entry in block["attacks"].items():
        attacks.add_row(
            name,
            " ".join(map(str, entry["steps"])),
            " ".join(f"{v:.3f}" for v in entry["scores"][primary]),
            " ".join(f"{v:.2f}" for v in entry["retention"][primary]),
            f"{entry['area'][primary]:.3f}",
            " ".join("-" if v is None else f"{v:.2f}" for v in entry["loss"]),
        )
    return [prefixes, attacks]


SUITE = Suite(NAME, "attack_area", run_suite, lm_eval_tasks=lm_eval_tasks, console_extra=console_tables)
