"""``modelraising view`` (a local web app over raised, ordered or audited directories) and
``modelraising card`` (write a directory's Hugging Face dataset card)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from modelraising.cli_common import State, fail

log = logging.getLogger("modelraising")


def register(app: typer.Typer) -> None:
    app.command("view")(view)
    app.command("card")(card)


def view(
    directories: Annotated[
        list[Path],
        typer.Argument(
            metavar="DIR...", help="Raised, ordered or audited directories (two or more: compare them by source id)."
        ),
    ],
    source: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Source files or directories, when they are no longer where the raise read them; repeatable."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback shows the corpus to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8008,
    rebuild: Annotated[bool, typer.Option(help="Build the index again even when it is current.")] = False,
) -> None:
    """Browse, search, compare and review raised records in a browser (index built once per directory)."""
    from tqdm import tqdm

    from modelraising.view.app import make_app, open_dirs, serve
    from modelraising.view.corpus import ViewError
    from modelraising.view.sourcetext import SourceLookup

    if not 0 <= port <= 65535:
        fail(f"--port {port}: must be between 0 and 65535")
    bars: list[tqdm] = []

    def progress(corpus):
        bar = tqdm(desc=f"index {corpus.name}", unit="rec", disable=State.quiet, dynamic_ncols=True, leave=False)
        bars.append(bar)
        return lambda n: bar.update(n - bar.n)

    try:
        dirs = open_dirs(directories, rebuild=rebuild, progress=progress)
    except ViewError as exc:
        fail(str(exc), one_line=True)
    finally:
        for bar in bars:
            bar.close()
    lookup = SourceLookup(source)
    for d in dirs:
        lookup.add_manifest(d.corpus.json_file("manifest.json"))
        if d.corpus.kind == "ordered":  # the raise's reading options live in the raised directory's manifest
            lookup.add_manifest(_raised_manifest(d.corpus.json_file("manifest.json")))
        log.info(
            "view: %s: %s records (%s, %s), index %s",
            d.corpus.path,
            f"{d.index.n:,}",
            d.corpus.kind,
            d.corpus.fmt,
            d.index.path,
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "view: listening on %s: anyone who can reach this machine can read the corpus and flag records", host
        )

    def ready(url: str) -> None:
        print(f"modelraising view: {url}  (Ctrl-C to stop)", flush=True)

    try:
        asyncio.run(serve(make_app(dirs, lookup), host, port, ready))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror or exc})", one_line=True)
    except KeyboardInterrupt:
        pass
    finally:
        for d in dirs:
            d.index.close()
            d.corpus.close()


def _raised_manifest(manifest: dict | None) -> dict | None:
    import json

    inputs = (manifest or {}).get("inputs") or []
    if not inputs or not inputs[0].get("path"):
        return None
    try:
        return json.loads((Path(inputs[0]["path"]).parent / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def card(
    directory: Annotated[Path, typer.Argument(help="A raised or ordered directory.")],
    license: Annotated[
        Optional[list[str]],
        typer.Option(
            "--license",
            help="SOURCE=LICENSE: a source's licence (file name, path or glob; a hub id such as cc-by-4.0, or any "
            "text); repeatable. Kept for later runs.",
        ),
    ] = None,
    language: Annotated[
        Optional[list[str]],
        typer.Option(help="ISO 639 language code of the text (default: en, or what the card says); repeatable."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace a README.md that modelraising did not write.")] = False,
) -> None:
    """Write DIR/README.md, a Hugging Face dataset card, so `datasets.load_dataset(DIR)` loads it as it is."""
    from modelraising.cards import CardError, parse_licenses, write_card
    from modelraising.cli_common import check_paths
    from modelraising.outdir import check_input_dir

    check_paths(lambda: check_input_dir(directory, "DIR"))
    try:
        path = write_card(directory, licenses=parse_licenses(license or []), language=language, force=force)
    except CardError as exc:
        fail(str(exc), one_line=True)
    if not State.quiet:
        print(f"wrote {path}")
