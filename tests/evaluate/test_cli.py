"""``modelraising eval``: the three spelled forms, and clear errors."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from tiny_models import one_thread
from typer.testing import CliRunner

from modelraising.cli_eval import expand_compare, register


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
        result = CliRunner().invoke(
            app,
            [
                "eval",
                "--model",
                str(model),
                "--suite",
                "charter,identity",
                "--limit",
                "2",
                "--bootstrap",
                "100",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        outs.append(out)


def test_eval_writes_results(two_results):
    data = json.loads(two_results[0].read_text())
    assert set(data["suites"]) == {"charter", "identity"}
    assert data["config"]["limit"] == 2 and data["config"]["suites"] == ["charter", "identity"]


def test_compare_prints_suites_side_by_side(app, two_results):
    result = CliRunner().invoke(app, ["eval", "--compare", *map(str, two_results), "--groups"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "random - values" in result.output
    for word in ("charter", "acc_norm", "identity", "p_gold_norm", "honesty"):
        assert word in result.output


def test_export_lm_eval_writes_tasks(app, tmp_path):
    result = CliRunner().invoke(
        app, ["eval", "export-lm-eval", str(tmp_path / "tasks"), "--suite", "charter,identity", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    task = yaml.safe_load((tmp_path / "tasks" / "modelraising_charter.yaml").read_text())
    assert task["output_type"] == "multiple_choice" and task["doc_to_choice"] == "choices"
    data = (tmp_path / "tasks" / "data" / "modelraising_charter.jsonl").read_text().splitlines()
    assert len(data) == 14 and json.loads(data[0])["gold"] == 0


def test_bad_item_file_exits_2_naming_line_and_field(app, values_model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"context": "a", "keep": "b", "betray": "c", "value": "care"}\n'
        '{"context": "a", "keep": "b", "value": "care"}\n'
    )
    result = CliRunner().invoke(
        app,
        ["eval", "--model", str(values_model_dir), "--items", str(bad), "--out", str(tmp_path / "r.json")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2
    assert "bad.jsonl:2: field 'betray' is missing" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--suite", "nope"], "unknown suite(s) nope"),
        (["--attack-steps", "0,ten"], "--attack-steps"),
    ],
)
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


def test_every_problem_of_an_item_file_is_listed_at_once(app, values_model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join(
            [
                '{"context": "a", "keep": "b", "betray": "c", "value": "care"}',
                '{"context": "a", "keep": "b", "value": "care"}',
                "not json",
                '{"context": "", "keep": 3, "betray": "c", "value": "kindness"}',
                '{"id": "x", "context": "a", "keep": "same", "betray": "same", "value": "care"}',
                '{"id": "x", "context": "a", "keep": "b", "betray": "c", "value": "care"}',
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(
        app,
        ["eval", "--model", str(values_model_dir), "--items", str(bad), "--out", str(tmp_path / "r.json")],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    expected = [
        "bad.jsonl: 7 problems",
        "bad.jsonl:2: field 'betray' is missing",
        "bad.jsonl:3: not valid JSON",
        "bad.jsonl:4: field 'context' must be a non-empty string",
        "bad.jsonl:4: field 'keep' must be a non-empty string",
        "bad.jsonl:4: field 'value' is 'kindness', not a value of the charter",
        "bad.jsonl:5: fields 'keep' and 'betray' are the same text",
        "bad.jsonl:6: field 'id' 'x' repeats line 5",
    ]
    for line in expected:
        assert line in out, (line, result.output)
    assert [out.index(line) for line in expected] == sorted(out.index(line) for line in expected)  # by line
    assert not (tmp_path / "r.json").exists()


def _model_without_tokenizer(values_model_dir, path):
    path.mkdir()
    for name in ("config.json", "model.safetensors"):
        (path / name).write_bytes((values_model_dir / name).read_bytes())
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "is not a model directory (no config.json)"),
        ("raised", "looks like a raised corpus, not a model"),
        ("no-tokenizer", "has no tokenizer files (tokenizer.json"),
        ("missing", "does not exist"),
    ],
)
def test_eval_checks_the_model_directory_first(app, values_model_dir, tmp_path, kind, message):
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
    elif kind == "raised":
        folder.mkdir()
        (folder / "raised-00000.jsonl").write_text('{"id": "a", "text": "I read.", "metadata": {}}\n')
        (folder / "manifest.json").write_text("{}")
    elif kind == "no-tokenizer":
        _model_without_tokenizer(values_model_dir, folder)
    result = CliRunner().invoke(
        app, ["eval", "--model", str(folder), "--out", str(tmp_path / "r.json")], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and str(folder) in lines[0], result.output
    assert "Traceback" not in result.output and "sentencepiece" not in result.output


def test_compare_says_degenerate_and_at_chance_instead_of_a_bare_number(app, tmp_path):
    def results(value, ci, verdict):
        items = [
            {"id": f"i{k}", "group": "care", "cluster": f"i{k}", "correct_calibrated": float(k % 2)} for k in range(20)
        ]
        head = {"value": value, "ci": ci, "n": 20, "item_key": "correct_calibrated"}
        suite = {
            "headline": "acc_calibrated",
            "summary": ["acc_calibrated"],
            "metrics": {"acc_calibrated": head},
            "groups": {},
            "baselines": {"chance": 0.5},
            "info": {},
            "items": items,
            "verdict": {"metric": "acc_calibrated", "chance": 0.5, **verdict},
        }
        return {"format": "modelraising-eval/1", "model": {}, "config": {}, "data": {}, "suites": {"charter": suite}}

    a, b = tmp_path / "flat.json", tmp_path / "chance.json"
    a.write_text(
        json.dumps(
            results(0.5, [0.3, 0.7], {"degenerate": True, "reading": "degenerate", "at_chance": True, "reasons": ["x"]})
        )
    )
    b.write_text(
        json.dumps(
            results(0.55, [0.35, 0.75], {"degenerate": False, "reading": "at chance", "at_chance": True, "reasons": []})
        )
    )
    result = CliRunner().invoke(app, ["eval", "--compare", str(a), str(b)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "acc_calibrated" in line)
    assert "degenerate" in row and "0.550 [0.350, 0.750] (at chance)" in row
    assert "0.500" not in row  # the degenerate model's number is not printed as if it meant something
    assert "degenerate: the model's answers do not depend on the item" in " ".join(result.output.split())
