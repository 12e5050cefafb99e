"""An exported task scored by lm-evaluation-harness gives the same numbers as our scorer.

lm-eval is an optional extra (``pip install -e '.[eval]'``); without it this test is skipped.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from modelraising.charter import default_charter_path, load_charter
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.items import MCItem
from modelraising.evaluate.lm_eval_export import export
from modelraising.evaluate.scoring import Scorer

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("lm_eval") is None or importlib.util.find_spec("accelerate") is None,
    reason="lm-eval is not installed (optional extra: pip install -e '.[eval]', i.e. lm-eval and accelerate)",
)


def test_exported_charter_task_matches_our_scorer(values_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import lm_eval
    from lm_eval.tasks import TaskManager

    cfg = EvalConfig(model=str(values_model_dir), suites=["charter"], limit=3)
    export(cfg, load_charter(default_charter_path()), tmp_path / "tasks")
    out = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={values_model_dir},dtype=float32",
        tasks=["modelraising_charter"],
        device="cpu",
        batch_size=8,
        log_samples=True,
        task_manager=TaskManager(include_path=str(tmp_path / "tasks")),
    )
    samples = out["samples"]["modelraising_charter"]
    theirs = {s["doc"]["id"]: [float(r[0]) for r in s["filtered_resps"]] for s in samples}

    records = [json.loads(line) for line in (tmp_path / "tasks" / "data" / "modelraising_charter.jsonl").open()]
    items = [MCItem(r["id"], r["context"], r["choices"], r["gold"], r["group"]) for r in records]
    ours = Scorer.from_pretrained(values_model_dir, batch_size=8).score_items(items)

    assert len(theirs) == len(items) == 21
    for item, score in zip(items, ours):
        assert score.lls == pytest.approx(theirs[item.id], abs=1e-3)
    metrics = out["results"]["modelraising_charter"]
    assert metrics["acc,none"] == pytest.approx(sum(s.correct for s in ours) / len(ours))
    assert metrics["acc_bytes,none"] == pytest.approx(sum(s.correct_norm for s in ours) / len(ours))
    assert metrics["acc_norm,none"] == metrics["acc_bytes,none"]  # ASCII: per character == per byte
