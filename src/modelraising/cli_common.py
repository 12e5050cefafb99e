"""What every CLI module shares: the global ``--quiet`` state and one way to fail (exit status 2, one
line per problem naming the field and the fix). Kept apart from ``cli.py`` so that the stage modules
(``cli_train``, ``cli_eval``, ...) import it without importing the whole app."""

from __future__ import annotations

import errno
import functools
import inspect
import logging
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from pydantic import BaseModel
from rich.console import Console

# Options every resumable data step (raise, curriculum, tokenize) has, worded once.
RayAddressOption = Annotated[
    Optional[str],
    typer.Option(
        help="With --executor ray: a cluster to join, e.g. auto or ray://head:10001 (default: start Ray on this "
        "machine)."
    ),
]
OverwriteOption = Annotated[bool, typer.Option(help="Discard an earlier, different run in --out.")]
console = Console()  # the one console every command prints its tables to
err_console = Console(stderr=True)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)


def standalone_app(register: Callable[[typer.Typer], None]) -> Callable[[], None]:
    """An app holding one stage's commands, for ``python -m modelraising.cli_train ...`` (what torchrun
    launches) without importing the whole CLI; call the result to run it (with :func:`run_app`'s net)."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
    app.callback()(lambda: setup_logging())  # no options of its own
    register(app)
    return lambda: run_app(app)


# What a path the user gave can do to a step that missed it in its checks: one line, not a traceback.
_PATH_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ELOOP,
    errno.ENAMETOOLONG,
}


def run_app(app: Callable[[], object]) -> None:
    """Run a typer app; a :class:`~modelraising.outdir.PathError`, or an OS error about a named path
    that a command's own checks did not catch, ends it with one line and exit status 2 (the
    traceback is logged at DEBUG)."""
    from modelraising.outdir import PathError

    try:
        app()
    except PathError as exc:
        _print_error(str(exc))
        sys.exit(2)
    except OSError as exc:
        if exc.errno not in _PATH_ERRNOS or exc.filename is None:
            raise
        logging.getLogger("modelraising").debug("path error", exc_info=True)
        where = f"{exc.filename} -> {exc.filename2}" if exc.filename2 else str(exc.filename)
        _print_error(f"{where}: {exc.strerror}")
        sys.exit(2)


def _print_error(line: str) -> None:
    err_console.print("[bold red]error:[/] ", end="", highlight=False)
    err_console.print(line, highlight=False, markup=False, soft_wrap=True)


def check_paths(*checks: Callable[[], object]) -> None:
    """Run path checks (``lambda: check_input_dir(p, "--data")``, ...) before any work; the first
    problem exits 2 with its one line."""
    from modelraising.outdir import PathError

    for check in checks:
        try:
            check()
        except PathError as exc:
            fail(str(exc), one_line=True)


def claim_out(path: Path, option: str = "--out", *, beside: bool = False) -> Path:
    """Check and create an output directory and hold its lock until the command ends (or the process
    dies: the kernel drops the lock); a problem, or another run holding it, exits 2 with one line."""
    import click

    from modelraising.outdir import PathError, claim_beside, claim_dir

    claim = (claim_beside if beside else claim_dir)(path, option)
    try:
        claim.__enter__()
    except PathError as exc:
        fail(str(exc), one_line=True)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(lambda: claim.__exit__(None, None, None))
    return path


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
    _print_error(message)  # paths stay on one line
    for problem in problems or []:
        err_console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _cli_type(annotation: Any) -> Any:
    """The command-line type of a config field's type: the non-None part of an optional, str for a
    choice (the config validates it and names the field), None where no flag can carry it."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Literal:
        return str
    return annotation if annotation in (int, float, str, bool, Path) else None


def _choices(annotation: Any) -> list[str]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1:
        annotation = args[0]
    return [str(a) for a in typing.get_args(annotation)] if typing.get_origin(annotation) is typing.Literal else []


def config_options(
    model: type[BaseModel],
    fields: Sequence[str],
    *,
    names: dict[str, str] | None = None,
    into: str = "overrides",
    required: bool = True,
    help_prefix: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One option per config field, derived from the field: its type, its help and its default are
    defined once, on the pydantic model. ``--field-name`` unless ``names`` gives the field another
    (``{"n_bootstrap": "bootstrap"}``: ``--bootstrap``). The command gets the options it was given (the
    others left to ``--config`` or the model's default) as one ``overrides`` dict, by field name; a
    field with no default is a required option (unless ``required`` is False: a sub-config whose other
    options may not be given at all); a bool is ``--flag/--no-flag``. ``into`` names the dict's
    parameter, so two models' options can go to one command."""
    names = names or {}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        params = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != into]
        added = [_option(model, name, names.get(name, name), required, help_prefix) for name in fields]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(names.get(name, name)) for name in fields}
            return command(**kwargs, **{into: {k: v for k, v in given.items() if v is not None}})

        # required options first, so the signature stays valid Python (no default before a non-default)
        ordered = [p for p in [*params, *added] if p.default is inspect.Parameter.empty] + [
            p for p in [*params, *added] if p.default is not inspect.Parameter.empty
        ]
        keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in ordered]
        run.__signature__ = inspect.Signature(keyword)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in ordered}
        return run

    return decorate


def _option(model: type[BaseModel], field: str, param: str, required: bool, help_prefix: str) -> inspect.Parameter:
    info = model.model_fields[field]
    kind = _cli_type(info.annotation)
    if kind is None:
        raise TypeError(f"{model.__name__}.{field}: {info.annotation} has no command-line form")
    default = info.get_default(call_default_factory=True)
    help_text = help_prefix + (info.description or "")
    choices = _choices(info.annotation)
    if choices and not all(c in help_text for c in choices):
        help_text += f" One of: {', '.join(choices)}."
    flag = param.replace("_", "-")
    if info.is_required() and required:
        return inspect.Parameter(
            param, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, typer.Option(f"--{flag}", help=help_text)]
        )
    shown = str(default) if default is not None else False
    decls = (f"--{flag}/--no-{flag}",) if kind is bool else (f"--{flag}",)
    option = typer.Option(*decls, help=help_text, show_default=shown)
    return inspect.Parameter(
        param, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[kind], option]
    )


def config_problems(exc: Exception) -> list[str]:
    """A config error as one line per problem (pydantic's, naming the field), else its message."""
    from pydantic import ValidationError

    from modelraising.charter import problems_from

    return problems_from(exc) if isinstance(exc, ValidationError) else [str(exc)]


def workers_for(executor: str, ray_address: str | None, workers: int | None) -> int:
    """The worker count of a command's --executor/--ray-address/--workers, or a one-line failure."""
    from modelraising.executor import ExecutorError, check_executor

    try:
        return check_executor(executor, ray_address, workers)
    except ExecutorError as exc:
        fail(str(exc), one_line=True)
