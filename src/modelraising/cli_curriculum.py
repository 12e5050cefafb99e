"""``modelraising curriculum``: registered on the main app by ``register``.

Kept apart from ``cli.py`` so the step can be wired in with one line; errors exit 2 with one clear line
(plus one line per problem), like the rest of the command line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.table import Table

from modelraising.cli_common import (
    OverwriteOption,
    RayAddressOption,
    check_paths,
    claim_out,
    config_options,
    config_problems,
    console,
    fail,
    workers_for,
)
from modelraising.cli_common import quiet as _quiet
from modelraising.curriculum.config import CurriculumConfig

log = logging.getLogger("modelraising")


def _fail(message: str, problems: list[str] | None = None) -> NoReturn:
    """One line on stderr (problems joined with "; "), exit status 2."""
    fail(message, problems, one_line=True)


@config_options(
    CurriculumConfig,
    [
        "order",
        "review",
        "seed",
        "format",
        "reference_max_tokens",
        "reference_batch_size",
        "chunk_size",
        "records_per_file",
    ],
)
def curriculum(
    overrides: dict,
    raised: Annotated[
        Path, typer.Option(help="Raised directory (raised-*.jsonl or raised-*.parquet from `modelraising raise`).")
    ],
    out: Annotated[Path, typer.Option(help="Output directory (ordered-*, curriculum.json, difficulty.png).")],
    charter: Annotated[
        Optional[Path], typer.Option(help="Charter YAML whose stages to use (default: shipped).")
    ] = None,
    weights: Annotated[
        Optional[str], typer.Option(help="e.g. readability=0.6,rarity=0.2 (unnamed groups keep defaults).")
    ] = None,
    reference_model: Annotated[
        Optional[Path], typer.Option(help="Local HF causal LM dir: adds its per-token loss.")
    ] = None,
    config: Annotated[
        Optional[Path], typer.Option(help="YAML with any curriculum option (ranges too); flags override.")
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            help="Scoring processes (output identical to 1) (default: 1); with --executor ray, tasks at once "
            "(default: every CPU of the cluster)."
        ),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="Where scoring runs: local (processes on this machine) or ray (Ray Data).")
    ] = "local",
    ray_address: RayAddressOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Score difficulty, assign charter stages and write the raised records in curriculum order."""
    from modelraising.charter import CharterError, default_charter_path, load_charter
    from modelraising.config import ConfigError, load_yaml_config
    from modelraising.curriculum import CurriculumError, parse_weights, run_curriculum
    from modelraising.curriculum.step import raised_files
    from modelraising.outdir import check_input_dir, check_input_file, check_input_files

    check_paths(
        lambda: check_input_dir(raised, "--raised"),
        lambda: charter and check_input_file(charter, "--charter"),
        lambda: config and check_input_file(config, "--config"),
        lambda: reference_model and check_input_dir(reference_model, "--reference-model"),
    )
    try:
        check_paths(lambda: check_input_files(raised_files(raised), "--raised"))
    except CurriculumError as exc:
        _fail(str(exc))
    workers = workers_for(executor, ray_address, workers)
    charter_path = charter or default_charter_path()
    try:
        load_charter(charter_path)
    except CharterError as exc:
        _fail(f"{exc.path}: invalid charter", exc.problems)
    overrides = {**overrides, "reference_model": str(reference_model) if reference_model else None}
    try:
        if weights:
            overrides["weights"] = parse_weights(weights)
    except ValueError as exc:
        _fail(f"--weights: {exc}")
    try:
        run_config = (
            load_yaml_config(config, CurriculumConfig, overrides)
            if config
            else CurriculumConfig.model_validate({k: v for k, v in overrides.items() if v is not None})
        )
    except ConfigError as exc:
        _fail(f"{exc.source}: invalid configuration", exc.problems)
    except ValueError as exc:  # pydantic ValidationError from flags
        _fail("invalid option", config_problems(exc))
    claim_out(out)
    try:
        manifest = run_curriculum(
            raised,
            charter_path,
            out,
            run_config,
            workers=workers,
            overwrite=overwrite,
            progress=not _quiet(),
            executor=executor,
            ray_address=ray_address,
        )
    except CurriculumError as exc:
        _fail(str(exc))
    if not _quiet():
        table = Table(
            "#",
            "stage",
            "ceiling",
            "documents",
            "review",
            "positions",
            "tokens (est.)",
            title=f"{run_config.order} curriculum: {out}",
            title_justify="left",
        )
        table.columns[0].justify = "right"
        for s in manifest["stages"]:
            table.add_row(
                str(s["index"]),
                s["name"],
                f"{s['ceiling']:.2f}",
                f"{s['documents']:,}",
                f"{s['review']:,}",
                f"{s['positions']:,}",
                f"{s['tokens_estimate']:,}",
            )
        console.print(table)
        console.print(f"rejects: {manifest['counts']['rejects']:,}  plot: {out / 'difficulty.png'}")


def register(app: typer.Typer) -> None:
    """Add ``curriculum`` to the main ``modelraising`` app."""
    app.command("curriculum")(curriculum)
