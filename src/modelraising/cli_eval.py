"""``modelraising eval``: score a model, compare result files, export lm-eval tasks.

Three forms share the ``eval`` group::

    modelraising eval --model DIR --suite charter,ethics --out results.json
    modelraising eval --compare A.json B.json [C.json ...]
    modelraising eval export-lm-eval DIR [--suite ...]

Wire it into the main app with ``register(app)``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from typer.core import TyperGroup

from modelraising.cli_common import config_options, console, fail
from modelraising.cli_common import quiet as _quiet
from modelraising.evaluate.config import EvalConfig

log = logging.getLogger("modelraising")


class _EvalGroup(TyperGroup):
    """Lets ``--compare`` take several files (``--compare A.json B.json``): click options take one
    value each, so the following non-option words are rewritten to repeated ``--compare`` options
    before click (which would otherwise read ``A.json`` as a sub-command name) parses them."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, expand_compare(args))


def expand_compare(args: list[str]) -> list[str]:
    out, collecting, taken = [], False, 0
    for arg in args:
        if arg == "--compare":
            collecting, taken = True, 0
            continue
        if collecting and not arg.startswith("-"):
            out += ["--compare", arg]
            taken += 1
            continue
        if collecting and taken == 0:
            out.append("--compare")  # let click report the missing value
        collecting = False
        out.append(arg)
    if collecting and taken == 0:
        out.append("--compare")
    return out


eval_app = typer.Typer(
    cls=_EvalGroup,
    invoke_without_command=True,
    add_completion=False,
    help="Evaluate values by log-likelihood: run suites, compare results, export lm-eval tasks.",
)


def _csv(value: Optional[str]) -> Optional[list[str]]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def build_config(config: Optional[Path], **flags):
    """EvalConfig from an optional YAML file plus flags (flags win); problems -> clear exit 2."""
    from modelraising.config import ConfigError, load_yaml_config
    from modelraising.evaluate.config import EvalConfig
    from modelraising.evaluate.suite import suite_names

    suites = _csv(flags.pop("suite", None))
    if suites == ["all"]:
        suites = list(suite_names())
    steps = flags.pop("attack_steps", None)
    overrides = {
        **flags,
        "suites": suites,
        "attack_suites": _csv(flags.pop("attack_suites", None)),
        "ethics_subsets": _csv(flags.pop("ethics_subsets", None)),
        "persona_files": _csv(flags.pop("persona_files", None)),
    }
    try:
        overrides["attack_steps"] = [int(s) for s in _csv(steps) or []] if steps else None
    except ValueError:
        fail(f"--attack-steps: {steps!r} is not a comma list of integers, e.g. 0,10,50,200")
    overrides = {k: v for k, v in overrides.items() if v not in (None, [], ())}
    try:
        return load_yaml_config(config, EvalConfig, overrides)
    except ConfigError as exc:
        fail(f"{exc.source}: invalid evaluation configuration", exc.problems)


def _print_summary(results: dict, out: Path) -> None:
    """The headline table (each suite's summary metrics, then its own detail rows), then what suites add."""
    from modelraising.evaluate.suite import ci_text, get_suite, reading_text

    table = Table(
        title=f"{results['model']['path']}  ->  {out}",
        title_justify="left",
        caption="Headlines (first row of a suite) are calibrated; reading: degenerate (answers do not "
        "depend on the item), at chance (95% CI includes chance), above / below chance.",
        caption_justify="left",
    )
    for col in ("suite", "metric", "value", "95% CI", "n", "baseline", "reading"):
        table.add_column(col, justify="right" if col in ("value", "n") else "left")
    extra = []
    for name, suite in results["suites"].items():
        verdict = suite.get("verdict")
        for metric in suite.get("summary", [suite["headline"]]):
            m = suite["metrics"].get(metric)
            if not m or m.get("value") is None:
                continue
            base = suite.get("baselines", {})
            baseline = ", ".join(f"{k} {v:.3f}" for k, v in base.items() if isinstance(v, float))
            head = metric == suite["headline"]
            value = "degenerate" if head and verdict and verdict.get("degenerate") else f"{m['value']:.3f}"
            n = f"{m.get('n', '')}" + (
                f" ({m['n_clusters']} clusters)" if m.get("n_clusters", m.get("n")) != m.get("n") else ""
            )
            table.add_row(name, metric, value, ci_text(m), n, baseline, reading_text(verdict) if head else "")
        spec = get_suite(name)
        for row in spec.detail_rows(suite) if spec.detail_rows else []:
            table.add_row("", *row)
        extra += spec.console_extra(suite) if spec.console_extra else []
    console.print(table)
    for item in extra:
        console.print(item)


@eval_app.callback()
@config_options(
    EvalConfig,
    [
        "limit",
        "seed",
        "batch_size",
        "device",
        "dtype",
        "max_length",
        "padding_side",
        "charter",
        "charter_items",
        "ngram",
        "contamination_threshold",
        "data_dir",
        "truthfulqa",
        "capability_chars",
        "cloze_items",
        "attack_lr",
        "attack_batch_size",
        "attack_max_tokens",
        "robustness_limit",
        "n_bootstrap",
        "system_prompt",
    ],
    names={"n_bootstrap": "bootstrap"},
)
def eval_main(
    ctx: typer.Context,
    overrides: dict,
    model: Annotated[Optional[Path], typer.Option(help="Model directory (save_pretrained: model + tokenizer).")] = None,
    suite: Annotated[
        Optional[str],
        typer.Option(
            help="Comma list of suites (charter, ethics, persona, truthfulqa, identity, robustness, capability, or a "
            "registered one), or all."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write results.json.")] = Path("results.json"),
    compare: Annotated[
        Optional[list[Path]], typer.Option(help="Compare result files side by side: --compare A.json B.json ...")
    ] = None,
    groups: Annotated[bool, typer.Option(help="With --compare: also per value / subset / persona-file rows.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="YAML with EvalConfig fields; flags override it.")] = None,
    items: Annotated[
        Optional[list[Path]], typer.Option(help="Extra charter items JSONL (context, keep, betray, value); repeatable.")
    ] = None,
    train_corpus: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="What the model was trained on (corpus dir or JSONL file) for the contamination check; repeatable."
        ),
    ] = None,
    ethics_subsets: Annotated[
        Optional[str], typer.Option(help="Comma list of commonsense,deontology,justice,virtue.")
    ] = None,
    persona_files: Annotated[
        Optional[str], typer.Option(help="Comma list of persona file stems (default: all).")
    ] = None,
    capability_text: Annotated[
        Optional[list[Path]], typer.Option(help="Held-out text file or dir; repeatable.")
    ] = None,
    prefix_file: Annotated[
        Optional[list[Path]], typer.Option(help="Extra adversarial prefixes JSONL (text, kind); repeatable.")
    ] = None,
    attack: Annotated[
        Optional[list[str]],
        typer.Option(help="Attack set: harmful, identity-shift, benign, narrow or a JSONL path; repeatable."),
    ] = None,
    attack_steps: Annotated[
        Optional[str], typer.Option(help="Fine-tuning steps to score at, e.g. 0,10,50,200.")
    ] = None,
    attack_suites: Annotated[
        Optional[str], typer.Option(help="Suites re-scored during attacks (first = primary).")
    ] = None,
) -> None:
    """Score a model (--model), or compare result files (--compare); sub-command: export-lm-eval."""
    if ctx.invoked_subcommand is not None:
        return
    if compare:
        _compare(compare, groups)
        return
    if model is None:
        console.print(ctx.get_help())
        fail("give --model DIR to evaluate, or --compare A.json B.json, or a sub-command (export-lm-eval)")
    cfg = build_config(
        config,
        **overrides,
        model=str(model),
        suite=suite,
        items=[str(p) for p in items or []],
        train_corpus=[str(p) for p in train_corpus or []],
        ethics_subsets=ethics_subsets,
        persona_files=persona_files,
        capability_text=[str(p) for p in capability_text or []],
        prefixes=[str(p) for p in prefix_file or []],
        attacks=attack,
        attack_steps=attack_steps,
        attack_suites=attack_suites,
    )
    from modelraising.cli_common import check_paths
    from modelraising.outdir import check_output_file

    check_paths(lambda: check_output_file(out))  # before the model is scored, not after
    from modelraising.charter import CharterError
    from modelraising.evaluate.items import ItemError
    from modelraising.evaluate.scoring import model_dir_problem
    from modelraising.evaluate.step import run_eval

    problem = model_dir_problem(cfg.model)
    if problem:
        fail(problem, one_line=True)
    try:
        results = run_eval(cfg, out, progress=not _quiet())
    except ItemError as exc:
        fail(exc.message, exc.problems)
    except (CharterError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if not _quiet():
        _print_summary(results, out)


def _compare(paths: list[Path], groups: bool) -> None:
    from modelraising.evaluate.results import compare_table

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        fail("result file(s) not found: " + ", ".join(missing))
    try:
        console.print(compare_table(paths, groups=groups))
    except (ValueError, KeyError) as exc:
        fail(str(exc))


@eval_app.command("export-lm-eval")
def export_lm_eval(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the task YAMLs and data files.")],
    suite: Annotated[Optional[str], typer.Option(help="Comma list of suites, or all (default).")] = "all",
    config: Annotated[Optional[Path], typer.Option(help="YAML with EvalConfig fields.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Items per subset / value / persona file.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the samples.")] = None,
    charter: Annotated[Optional[Path], typer.Option(help="Charter YAML (default: the shipped one).")] = None,
    items: Annotated[Optional[list[Path]], typer.Option(help="Extra charter items JSONL; repeatable.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="shared/data root holding eval/ and corpus/.")] = None,
    robustness_limit: Annotated[Optional[int], typer.Option(help="Items per suite in the prefix tasks.")] = None,
) -> None:
    """Write every suite as an lm-evaluation-harness task (run with lm_eval --include_path DIR)."""
    from modelraising.charter import CharterError, default_charter_path, load_charter
    from modelraising.cli_common import claim_out
    from modelraising.evaluate.items import ItemError
    from modelraising.evaluate.lm_eval_export import export

    claim_out(out_dir, "OUT_DIR")
    cfg = build_config(
        config,
        model=".",
        suite=suite,
        limit=limit,
        seed=seed,
        charter=str(charter) if charter else None,
        items=[str(p) for p in items or []],
        data_dir=str(data_dir) if data_dir else None,
        robustness_limit=robustness_limit,
    )
    try:
        written = export(cfg, load_charter(cfg.charter or default_charter_path()), out_dir)
    except ItemError as exc:
        fail(exc.message, exc.problems)
    except (CharterError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    tasks = [t for names in written.values() for t in names]
    console.print(f"[green]wrote[/] {len(tasks)} tasks to {out_dir}: {', '.join(tasks)}")
    console.print(
        f"run: lm_eval --model hf --model_args pretrained=MODEL --include_path {out_dir} --tasks {','.join(tasks)}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``eval`` (with ``--compare`` and ``export-lm-eval``) to the main ``modelraising`` app."""
    app.add_typer(eval_app, name="eval")
