"""``modelraising audit DIR``: what a raised corpus would teach (see :mod:`modelraising.audit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from modelraising.audit.run import AuditThresholds
from modelraising.cli_common import State, config_options, console, fail


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


@config_options(AuditThresholds, list(AuditThresholds.model_fields), into="caps")
def audit(
    caps: dict,
    directory: Annotated[
        Path, typer.Argument(help="A raised or ordered directory (raised-*/ordered-* .jsonl|.parquet).")
    ],
    out: Annotated[
        Optional[Path], typer.Option(help="Where audit.json/.md/.html and audit-flags.jsonl go (default: DIR).")
    ] = None,
    charter: Annotated[
        Optional[Path], typer.Option(help="Charter the corpus was raised with (default: the one its manifest names).")
    ] = None,
    source: Annotated[
        Optional[list[str]], typer.Option(help="Source files, for records that do not record their source spans.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when a cap is exceeded.")] = False,
) -> None:
    """Audit a raised corpus: repetition, whose "I", artifacts, harm coverage; caps checked."""
    from pydantic import ValidationError

    from modelraising.audit import AuditError, audit_dir
    from modelraising.charter import CharterError, load_charter, problems_from

    try:
        thresholds = AuditThresholds.model_validate(caps)
    except ValidationError as exc:
        fail("invalid option", problems_from(exc))
    loaded = None
    if charter is not None:
        try:
            loaded = load_charter(charter)
        except CharterError as exc:
            fail(f"{exc.path}: invalid charter", exc.problems)
    try:
        report = audit_dir(directory, charter=loaded, sources=source, thresholds=thresholds, out=out)
    except AuditError as exc:
        fail(str(exc))
    from modelraising.cards import has_card, refresh_card

    if out is None and has_card(directory):  # the dataset card gets the audit's summary
        refresh_card(directory)
    if not State.quiet:
        _print(report, out or directory)
    if report["failures"]:
        for line in report["failures"]:
            console.print(f"[red]cap exceeded[/] {line}", highlight=False, markup=True)
        if strict:
            raise typer.Exit(1)


def _print(report: dict, out: Path) -> None:
    from modelraising.audit.render import tables

    for title, header, rows in tables(report):
        table = Table(*header, title=title, title_justify="left")
        for row in rows:
            table.add_row(*(c[:120] for c in row))
        console.print(table)
    console.print(f"report: {out / 'audit.html'} (and audit.md, audit.json, audit-flags.jsonl)")
