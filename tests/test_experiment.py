"""The experiment runner: a miniature experiment end to end, cache reuse, resume after a kill, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from modelraising.experiment import load_experiment_config, run_experiment


def _config(tmp_path: Path, starter: Path, **over) -> Path:
    data = {
        "name": "mini",
        "sources": [{"path": str(starter)}],
        "tokens": 51200,
        "arms": ["baseline", "raised"],
        "suites": ["charter", "capability"],
        "vocab_size": 400,
        "train": {"preset": "nano", "batch_size": 2, "block_size": 128, "eval_every": 50},
        "align": {"steps": 3, "batch_size": 4, "max_length": 64},
        "eval": {"limit": 3, "n_bootstrap": 50},
        "examples": 2,
    } | over
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory, starter):
    tmp = tmp_path_factory.mktemp("exp")
    cfg = load_experiment_config(_config(tmp, starter))
    summary = run_experiment(cfg, tmp / "out", progress=False)
    return tmp, cfg, summary


def test_an_audit_that_fails_stops_the_experiment_before_training(tmp_path, starter):
    from modelraising.experiment import AuditFailed

    cfg = load_experiment_config(
        _config(
            tmp_path,
            starter,
            arms=["raised"],
            audit={"thresholds": {"max_sentence_share": 0.0, "min_records_for_caps": 1}},
        )
    )
    with pytest.raises(AuditFailed) as err:
        run_experiment(cfg, tmp_path / "out", progress=False)
    assert any(line.startswith("raised: repetition") for line in err.value.failures)
    assert not list((tmp_path / "out" / "cache").glob("train-*"))


@pytest.mark.slow
def test_miniature_experiment_end_to_end(finished):
    tmp, cfg, summary = finished
    out = tmp / "out"
    assert summary["arms"] == ["baseline", "raised"]
    assert len(summary["runs"]) == 2
    for run in summary["runs"]:
        results = json.loads((out / run["results"]).read_text())
        assert set(results["suites"]) == {"charter", "capability"}
        # the charter items (the bank) were checked against the corpus this arm was trained on: no overlap
        contamination = results["suites"]["charter"]["contamination"]["summary"]
        assert contamination["corpora"] == [str(out / run["curriculum"])]
        assert contamination["documents"] > 0 and contamination["with_overlap"] == 0
        head = run["headlines"]["charter"]
        assert head["metric"] == "acc_calibrated" and head["reading"] and head["contamination"]["contaminated"] == 0
        assert (out / run["model"] / "config.json").exists()
        metrics = (out / run["train"] / "metrics.jsonl").read_text().splitlines()
        assert metrics, "training wrote no metrics"
        assert json.loads((out / run["train"] / "train.json").read_text())["steps"] >= 200
    # every raised corpus was audited; the table is in the summary and the report
    audits = {a["arm"]: a for a in summary["audit"]}
    assert set(audits) == {"baseline", "raised"} and audits["raised"]["enforced"] and not audits["baseline"]["enforced"]
    assert (out / audits["raised"]["path"]).exists()
    assert "What each raised corpus teaches (audit)" in Path(summary["report"]["md"]).read_text()
    totals = {b["total_tokens"] for b in summary["budget"]["runs"].values()}
    assert len(totals) == 1 and summary["budget"]["check"]["equal"]
    assert summary["examples"] and all(e["source"] and e["raised"] for e in summary["examples"])
    html = (out / "report.html").read_text()
    assert "raised" in html and "baseline" in html and "data:image/png;base64" in html
    assert "| charter" in (out / "report.md").read_text() or "charter" in (out / "report.md").read_text()
    # arms share what they share: one tokenizer step for both arms
    assert sum(1 for s in summary["steps"]["computed"] if s.startswith("tokenizer-")) == 1


@pytest.mark.slow
def test_rerun_reuses_every_step(finished):
    tmp, cfg, summary = finished
    again = run_experiment(cfg, tmp / "out", progress=False)
    assert again["steps"]["computed"] == []
    assert sorted(again["steps"]["reused"]) == sorted(summary["steps"]["computed"])
    assert again["budget"] == summary["budget"]


@pytest.mark.slow
def test_the_executor_is_not_part_of_the_cache_keys(finished):
    """Ray gives the same outputs as the local executor, so switching executors recomputes nothing."""
    tmp, cfg, summary = finished
    on_ray = cfg.model_copy(update={"executor": "ray", "workers": 2})
    again = run_experiment(on_ray, tmp / "out", progress=False)
    assert again["steps"]["computed"] == [] and again["budget"] == summary["budget"]


def test_executor_options_are_validated(tmp_path, starter):
    from modelraising.config import ConfigError

    assert load_experiment_config(_config(tmp_path, starter, executor="ray", ray_address="auto")).executor == "ray"
    with pytest.raises(ConfigError, match="executor"):
        load_experiment_config(_config(tmp_path, starter, executor="dask"))
    with pytest.raises(ConfigError, match="ray_address needs executor: ray"):
        load_experiment_config(_config(tmp_path, starter, ray_address="auto"))


@pytest.mark.slow
def test_killed_experiment_resumes_without_redoing_finished_steps(tmp_path, starter):
    config = _config(tmp_path, starter, arms=["baseline"], suites=["capability"])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "modelraising", "-q", "experiment", str(config), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill as soon as the first steps are finished and training started
        if list((out / "cache").glob("tokenize-*/.done")) if (out / "cache").exists() else False:
            break
        if proc.poll() is not None:
            pytest.fail("the experiment finished before it could be killed")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "summary.json").exists()
    done_before = {p.parent.name for p in (out / "cache").glob("*/.done")}
    assert any(d.startswith("raise-") for d in done_before)

    summary = run_experiment(load_experiment_config(config), out, progress=False)
    assert not done_before & set(summary["steps"]["computed"]), "finished steps were computed again"
    assert done_before <= set(summary["steps"]["reused"])
    assert any(s.startswith("eval-") for s in summary["steps"]["computed"])


@pytest.mark.parametrize(
    "field,bad,valid",
    [("arms", ["baseline", "raized"], "raised-no-values"), ("suites", ["charter", "honesty"], "truthfulqa")],
)
def test_unknown_arm_or_suite_lists_valid_names(tmp_path, starter, field, bad, valid):
    config = _config(tmp_path, starter, **{field: bad})
    res = subprocess.run(
        [sys.executable, "-m", "modelraising", "experiment", str(config), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert f"{field}: unknown" in res.stderr and bad[1] in res.stderr and valid in res.stderr
    assert not (tmp_path / "out").exists()


def test_the_experiment_sections_are_their_stage_configs_fields():
    """Bounds and help come from the stage configs (defined once); a section only changes defaults."""
    from modelraising.align.run import AlignConfig
    from modelraising.evaluate.config import EvalConfig
    from modelraising.experiment import AlignSettings, EvalSettings, TrainSettings
    from modelraising.train.config import TrainConfig

    for section, source in ((TrainSettings, TrainConfig), (AlignSettings, AlignConfig), (EvalSettings, EvalConfig)):
        for name, field in section.model_fields.items():
            own = source.model_fields[name]
            assert field.metadata == own.metadata and field.description == own.description, (section, name)
            # the same type; optional in one of them (unset there: the other's default applies)
            assert (
                own.annotation in (field.annotation, field.annotation | None)
                or field.annotation == own.annotation | None
            ), (section, name)
    assert TrainSettings().lr == 3e-3 and TrainConfig.model_fields["lr"].default == 1e-3  # a stated difference
    with pytest.raises(ValidationError):
        TrainSettings(lr=0)


def test_the_demo_s_raised_corpus_passes_its_audit_gate(tmp_path, shared_corpus):
    """`make demo` stops at its audit gate when the raised writing repeats itself (one cue in 1.9% of records
    stopped it once while the tests passed): the demo's raised arm, raised and audited as the experiment does."""
    from modelraising.audit import AuditThresholds, audit_dir
    from modelraising.charter import default_charter_path, load_charter
    from modelraising.experiment.config import arm_table
    from modelraising.experiment.steps import _raise_config, experiment_sources
    from modelraising.raising.step import raise_corpus

    config = load_experiment_config(Path(__file__).resolve().parents[1] / "examples" / "demo.yaml")
    charter = config.charter or default_charter_path()
    raised = tmp_path / "raised"
    raise_corpus(
        charter, experiment_sources(config), raised, _raise_config(config, arm_table()["raised"]), progress=False
    )
    thresholds = AuditThresholds.model_validate(config.audit.thresholds)
    report = audit_dir(raised, charter=load_charter(charter), thresholds=thresholds, out=tmp_path / "audit")
    assert report["records"] > 500 and report["failures"] == [], report["failures"]
