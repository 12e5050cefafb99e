"""The raise runner: determinism, workers, resume after a real kill, rejects, manifests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import RaiseError, raise_corpus
from modelraising.sources import SourceSpec

TEMPLATE_PILLARS = ["perspective", "experience", "social"]


def _outputs(out: Path) -> dict[str, bytes]:
    files = sorted(out.glob("raised-*.jsonl")) + [out / "rejects.jsonl"]
    return {p.name: p.read_bytes() for p in files}


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for p in sorted(out.glob("raised-*.jsonl")) for line in p.read_text().splitlines()]


def _raise(out, sources, charter_path, workers=1, **config):
    specs = [SourceSpec(path=str(s)) for s in sources]
    return raise_corpus(charter_path, specs, out, RaiseConfig(**config), workers=workers, progress=False)


def test_starter_corpus_raises_with_every_pillar(tmp_path, starter, charter_path, charter):
    manifest = _raise(tmp_path / "out", [starter], charter_path, chunk_size=8)
    records = _records(tmp_path / "out")
    assert manifest["counts"]["raised"] == len(records) > 10
    # 15 passages: one seed may miss a form by chance (p ~ 0.001 for seed 0); two seeds together may not
    again = _raise(tmp_path / "seed1", [starter], charter_path, chunk_size=8, seed=1)
    assert {"plain", "experience", "social"} <= set(manifest["counts"]["per_form"]) | set(again["counts"]["per_form"])
    assert manifest["counts"]["per_pillar"]["perspective"] == len(records)
    assert manifest["counts"]["values_fired"], "the fables about lying, stealing and hitting must fire a value"
    for r in records:
        meta = r["metadata"]
        assert meta["charter_hash"] == charter.hash and meta["engine"] == "template"
        assert meta["pillars"][-1] == "perspective"
        assert meta["pillars"].index("perspective") > max(
            (meta["pillars"].index(p) for p in ("values", "experience", "social") if p in meta["pillars"]), default=-1
        )
        assert r["id"] == meta["source_id"]
    assert manifest["charter"]["hash"] == charter.hash
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_same_seed_same_bytes_other_seed_differs(tmp_path, starter, charter_path):
    _raise(tmp_path / "a", [starter], charter_path, seed=3)
    _raise(tmp_path / "b", [starter], charter_path, seed=3)
    _raise(tmp_path / "c", [starter], charter_path, seed=4)
    assert _outputs(tmp_path / "a") == _outputs(tmp_path / "b")
    assert _outputs(tmp_path / "a") != _outputs(tmp_path / "c")


def test_workers_give_identical_output(tmp_path, starter, shared_corpus, charter_path):
    sources = [starter, shared_corpus / "aesop_fables.txt"]
    one = _raise(tmp_path / "one", sources, charter_path, workers=1, chunk_size=16, limit=90)
    two = _raise(tmp_path / "two", sources, charter_path, workers=2, chunk_size=16, limit=90)
    assert len(list((tmp_path / "one").glob("raised-*.jsonl"))) >= 5
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    assert one["counts"] == two["counts"]


def test_pillars_switch_off_for_ablations(tmp_path, starter, charter_path):
    _raise(tmp_path / "out", [starter], charter_path, pillars=["social", "values"])
    for r in _records(tmp_path / "out"):
        assert "perspective" not in r["metadata"]["pillars"]
        assert "experience" not in r["metadata"]["pillars"]
        assert r["metadata"]["form"] in ("plain", "social")


HARMFUL = [
    "Human: How do I poison my neighbour's dog without anyone finding out?\n\nAssistant: I won't help with that.",
    "Human: What's the best way to steal a car without getting caught?\n\nAssistant: Why do you want to?",
]


def test_policy_drop_sends_harm_to_rejects(tmp_path, starter, charter_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "requests.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in HARMFUL))
    (mixed / "fables.jsonl").write_bytes((starter / "fables.jsonl").read_bytes())
    manifest = _raise(tmp_path / "out", [mixed], charter_path, policy="drop")
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    drops = [r for r in rejects if r["reason"].startswith("policy drop")]
    assert drops and manifest["counts"]["dropped"] == len(drops)
    assert not {r["id"] for r in drops} & {r["id"] for r in _records(tmp_path / "out")}


def test_bad_input_goes_to_rejects_and_run_goes_on(tmp_path, starter, charter_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ok.jsonl").write_text(
        json.dumps({"text": "I walked to the river with my sister and we counted twelve herons."})
        + "\n"
        + "{not json\n"
        + json.dumps({"body": "no text field"})
        + "\n"
        + json.dumps({"text": ""})
        + "\n"
        + json.dumps({"text": "x " * 60_000})
        + "\n"
    )
    (bad / "broken.txt").write_bytes(
        b"A fine first paragraph about the sea and the ships on it.\n\n\xff\xfe bad bytes here\n"
    )
    manifest = _raise(tmp_path / "out", [bad], charter_path)
    rejects = (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()
    assert manifest["counts"]["raised"] == 2
    assert manifest["counts"]["rejects"] == len(rejects) >= 4
    reasons = " | ".join(json.loads(r)["reason"] for r in rejects)
    assert "UTF-8" in reasons and "oversized" in reasons


def test_different_config_in_same_out_dir_is_refused(tmp_path, starter, charter_path):
    _raise(tmp_path / "out", [starter], charter_path, seed=1)
    with pytest.raises(RaiseError, match="different"):
        _raise(tmp_path / "out", [starter], charter_path, seed=2)
    specs = [SourceSpec(path=str(starter))]
    raise_corpus(charter_path, specs, tmp_path / "out", RaiseConfig(seed=2), overwrite=True, progress=False)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["config"]["seed"] == 2


def test_a_run_resumed_after_the_engine_code_changed_is_refused(tmp_path, starter, charter_path, monkeypatch):
    """The run's identity holds a digest of the raising code, not only the version number: a run killed, then
    resumed after an edit to the banks, would otherwise mix records of two engines in one corpus (and an
    experiment reused a corpus raised by older code)."""
    from modelraising.raising import step

    digest = step.engine_digest()
    assert len(digest) == 64 and digest == step.engine_digest()
    _raise(tmp_path / "out", [starter], charter_path, seed=1)
    _raise(tmp_path / "out", [starter], charter_path, seed=1)  # the same code: resumed (nothing to do)
    monkeypatch.setattr(step, "engine_digest", lambda: "0" * 64)  # as if a bank had been edited since
    with pytest.raises(RaiseError, match="different"):
        _raise(tmp_path / "out", [starter], charter_path, seed=1)


def test_a_detector_is_chosen_by_directory_and_recorded_by_content(tmp_path, starter, charter_path):
    """--detector DIR raises with that detector and the manifest names it by its files' digest, so a
    detector retrained in place is refused on resume instead of mixed into one corpus."""
    from modelraising.harm.detector import DETECTOR_DIR, FILES

    det = tmp_path / "detector"
    det.mkdir()
    for name in FILES:
        (det / name).write_bytes((DETECTOR_DIR / name).read_bytes())
    shipped = _raise(tmp_path / "shipped", [starter], charter_path)
    mine = _raise(tmp_path / "mine", [starter], charter_path, detector=str(det))
    assert _outputs(tmp_path / "mine") == _outputs(tmp_path / "shipped")
    assert mine["detector"] == {"path": str(det), "sha256": shipped["detector"]["sha256"]}
    meta = json.loads((det / "detector.json").read_text())
    (det / "detector.json").write_text(json.dumps({**meta, "uncategorised_request_min": 0.99}))
    with pytest.raises(RaiseError, match="different"):
        _raise(tmp_path / "mine", [starter], charter_path, detector=str(det))
    (det / "second_pass.safetensors").unlink()
    with pytest.raises(RaiseError, match="second_pass.safetensors"):
        _raise(tmp_path / "other", [starter], charter_path, detector=str(det))
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").glob("raised-*"))
    assert _raise(tmp_path / "plain", [starter], charter_path, pillars=TEMPLATE_PILLARS)["detector"] is None
    moved = tmp_path / "moved"  # the same files at another path: the same run, resumed
    det.rename(moved)
    for name in ("detector.json", "second_pass.safetensors"):
        (moved / name).write_bytes((DETECTOR_DIR / name).read_bytes())
    assert _raise(tmp_path / "shipped", [starter], charter_path, detector=str(moved))["run"]["documents_computed"] == 0


def test_second_pass_on_all_decides_every_harm_it_reads(tmp_path, shared_corpus, charter_path):
    source = [shared_corpus / "hh_rlhf_harmless_base_test.jsonl.gz"]

    def routes(name: str, **config) -> set[str]:
        _raise(tmp_path / name, source, charter_path, limit=30, **config)
        return {r["metadata"]["harm"]["via"] for r in _records(tmp_path / name) if r["metadata"].get("harm")}

    assert routes("unsure") == {"first_pass", "second_pass"}
    assert routes("all", detector_second_pass="all") == {"second_pass"}


def test_rerun_of_finished_run_computes_nothing(tmp_path, starter, charter_path):
    _raise(tmp_path / "out", [starter], charter_path, chunk_size=4)
    before = _outputs(tmp_path / "out")
    manifest = _raise(tmp_path / "out", [starter], charter_path, chunk_size=4)
    assert manifest["run"]["documents_computed"] == 0
    assert _outputs(tmp_path / "out") == before


@pytest.mark.slow
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, shared_corpus, charter_path):
    sources = [shared_corpus / "moby_dick.txt", shared_corpus / "little_women.txt"]
    cmd = [
        sys.executable,
        "-m",
        "modelraising",
        "-q",
        "raise",
        "--charter",
        str(charter_path),
        "--pillars",
        ",".join(TEMPLATE_PILLARS),
        "--chunk-size",
        "64",
    ]
    for s in sources:
        cmd += ["--source", str(s)]

    reference = tmp_path / "reference"
    subprocess.run([*cmd, "--out", str(reference)], check=True, timeout=600)

    killed = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, "--out", str(killed)])
    state = killed / ".state"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once a chunk is done and the next one is part-written
        done = list(state.glob("chunk-*.json")) if state.exists() else []
        partial = [p for p in state.glob("raised-*.partial")] if state.exists() else []
        if done and any(p.stat().st_size > 0 for p in partial):
            break
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed; use a larger corpus")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "manifest.json").exists()

    subprocess.run([*cmd, "--out", str(killed)], check=True, timeout=600)
    assert _outputs(killed) == _outputs(reference)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert 0 < manifest["run"]["documents_computed"] < manifest["counts"]["documents_in"]


def test_tags_only_mode_tags_spans_without_reflections(tmp_path, starter, charter_path):
    _raise(tmp_path / "out", [starter], charter_path, pillars=["values"], value_tags=True, reflect=False)
    records = _records(tmp_path / "out")
    tagged = [r for r in records if "value" in r["metadata"]]
    assert tagged, "the fables about lying, stealing and hitting must fire"
    for r in tagged:
        assert r["metadata"]["pillars"] == ["values"]
        assert r["metadata"]["value"]["policy_action"] == "tag"
        assert "<|value:" in r["text"] and "<|/value|>" in r["text"]
        plain = re.sub(r"<\|/?(?:value|harm)[^|]*\|>", "", r["text"])
        assert len(plain) == r["metadata"]["source_chars"]  # the passage itself, unchanged
