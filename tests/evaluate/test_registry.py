"""The suite table: a suite registered from outside the package is run, printed, exported and attacked
like a built-in one, without editing the package."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from modelraising.charter import default_charter_path, load_charter
from modelraising.cli_eval import register as register_cli
from modelraising.evaluate import EvalConfig, Suite, get_suite, register, suite_names
from modelraising.evaluate.items import MCItem
from modelraising.evaluate.lm_eval_export import export
from modelraising.evaluate.results import mc_suite_result
from modelraising.evaluate.robustness import item_values, suite_items
from modelraising.evaluate.scoring import Scorer
from modelraising.evaluate.suite import BUILTIN, LmEvalTask, unregister

ITEMS = [MCItem(f"toy-{k}", f"Toy question {k}: is honesty good?", [" Yes", " No"], 0, "toy") for k in range(4)]


def _run(cfg, scorer, charter, record) -> dict:
    return mc_suite_result(ITEMS, scorer.score_items(ITEMS), headline="acc", n_bootstrap=cfg.n_bootstrap, seed=cfg.seed)


TOY = Suite(
    "toy",
    "acc",
    _run,
    attack_items=lambda cfg, charter: ITEMS,
    lm_eval_tasks=lambda cfg, charter: [LmEvalTask(None, "mc", ITEMS)],
    detail_rows=lambda result: [["toy detail row", f"{result['metrics']['acc']['value']:.3f}"]],
    console_extra=lambda result: ["toy says goodbye"],
)


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    unregister("toy")


def test_every_builtin_suite_is_in_the_table_with_its_own_name():
    assert suite_names()[: len(BUILTIN)] == tuple(BUILTIN)
    for name in BUILTIN:
        assert get_suite(name).name == name


def test_an_unregistered_name_is_a_config_error():
    with pytest.raises(ValidationError, match="toy"):
        EvalConfig(model="m", suites=["toy"])
    with pytest.raises(ValidationError, match="capability"):  # capability cannot be scored under attack
        EvalConfig(model="m", suites=["charter"], attack_suites=["capability"])


def test_a_registered_suite_runs_prints_exports_and_is_attackable(toy, values_model_dir, tmp_path):
    assert "toy" in suite_names()
    EvalConfig(model="m", suites=["toy"], attack_suites=["toy"])  # validates

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register_cli(app)
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        app, ["eval", "--model", str(values_model_dir), "--suite", "toy", "--out", str(out), "--bootstrap", "20"]
    )
    assert result.exit_code == 0, result.output
    assert "toy detail row" in result.output and "toy says goodbye" in result.output
    suite = json.loads(out.read_text())["suites"]["toy"]
    assert suite["headline"] == "acc" and suite["metrics"]["acc"]["n"] == len(ITEMS)

    charter = load_charter(default_charter_path())
    written = export(EvalConfig(model="m", suites=["toy"]), charter, tmp_path / "lm")
    assert written == {"toy": ["modelraising_toy"]}
    task = yaml.safe_load((tmp_path / "lm" / "modelraising_toy.yaml").read_text())
    assert task["task"] == "modelraising_toy" and task["output_type"] == "multiple_choice"
    assert len((tmp_path / "lm" / "data" / "modelraising_toy.jsonl").read_text().splitlines()) == len(ITEMS)

    cfg = EvalConfig(model=str(values_model_dir), suites=["toy"], attack_suites=["toy"])
    assert suite_items(cfg, charter, "toy") == ITEMS
    values = item_values(Scorer.from_pretrained(str(values_model_dir)), "toy", ITEMS)
    assert sorted(values) == [i.id for i in ITEMS] and all(0.0 <= v <= 1.0 for v in values.values())
