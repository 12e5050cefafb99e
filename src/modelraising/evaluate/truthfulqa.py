"""TruthfulQA MC1 (Lin et al. 2021): the best answer against the incorrect answers.

Read from ``<data_dir>/eval/truthfulqa/TruthfulQA.csv`` (columns Question, Best Answer, Incorrect
Answers with ``;``-separated answers). Zero-shot ``Q: ...\\nA:`` prompt; MC1 accuracy is the share of
questions whose best answer has the highest (raw, not length-normalised) log-likelihood, as in the
paper; the byte-normalised accuracy is reported too. The headline ``acc_calibrated`` ranks the
answers after calibration (each answer against itself after ``Q: N/A`` and the other content-free
questions, per byte; ``calibration.py``), so an answer that is merely common text does not win.
"""

from __future__ import annotations

import csv
from pathlib import Path

from modelraising.evaluate.calibration import CONTENT_FREE
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.items import MCItem, as_continuation, seeded_sample
from modelraising.evaluate.results import score_mc_suite
from modelraising.evaluate.suite import LmEvalTask, Record, Suite

NAME = "truthfulqa"
HEADLINE = "acc_calibrated"
NEUTRAL = [f"Q: {cf}\nA:" for cf in CONTENT_FREE]
REQUIRED = ("Question", "Best Answer", "Incorrect Answers")


def csv_path(cfg: EvalConfig) -> Path:
    return Path(cfg.truthfulqa) if cfg.truthfulqa else cfg.eval_path("truthfulqa", "TruthfulQA.csv")


def _answers(cell: str) -> list[str]:
    return [a.strip() for a in cell.split(";") if a.strip()]


def build_items(cfg: EvalConfig, charter=None) -> list[MCItem]:
    path = csv_path(cfg)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = [(n, r) for n, r in enumerate(reader, start=2)]
    items = []
    for number, row in seeded_sample(rows, cfg.limit, cfg.seed, "truthfulqa"):
        best, wrong = row["Best Answer"].strip(), _answers(row["Incorrect Answers"])
        if not best or not wrong:
            raise ValueError(f"{path}:{number}: a question needs a 'Best Answer' and at least one 'Incorrect Answers'")
        choices = [as_continuation(a) for a in dict.fromkeys([best, *wrong])]
        items.append(
            MCItem(
                f"truthfulqa-{number}",
                f"Q: {row['Question'].strip()}\nA:",
                choices,
                0,
                row.get("Category", "").strip(),
                {"type": row.get("Type", "")},
                list(NEUTRAL),
                True,
            )
        )
    return items


def run(cfg: EvalConfig, scorer, charter, record: Record) -> dict:
    record(csv_path(cfg))
    items = build_items(cfg)
    result = score_mc_suite(
        cfg,
        scorer,
        items,
        headline=HEADLINE,
        summary=[HEADLINE, "acc"],
    )
    result["groups"] = {}  # 38 categories of a few questions each: too thin to report
    result["group_verdicts"] = {}
    return result


def attack_items(cfg: EvalConfig, charter) -> list[MCItem]:
    return build_items(cfg.model_copy(update={"limit": cfg.robustness_limit}))


def lm_eval_tasks(cfg: EvalConfig, charter) -> list[LmEvalTask]:
    return [LmEvalTask(None, "mc", build_items(cfg, charter))]


SUITE = Suite(NAME, HEADLINE, run, attack_items=attack_items, lm_eval_tasks=lm_eval_tasks)
