"""``modelraising eval``: the three spelled forms, and clear errors."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from typer.testing import CliRunner

from modelraising.cli_eval import expand_compare, register
from tiny_models import one_thread


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    return app


@pytest.fixture(scope="module")
def two_results(app, values_model_dir, random_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    outs = []
    with one_thread():
        _run_both(app, values_model_dir, random_model_dir, folder, outs)
    return outs


def _run_both(app, values_model_dir, random_model_dir, folder, outs):
    for name, model in (("values", values_model_dir), ("random", random_model_dir)):
        out = folder / f"{name}.json"
        result = CliRunner().invoke(app, ["eval", "--model", str(model), "--suite", "charter,identity", "--limit", "2",
                                          "--bootstrap", "100", "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out)


def test_eval_writes_results(two_results):
    data = json.loads(two_results[0].read_text())
    assert set(data["suites"]) == {"charter", "identity"}
    assert data["config"]["limit"] == 2 and data["config"]["suites"] == ["charter", "identity"]


def test_compare_prints_suites_side_by_side(app, two_results):
    result = CliRunner().invoke(app, ["eval", "--compare", *map(str, two_results), "--groups"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "random - values" in result.output
    for word in ("charter", "acc_norm", "identity", "p_gold_norm", "honesty"):
        assert word in result.output


def test_export_lm_eval_writes_tasks(app, tmp_path):
    result = CliRunner().invoke(app, ["eval", "export-lm-eval", str(tmp_path / "tasks"), "--suite", "charter,identity",
                                      "--limit", "2"])
    assert result.exit_code == 0, result.output
    task = yaml.safe_load((tmp_path / "tasks" / "modelraising_charter.yaml").read_text())
    assert task["output_type"] == "multiple_choice" and task["doc_to_choice"] == "choices"
    data = (tmp_path / "tasks" / "data" / "modelraising_charter.jsonl").read_text().splitlines()
    assert len(data) == 14 and json.loads(data[0])["gold"] == 0


def test_bad_item_file_exits_2_naming_line_and_field(app, values_model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"context": "a", "keep": "b", "betray": "c", "value": "care"}\n'
                   '{"context": "a", "keep": "b", "value": "care"}\n')
    result = CliRunner().invoke(app, ["eval", "--model", str(values_model_dir), "--items", str(bad),
                                      "--out", str(tmp_path / "r.json")], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "bad.jsonl:2: field 'betray' is missing" in result.output


@pytest.mark.parametrize("args, message", [
    (["--suite", "nope"], "unknown suite(s) nope"),
    (["--attack-steps", "0,ten"], "--attack-steps"),
])
def test_bad_options_exit_2(app, values_model_dir, args, message):
    result = CliRunner().invoke(app, ["eval", "--model", str(values_model_dir), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and message in result.output


def test_compare_needs_files(app, tmp_path):
    result = CliRunner().invoke(app, ["eval", "--compare", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "not found" in result.output


def test_expand_compare():
    assert expand_compare(["--compare", "a", "b", "--groups"]) == ["--compare", "a", "--compare", "b", "--groups"]
    assert expand_compare(["--model", "m"]) == ["--model", "m"]
    assert expand_compare(["--compare"]) == ["--compare"]
