"""``modelraising tokenize``: registered on the main app by ``register``; options from ``TokenizeConfig``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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
from modelraising.shards.config import TokenizeConfig


@config_options(TokenizeConfig, ["vocab_size", "val_fraction", "shard_tokens", "tokenizer_docs", "min_frequency"])
def tokenize(
    overrides: dict,
    corpus: Annotated[Path, typer.Option(help="Ordered directory (ordered-* from `modelraising curriculum`).")],
    out: Annotated[Path, typer.Option(help="Output directory (tokenizer, train-*.bin, val.bin, index.json).")],
    tokenizer: Annotated[Optional[Path], typer.Option(help="Reuse this tokenizer dir instead of training one.")] = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            help="Encode input files in this many processes first (output identical to 1) (default: 1); with "
            "--executor ray, tasks at once (default: every CPU of the cluster)."
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(help="Where files are encoded: local or ray (Ray Data); shards are then assembled in order here."),
    ] = "local",
    ray_address: RayAddressOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Train (or reuse) a tokenizer and write the corpus as binary shards in curriculum order."""
    from modelraising.outdir import check_input_dir, check_input_files
    from modelraising.shards import TokenizeError, corpus_files, tokenize_corpus

    check_paths(lambda: check_input_dir(corpus, "--corpus"))
    try:
        check_paths(
            lambda: check_input_files(corpus_files(corpus), "--corpus"),
            lambda: _check_tokenizer_path(tokenizer) if tokenizer else None,
        )
    except TokenizeError as exc:
        fail(str(exc), one_line=True)
    workers = workers_for(executor, ray_address, workers)
    try:
        run_config = TokenizeConfig(**overrides)
    except ValueError as exc:
        fail("invalid option", config_problems(exc), one_line=True)
    claim_out(out)
    try:
        manifest = tokenize_corpus(
            corpus,
            out,
            run_config,
            tokenizer=tokenizer,
            overwrite=overwrite,
            progress=not _quiet(),
            workers=workers,
            executor=executor,
            ray_address=ray_address,
        )
    except TokenizeError as exc:
        fail(str(exc), one_line=True)
    if not _quiet():
        c = manifest["counts"]
        console.print(
            f"[green]ok[/] {out}: {c['train_documents']:,} train documents ({c['train_tokens']:,} tokens in "
            f"{c['shards']} shards), {c['val_documents']:,} held out ({c['val_tokens']:,} tokens), "
            f"{c['rejects']:,} rejects; vocabulary {manifest['tokenizer']['vocab_size']:,}"
        )


def _check_tokenizer_path(path: Path) -> None:
    """--tokenizer: a tokenizer directory (its tokenizer.json) or a tokenizer.json file, readable."""
    from modelraising.outdir import check_input_file

    check_input_file(path / "tokenizer.json" if path.is_dir() else path, "--tokenizer")


def register(app: typer.Typer) -> None:
    """Add ``tokenize`` to the main ``modelraising`` app."""
    app.command("tokenize")(tokenize)
