"""The ``modelraising`` command line: one sub-command per pipeline stage."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from modelraising.charter import CharterError, default_charter_path, load_charter
from modelraising.cli_common import (
    OverwriteOption,
    RayAddressOption,
    State,
    check_paths,
    claim_out,
    config_options,
    console,
    fail,
    run_app,
    setup_logging,
)
from modelraising.config import ConfigError
from modelraising.raising.config import RaiseConfig, parse_mix
from modelraising.teacher.config import TeacherConfig

app = typer.Typer(
    name="modelraising",
    help="Raise language models: a value-infused, first-person, scaffolded corpus instead of post-hoc alignment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
charter_app = typer.Typer(help="Validate and show value charters.", no_args_is_help=True)
app.add_typer(charter_app, name="charter")

log = logging.getLogger("modelraising")


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars; warnings and errors only.")] = False,
    log_level: Annotated[str, typer.Option(help="Logging level: DEBUG, INFO, WARNING, ERROR.")] = "INFO",
) -> None:
    State.quiet = quiet
    level = logging.WARNING if quiet else getattr(logging, log_level.upper(), logging.INFO)
    setup_logging(level)


def _charter_or_exit(path: Path | None):
    try:
        return load_charter(path or default_charter_path())
    except CharterError as exc:
        fail(f"{exc.path}: invalid charter", exc.problems)


# ----------------------------------------------------------------------------------------- charter


@charter_app.command("validate")
def charter_validate(path: Annotated[Path, typer.Argument(help="Charter YAML file.")]) -> None:
    """Check a charter; exits 2 with one line per problem (field path: what is expected)."""
    charter = _charter_or_exit(path)
    console.print(
        f"[green]ok[/] {path}: {charter.identity.name}, {len(charter.values)} values, "
        f"{len(charter.cast)} cast, {len(charter.stages)} stages, policy {charter.policy}, hash {charter.hash}"
    )


@charter_app.command("show")
def charter_show(
    path: Annotated[Path, typer.Argument(help="Charter YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the validated charter as JSON.")] = False,
) -> None:
    """Print a charter: identity, values, cast, stages, policy and content hash."""
    charter = _charter_or_exit(path)
    if as_json:
        print(json.dumps({"hash": charter.hash, **charter.model_dump(mode="json")}, indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]{charter.identity.name}[/]  (charter {charter.hash}, policy: {charter.policy})")
    console.print(charter.identity.description + "\n")
    values = Table("id", "name", "statement", "harms", title="values", title_justify="left")
    for v in charter.values:
        values.add_row(v.id, v.name, v.statement, ", ".join(v.harms))
    cast = Table("name", "role", "relation", "voice", title="cast", title_justify="left")
    for c in charter.cast:
        cast.add_row(c.name, c.role, c.relation, c.voice)
    stages = Table("#", "stage", "ceiling", "description", title="stages", title_justify="left")
    for i, s in enumerate(charter.stages):
        stages.add_row(str(i), s.name, f"{s.ceiling:.2f}", s.description)
    for table in (values, cast, stages):
        console.print(table)


# ------------------------------------------------------------------------------------------- raise


def _source_specs(sources: list[str], config_sources: list[dict], genre, text_field, max_chars, limit_per_source=None):
    from pydantic import ValidationError

    from modelraising.charter import problems_from
    from modelraising.sources import SourceSpec

    overrides = {k: v for k, v in {"genre": genre, "text_field": text_field, "max_chars": max_chars}.items() if v}
    if not isinstance(config_sources, list):
        fail("invalid configuration", ["sources: must be a list of {path, genre, text_field, limit, ...} mappings"])
    raw = [dict(s) if isinstance(s, dict) else {"path": s} for s in config_sources]
    raw += [{"path": s, **overrides} for s in sources]
    if limit_per_source:
        raw = [{"limit": limit_per_source, **item} for item in raw]
    specs = []
    for i, item in enumerate(raw):
        try:
            specs.append(SourceSpec.model_validate(item))
        except ValidationError as exc:
            fail("invalid source", [f"sources[{i}].{p}" for p in problems_from(exc)])
    if not specs:
        fail("no sources: give --source PATH (repeatable) or a `sources:` list in --config")
    return specs


@app.command("raise")
@config_options(
    RaiseConfig,
    [
        "engine",
        "seed",
        "limit",
        "value_tags",
        "reflect",
        "value_threshold",
        "detector",
        "detector_second_pass",
        "policy",
        "chunk_size",
    ],
)
@config_options(
    TeacherConfig,
    [
        "model",
        "api_key_env",
        "concurrency",
        "rpm",
        "timeout",
        "max_tries",
        "temperature",
        "top_p",
        "max_tokens",
        "prompts",
        "gate_retries",
        "min_ratio",
        "max_ratio",
        "judge",
        "min_judge_score",
        "cache",
    ],
    names={"model": "teacher_model", "api_key_env": "teacher_api_key_env", "cache": "teacher_cache"},
    into="teacher_flags",
    required=False,
    help_prefix="Teacher: ",
)
def raise_(
    overrides: dict,
    teacher_flags: dict,
    out: Annotated[Path, typer.Option(help="Output directory (raised-*.jsonl, manifest.json, rejects.jsonl).")],
    source: Annotated[Optional[list[str]], typer.Option(help="File, directory or glob; repeatable.")] = None,
    charter: Annotated[Optional[Path], typer.Option(help="Charter YAML (default: the shipped default).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML run config; flags override it.")] = None,
    pillars: Annotated[
        Optional[str],
        typer.Option(help="Comma list of pillars (perspective, experience, social, values, or a registered one)."),
    ] = None,
    mix: Annotated[Optional[str], typer.Option(help="Form mix, e.g. experience=0.3,social=0.3,plain=0.4.")] = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            help="Worker processes (output identical to 1) (default: 1); with --executor ray, tasks at once (default: "
            "every CPU of the cluster)."
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            help="Where chunks run: local (processes on this machine) or ray (Ray Data; writes Parquet by default)."
        ),
    ] = "local",
    ray_address: RayAddressOption = None,
    output_format: Annotated[
        Optional[str],
        typer.Option(help="raised-*.jsonl or raised-*.parquet (default: jsonl; parquet with --executor ray)."),
    ] = None,
    limit_per_source: Annotated[
        Optional[int],
        typer.Option(
            help="At most N documents from each source file (a mixed corpus in one command; a `limit:` in a config "
            "source wins)."
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="Where the values detector's second pass (MiniLM) runs: cpu or cuda.")
    ] = "cpu",
    genre: Annotated[Optional[str], typer.Option(help="Genre for every --source (default: auto-detect).")] = None,
    text_field: Annotated[Optional[str], typer.Option(help="Text field of JSONL/Parquet/CSV sources.")] = None,
    max_chars: Annotated[Optional[int], typer.Option(help="Passage length cap when splitting long texts.")] = None,
    overwrite: OverwriteOption = False,
    teacher_url: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Teacher: OpenAI-compatible base URL, e.g. http://localhost:8000/v1; repeatable (load-balanced: "
            "fewest requests in flight; a failing one is taken out for a while)."
        ),
    ] = None,
    retry_fallbacks: Annotated[
        bool,
        typer.Option(
            help="Teacher: ask again for documents of an earlier run in --out that fell back because the teacher was "
            "unreachable (not those its gate rejected)."
        ),
    ] = False,
    exclude_flagged: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="Leave out the source documents whose records a reviewer flagged in DIR/review.jsonl (`modelraising "
            "view`); repeatable."
        ),
    ] = None,
    license: Annotated[
        Optional[list[str]],
        typer.Option(
            "--license",
            help="SOURCE=LICENSE for the dataset card (file name, path or glob = a hub id such as cc-by-4.0, or any "
            "text); repeatable; unnamed sources are 'unknown'.",
        ),
    ] = None,
) -> None:
    """Raise a corpus: every passage re-told by the charter's "I" (template engine offline, or a teacher LLM)."""
    from modelraising.raising.step import RaiseError, raise_corpus
    from modelraising.sources import SourceError

    file_extras: dict = {}
    if config is not None:
        import yaml

        try:
            loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            fail(f"{config}: cannot read config ({exc})")
        if not isinstance(loaded, dict):
            fail(f"{config}: invalid configuration", ["the file must be a mapping of option: value"])
        file_extras = {k: loaded.pop(k) for k in ("sources", "charter", "licenses") if k in loaded}
        file_extras["teacher"] = loaded.get("teacher")
    if teacher_url:
        teacher_flags = {"url": teacher_url, **teacher_flags}
    from modelraising.executor import ExecutorError, check_executor

    try:
        workers = check_executor(executor, ray_address, workers)
    except ExecutorError as exc:
        fail(str(exc))
    overrides = {
        **overrides,
        "output_format": output_format or ("parquet" if executor == "ray" else None),
        "pillars": pillars.split(",") if pillars else None,
    }
    if teacher_flags:  # flags override single keys of the config's teacher: mapping
        base = file_extras.get("teacher")
        overrides["teacher"] = {**(base if isinstance(base, dict) else {}), **teacher_flags}
    try:
        if mix:
            overrides["mix"] = parse_mix(mix)
        file_config = loaded if config is not None and isinstance(loaded, dict) else {}
        # the file's own keys (sources: and charter: taken out above), then the flags over them
        run_config = RaiseConfig.model_validate(
            {**file_config, **{k: v for k, v in overrides.items() if v is not None}}
        )
    except ConfigError as exc:
        fail(f"{exc.source}: invalid configuration", exc.problems)
    except Exception as exc:  # pydantic ValidationError from the file or the flags
        from pydantic import ValidationError

        from modelraising.charter import problems_from

        if isinstance(exc, ValidationError):
            fail(f"{config}: invalid configuration" if config else "invalid option", problems_from(exc))
        raise
    if device not in ("cpu", "cuda"):
        fail(f"--device {device}: must be cpu or cuda")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            fail("--device cuda: no CUDA device is visible to torch on this machine")
    charter_path = charter or (Path(file_extras["charter"]) if "charter" in file_extras else default_charter_path())
    _charter_or_exit(charter_path)
    specs = _source_specs(source or [], file_extras.get("sources", []), genre, text_field, max_chars, limit_per_source)
    licenses, exclusion = _card_and_review_options(license, file_extras.get("licenses"), exclude_flagged)
    _raise_preflight(specs, run_config, out)
    try:
        manifest = raise_corpus(
            charter_path,
            specs,
            out,
            run_config,
            workers=workers,
            overwrite=overwrite,
            progress=not State.quiet,
            executor=executor,
            ray_address=ray_address,
            retry_fallbacks=retry_fallbacks,
            exclude=exclusion,
            device=device,
        )
    except (RaiseError, SourceError) as exc:
        fail(str(exc))
    except Exception as exc:
        if run_config.engine == "teacher":
            from modelraising.teacher.client import TeacherConfigError

            if isinstance(exc, (TeacherConfigError, FileNotFoundError)):  # bad key/model/URL, missing --prompts
                fail(str(exc))
        raise
    if licenses:
        from modelraising.cards import write_card

        write_card(out, licenses=licenses)
    if not State.quiet:
        _print_counts(manifest, out)


def _card_and_review_options(flags, from_config, exclude_dirs):
    """Source licences (flags over the config's ``licenses:`` mapping) and the review exclusion."""
    from modelraising.cards import CardError, parse_licenses
    from modelraising.outdir import check_input_dir

    try:
        licenses = {str(k): str(v) for k, v in (from_config or {}).items()} if isinstance(from_config, dict) else {}
        if from_config is not None and not isinstance(from_config, dict):
            raise CardError("licenses: must be a mapping of SOURCE: LICENSE")
        licenses.update(parse_licenses(flags or []))
    except CardError as exc:
        fail(str(exc), one_line=True)
    if not exclude_dirs:
        return licenses, None
    from modelraising.view.review import REVIEW_FILE, load_exclusion

    check_paths(*(lambda d=d: check_input_dir(d, "--exclude-flagged") for d in exclude_dirs))
    missing = [str(d) for d in exclude_dirs if not (d / REVIEW_FILE).is_file()]
    if missing:
        fail(
            f"--exclude-flagged {missing[0]}: no {REVIEW_FILE} (flag records with `modelraising view` first)",
            one_line=True,
        )
    exclusion = load_exclusion(exclude_dirs)
    log.info(
        "--exclude-flagged: %d source documents flagged in %s are left out",
        len(exclusion.reasons),
        ", ".join(map(str, exclude_dirs)),
    )
    return licenses, exclusion


def _raise_preflight(specs, run_config: RaiseConfig, out: Path) -> None:
    """Inputs readable (at least one source), teacher paths usable, then --out claimed: all before work."""
    from modelraising.outdir import check_input_dir, check_output_file
    from modelraising.raising.step import check_sources
    from modelraising.sources import SourceError
    from modelraising.teacher.cache import default_cache_path

    teacher = run_config.teacher if run_config.engine == "teacher" else None
    try:
        check_paths(
            lambda: check_sources(specs),
            lambda: run_config.detector and check_input_dir(Path(run_config.detector), "--detector"),
            lambda: teacher and teacher.prompts and check_input_dir(teacher.prompts, "--prompts"),
            lambda: teacher and check_output_file(teacher.cache or default_cache_path(), "--teacher-cache"),
        )
    except SourceError as exc:
        fail(str(exc))
    if "values" in run_config.pillars:
        from modelraising.harm.detector import DetectorError, check_files

        try:
            check_files(run_config.detector)  # a --detector directory holds a detector, before --out is claimed
        except DetectorError as exc:
            fail(f"detector: {exc}")
    claim_out(out)


def _print_counts(manifest: dict, out: Path) -> None:
    c = manifest["counts"]
    table = Table(title=f"raised corpus: {out}", title_justify="left")
    table.add_column("count")
    table.add_column("value", justify="right")
    rows = [
        ("documents in", c["documents_in"]),
        ("raised", c["raised"]),
        ("dropped by policy", c["dropped"]),
        ("rejects (total)", c["rejects"]),
        ("exact duplicates removed", c["duplicates"]),
        ("characters in", c["chars_in"]),
        ("characters out", c["chars_out"]),
    ]
    rows += [(f"pillar: {k}", v) for k, v in c["per_pillar"].items()]
    rows += [(f"genre: {k}", v) for k, v in c["per_genre"].items()]
    rows += [(f"form: {k}", v) for k, v in c["per_form"].items()]
    rows += [(f"value fired: {k}", v) for k, v in c["values_fired"].items()]
    rows += [(f"reject: {k}", v) for k, v in manifest["rejects_by_reason"].items()]
    if "teacher" in manifest:
        t, run = manifest["teacher"]["counts"], manifest["teacher"]["run"]
        rows += [
            ("teacher: accepted", t["accepted"]),
            ("teacher: retried", t["retried"]),
            ("teacher: fallen back", t["fallen_back"]),
            ("teacher: fallen back, unreachable", t["fallback_causes"]["unavailable"]),
            ("teacher: fallen back, gate", t["fallback_causes"]["gate"]),
            ("teacher: filtered by judge", t["filtered"]),
            ("teacher: prompt tokens", t["prompt_tokens"]),
            ("teacher: completion tokens", t["completion_tokens"]),
            ("teacher: requests sent (this run)", run["requests_sent"]),
            ("teacher: cache hits (this run)", run["cache_hits"]),
        ]
        rows += [(f"teacher fallback: {k}", v) for k, v in t["fallback_reasons"].items()]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    console.print(table)


# -------------------------------------------------------------------------------------------- show


@app.command("show")
def show(
    raised: Annotated[Path, typer.Argument(help="A raised directory (output of `modelraising raise`).")],
    n: Annotated[int, typer.Option("-n", help="How many documents.")] = 3,
    source: Annotated[
        Optional[list[str]], typer.Option(help="The sources it was raised from, to show side by side.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Which documents to pick (seeded sample, one per form first).")] = 0,
) -> None:
    """Print raised documents beside their source passages."""
    from modelraising.outdir import check_input_dir
    from modelraising.preview import pick_examples, source_texts

    check_paths(lambda: check_input_dir(raised, "DIR"))
    examples = pick_examples(raised, n, seed)
    if not examples:
        fail(f"DIR {raised}: no raised documents (raised-*.jsonl or raised-*.parquet from `modelraising raise`)")
    originals = source_texts(source or [], {d.id for d in examples}) if source else {}
    for doc in examples:
        meta = doc.metadata
        table = Table(
            show_lines=True,
            expand=True,
            title=f"{doc.id}  [{meta.get('genre')} | {' -> '.join(meta.get('pillars', []))}]",
            title_justify="left",
        )
        if originals:
            table.add_column("source", ratio=1)
        table.add_column("raised", ratio=2)
        cells = ([originals.get(doc.id, "(not found)")] if originals else []) + [doc.text]
        table.add_row(*cells)
        console.print(table)


# ------------------------------------------------------------------------------ later pipeline stages


def _register_stages() -> None:
    """Each stage's commands live beside it (cli_<stage>.py) and register themselves here."""
    from modelraising import (
        cli_align,
        cli_audit,
        cli_curriculum,
        cli_eval,
        cli_experiment,
        cli_tokenize,
        cli_train,
        cli_values,
        cli_view,
    )

    for module in (
        cli_audit,
        cli_values,
        cli_curriculum,
        cli_tokenize,
        cli_train,
        cli_align,
        cli_eval,
        cli_experiment,
        cli_view,
    ):
        module.register(app)


_register_stages()


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
