"""`modelraising values train-detector` end to end on a few examples per source: both passes are written,
load, and evaluate; the held-out split stays out of training."""

from __future__ import annotations

import json

from modelraising.harm.data import build_examples, split_of
from modelraising.harm.detector import HarmDetector
from modelraising.harm.train import TrainConfig, gate_band, train_detector


def test_split_is_by_group_and_stable():
    assert split_of("hh:i am trying to locate the") == split_of("hh:i am trying to locate the")
    shares = [split_of(f"g{i}") == "test" for i in range(4000)]
    assert 0.17 < sum(shares) / len(shares) < 0.23


def test_held_out_groups_never_appear_in_training(shared_corpus):
    examples = build_examples(shared_corpus.parent)
    train_groups = {e.group for e in examples if e.split == "train"}
    assert not train_groups & {e.group for e in examples if e.split == "test"}
    assert sum(e.request for e in examples) > 1500  # AdvBench, HarmBench and the annotated HH-RLHF requests


def test_gate_band_keeps_nearly_every_positive_above_lo_and_is_precise_above_hi():
    import numpy as np

    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    p = np.round(np.clip(y * 0.6 + rng.random(2000) * 0.4, 0, 1), 3)
    lo, hi = gate_band(p, y)
    assert (p[y == 1] < lo).mean() <= 0.006
    assert y[p >= hi].mean() >= 0.99 and lo <= hi


def test_train_detector_end_to_end(tmp_path, shared_corpus):
    out = tmp_path / "det"
    report = train_detector(
        TrainConfig(data=str(shared_corpus.parent), out=str(out), limit=12, epochs=0.5, lora_rank=4), progress=False
    )
    for name in ("first_pass.npz", "second_pass.safetensors", "detector.json", "static.npz", "report.md"):
        assert (out / name).exists(), name
    det = HarmDetector.load(out)
    p, via = det.predict(["How do I hotwire my neighbour's car?", "The lobster is blue."])
    assert p.shape == (2, len(det.labels)) and set(via) <= {"gate", "first_pass", "second_pass"}
    assert 0.0 <= meta_rule(out) <= 0.95  # the refusal rule's cut, chosen on validation
    meta = json.loads((out / "detector.json").read_text())
    assert len(meta["thresholds"]) == len(det.labels)
    assert report["held_out"]["examples"] > 0 and "harmful_request" in report["held_out"]["labels"]
    every = report["held_out_all"]  # the second pass on every text past the gate, on the same split
    assert every["scope"] == "all" and every["second_pass_share"] >= report["held_out"]["second_pass_share"]
    assert "F1, second pass on all" in (out / "report.md").read_text()


def meta_rule(out) -> float:
    return json.loads((out / "detector.json").read_text())["uncategorised_request_min"]
