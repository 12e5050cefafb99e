"""What every CLI module shares: the global ``--quiet`` state and one way to fail (exit status 2, one
line per problem naming the field and the fix). Kept apart from ``cli.py`` so that the stage modules
(``cli_train``, ``cli_eval``, ...) import it without importing the whole app."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import NoReturn

import typer
from rich.console import Console

err_console = Console(stderr=True)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)


def standalone_app(register: Callable[[typer.Typer], None]) -> typer.Typer:
    """An app holding one stage's commands, for ``python -m modelraising.cli_train ...`` (what torchrun
    launches) without importing the whole CLI."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
    app.callback()(lambda: setup_logging())  # no options of its own
    register(app)
    return app


class State:
    """Set by the main app's callback (``--quiet``)."""

    quiet = False


def quiet() -> bool:
    return State.quiet


def fail(message: str, problems: list[str] | None = None, code: int = 2, *, one_line: bool = False) -> NoReturn:
    """Print a clear error and exit with ``code``: one line per problem, or all on one line (``one_line``)."""
    if one_line:
        problems = [p.removeprefix("(top level): ") for p in problems or []]
        line = message + (": " + "; ".join(problems) if problems else "")
        err_console.print("[bold red]error:[/] ", end="", highlight=False)
        err_console.print(line, highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code)
    err_console.print("[bold red]error:[/] ", end="", highlight=False)
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)  # paths stay on one line
    for problem in problems or []:
        err_console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)
