"""``modelraising experiment CONFIG.yaml --out DIR``: the project's main job, as one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def experiment(
    config: Annotated[Path, typer.Argument(help="Experiment YAML (sources, charter, tokens, seeds, arms, suites).")],
    out: Annotated[Path, typer.Option(help="Experiment directory (cache/, summary.json, report.html, report.md).")],
    fresh: Annotated[bool, typer.Option(help="Drop the step cache first and recompute everything.")] = False,
) -> None:
    """Run arms x seeds on an equal token budget (cached, resumable) and write the report."""
    from modelraising.cli_common import check_paths, claim_out, console, fail, quiet
    from modelraising.config import ConfigError
    from modelraising.experiment import clear_cache, experiment_sources, load_experiment_config, run_experiment
    from modelraising.outdir import check_input_file
    from modelraising.raising.step import check_sources
    from modelraising.report import main_table_text
    from modelraising.sources import SourceError

    check_paths(lambda: check_input_file(config, "CONFIG"))
    try:
        cfg = load_experiment_config(config)
    except ConfigError as exc:
        fail(f"{exc.source}: invalid experiment", exc.problems)
    try:
        check_paths(
            lambda: check_sources(experiment_sources(cfg)),
            lambda: cfg.charter and check_input_file(cfg.charter, "charter:"),
        )
    except SourceError as exc:
        fail(f"{config}: {exc}")
    claim_out(out)  # before --fresh clears anything: a running experiment keeps its cache
    if fresh:
        clear_cache(out)
    from modelraising.experiment import AuditFailed

    try:
        summary = run_experiment(cfg, out, progress=not quiet())
    except ConfigError as exc:
        fail(f"{exc.source}: invalid experiment", exc.problems)
    except AuditFailed as exc:
        fail(
            "the raised corpus failed its audit (set audit.fail: false in the config to go on anyway)",
            exc.failures,
            code=1,
        )
    print(main_table_text(summary, out))
    steps = summary["steps"]
    console.print(
        f"steps computed: {len(steps['computed'])}, reused from cache: {len(steps['reused'])}; "
        f"budget equal: {summary['budget']['check']['equal']}"
    )
    console.print(f"report: {summary['report']['html']}")
    console.print(f"        {summary['report']['md']}")


def register(app: typer.Typer) -> None:
    app.command("experiment")(experiment)
