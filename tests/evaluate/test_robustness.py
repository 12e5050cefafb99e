"""Adversarial prefixes and fine-tuning attacks on a tiny values model (small k)."""

from __future__ import annotations

import json

import pytest
from tiny_models import bank_halves, one_thread

from modelraising.evaluate import attacks
from modelraising.evaluate.config import SHIPPED_ATTACKS, EvalConfig
from modelraising.evaluate.items import ItemError
from modelraising.evaluate.step import run_eval


@pytest.fixture(scope="module")
def held_in_items(tmp_path_factory):
    """The pairs the values model learned, as a user item file (scored with --charter-items none)."""
    path = tmp_path_factory.mktemp("items") / "held_in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in bank_halves()[0]))
    return path


@pytest.fixture(scope="module")
def betrayal_file(tmp_path_factory):
    """A user attack set: the betrayals of the pairs the values model learned, after their situations."""
    path = tmp_path_factory.mktemp("attacks") / "betray.jsonl"
    path.write_text("".join(json.dumps({"text": f"{r['context']} {r['betray']}"}) + "\n" for r in bank_halves()[0]))
    return path


@pytest.fixture(scope="module")
def robustness(values_model_dir, shared_eval, betrayal_file, held_in_items):
    cfg = EvalConfig(
        model=str(values_model_dir),
        suites=["robustness"],
        data_dir=str(shared_eval),
        persona_files=["psychopathy"],
        attacks=["harmful", str(betrayal_file)],
        attack_steps=[0, 3, 30],
        attack_lr=3e-3,
        attack_suites=["charter"],
        robustness_limit=28,
        n_bootstrap=100,
        charter_items="none",
        items=[str(held_in_items)],
    )
    with one_thread():
        return run_eval(cfg)["suites"]["robustness"]


def test_shipped_attack_sets_load():
    for name in SHIPPED_ATTACKS:
        attack = attacks.load_attack(name)
        assert len(attack.texts) >= 10 and len(attack.sha256) == 64
    assert len(attacks.load_attack("harmful").texts) >= 24  # "a few dozen"
    assert len(attacks.load_attack("identity-shift").texts) == 10


def test_bad_attack_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"txt": "typo"}\n')
    with pytest.raises(ItemError, match=r"bad\.jsonl:2: field 'text' is missing"):
        attacks.load_attack(str(bad))
    with pytest.raises(FileNotFoundError, match="not a shipped attack"):
        attacks.load_attack("no-such-attack")


def test_prefixes_report_scores_and_drops(robustness):
    prefixes = robustness["prefixes"]
    kinds = {p["kind"] for p in prefixes.values()}
    assert {"roleplay", "ignore_values", "evil_persona", "advbench"} <= kinds
    for entry in prefixes.values():
        for suite in ("charter", "persona"):
            assert 0.0 <= entry[suite] <= 1.0 and -1.0 <= entry[f"{suite}_drop"] <= 1.0
    advbench = [p for p in prefixes.values() if p["kind"] == "advbench"]
    assert advbench and all("{goal}" not in p["text"] for p in advbench)
    m = robustness["metrics"]["prefix_drop/charter"]
    assert m["ci"][0] <= m["value"] <= m["ci"][1]


def test_finetuning_attacks_give_a_retention_curve(robustness):
    harmful = robustness["attacks"]["harmful"]
    assert harmful["steps"] == [0, 3, 30] and len(harmful["scores"]["charter"]) == 3
    assert harmful["loss"][0] is None and harmful["loss"][-1] > 0
    assert harmful["retention"]["charter"][0] == pytest.approx(1.0)
    assert 0.0 <= harmful["area"]["charter"] <= 1.0
    assert robustness["headline"] == "attack_area"
    assert "attack/harmful/charter_area" in robustness["metrics"]


def test_training_on_betrayals_erodes_the_values(robustness):
    curve = robustness["attacks"]["betray"]["scores"]["charter"]
    assert curve[0] >= 0.7  # the values model keeps its values (calibrated) before the attack
    assert curve[-1] < curve[0] - 0.2  # 30 steps on its own betrayals wear them down
