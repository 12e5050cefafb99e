"""``modelraising align``: sft, dpo, prompt and data through the command line, and clear errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from modelraising.cli_align import register


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    return app


def _invoke(app, *args):
    return CliRunner().invoke(app, ["align", *map(str, args)])


def test_sft_then_dpo_from_the_command_line(app, base_model, tmp_path):
    sft_out, dpo_out = tmp_path / "sft", tmp_path / "sft-dpo"
    result = _invoke(
        app,
        "sft",
        "--model",
        base_model,
        "--out",
        sft_out,
        "--steps",
        3,
        "--batch-size",
        4,
        "--lr",
        1e-3,
        "--max-length",
        64,
    )
    assert result.exit_code == 0, result.output
    assert "3 steps" in result.output and "tokens seen" in result.output
    config = tmp_path / "dpo.yaml"
    config.write_text("beta: 0.2\nbatch_size: 2\n")
    result = _invoke(
        app, "dpo", "--model", sft_out, "--out", dpo_out, "--steps", 2, "--config", config, "--batch-size", 4
    )
    assert result.exit_code == 0, result.output
    record = json.loads((dpo_out / "align.json").read_text())
    assert record["method"] == "dpo" and record["base_model"]["path"] == str(sft_out)
    assert record["config"]["beta"] == 0.2 and record["config"]["batch_size"] == 4  # flags override the file
    assert json.loads((sft_out / "align.json").read_text())["config"]["max_length"] == 64


def test_bad_user_data_names_line_and_field(app, base_model, tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        json.dumps({"prompt": "p", "chosen": "I c.", "rejected": "I r."})
        + "\n"
        + json.dumps({"prompt": "p", "chosen": "I c."})
        + "\n"
    )
    result = _invoke(app, "dpo", "--model", base_model, "--out", tmp_path / "o", "--data", data, "--steps", 1)
    assert result.exit_code == 2
    assert f"{data}:2: field 'rejected' is missing" in result.output
    assert not (tmp_path / "o").exists()


def test_invalid_options_are_reported(app, base_model, tmp_path):
    result = _invoke(app, "sft", "--model", base_model, "--out", tmp_path / "o", "--steps", 2, "--epochs", 1)
    assert result.exit_code == 2 and "steps or epochs" in result.output
    result = _invoke(app, "sft", "--model", base_model, "--out", tmp_path / "o", "--scheduler", "zigzag")
    assert result.exit_code == 2 and "scheduler" in result.output


def test_prompt_and_data(app, tmp_path, wren):
    result = _invoke(app, "prompt", "--style", "compact")
    assert result.exit_code == 0 and result.output.startswith(f"My name is {wren.identity.name}.")
    out = tmp_path / "pairs.jsonl"
    result = _invoke(app, "data", "--method", "dpo", "--out", out)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 * sum(len(v.do) * len(v.dont) for v in wren.values)
    assert set(lines[0]) == {"prompt", "chosen", "rejected", "value"}
