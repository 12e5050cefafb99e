"""``modelraising values ...``: the values pillar's detector: retrain it, evaluate it, try it on text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from modelraising.cli_common import State, check_paths, claim_out, console, fail

values_app = typer.Typer(help="The values pillar's harm detector: train, evaluate, check text.", no_args_is_help=True)


SecondPassOption = Annotated[
    str,
    typer.Option(
        help="Which texts the second pass (MiniLM) reads: unsure (those the first pass cannot settle) or all (every "
        "text past the gate)."
    ),
]


def _check_second_pass(second_pass: str) -> None:
    from modelraising.harm.detector import SCOPES

    if second_pass not in SCOPES:
        fail(f"--second-pass {second_pass}: must be one of {', '.join(SCOPES)}")


def register(app: typer.Typer) -> None:
    app.add_typer(values_app, name="values")


def _default_data() -> Path:
    return Path.cwd().parent / "shared" / "data"


@values_app.command("train-detector")
def train_detector(
    out: Annotated[Path, typer.Option(help="Where the detector files go (then `raise --detector DIR` uses them).")],
    data: Annotated[
        Optional[Path], typer.Option(help="Public data directory with corpus/ and eval/ (default: ../shared/data).")
    ] = None,
    epochs: Annotated[float, typer.Option(help="Second-pass training epochs.")] = 2.0,
    lora_rank: Annotated[int, typer.Option(help="Rank of the LoRA updates on MiniLM's top layers.")] = 16,
    first_layer: Annotated[int, typer.Option(help="MiniLM layers below this stay frozen.")] = 4,
    max_fpr: Annotated[
        float,
        typer.Option(help="Harmful-request threshold: at most this false-positive rate on benign validation passages."),
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed for every random choice.")] = 0,
    limit: Annotated[
        Optional[int], typer.Option(help="At most this many examples per source and split (a quick check).")
    ] = None,
) -> None:
    """Train the two-pass harm detector on the labelled data and evaluate it on the held-out split."""
    from modelraising.harm.data import DataError
    from modelraising.harm.train import TrainConfig
    from modelraising.harm.train import train_detector as run
    from modelraising.outdir import check_input_dir

    data = data or _default_data()
    check_paths(lambda: check_input_dir(data, "--data"))
    claim_out(out)
    cfg = TrainConfig(
        data=str(data),
        out=str(out),
        epochs=epochs,
        lora_rank=lora_rank,
        first_layer=first_layer,
        max_fpr=max_fpr,
        seed=seed,
        limit=limit,
    )
    try:
        report = run(cfg, progress=not State.quiet)
    except DataError as exc:
        fail(str(exc), one_line=True)
    _print(report)
    console.print(f"detector: {out} (report.md, report.json)")


@values_app.command("evaluate-detector")
def evaluate_detector(
    detector: Annotated[Optional[Path], typer.Option(help="Detector directory (default: the shipped one).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Public data directory (default: ../shared/data).")] = None,
    second_pass: SecondPassOption = "unsure",
) -> None:
    """Evaluate a detector on the held-out split of the labelled data."""
    from modelraising.harm.data import DataError, build_examples
    from modelraising.harm.detector import DetectorError, HarmDetector
    from modelraising.harm.train import evaluate

    _check_second_pass(second_pass)
    data = data or _default_data()
    try:
        det = HarmDetector.load(detector)
        report = {"held_out": evaluate(det, [e for e in build_examples(data) if e.split == "test"], second_pass)}
    except (DataError, DetectorError) as exc:
        fail(str(exc), one_line=True)
    _print(report)


@values_app.command("check")
def check(
    text: Annotated[list[str], typer.Argument(help="Texts to judge.")],
    detector: Annotated[Optional[Path], typer.Option(help="Detector directory (default: the shipped one).")] = None,
    second_pass: SecondPassOption = "unsure",
) -> None:
    """Print the detector's labels and probabilities for each text."""
    from modelraising.harm.detector import DetectorError, HarmDetector

    _check_second_pass(second_pass)
    try:
        det = HarmDetector.load(detector)
    except DetectorError as exc:
        fail(str(exc), one_line=True)
    probs, via = det.predict(list(text), second_pass)
    for t, p, v in zip(text, probs, via):
        fired = det.fired(p, v)
        top = {name: round(float(p[i]), 3) for i, name in enumerate(det.labels) if p[i] >= 0.1}
        print(json.dumps({"text": t[:80], "fired": fired, "probabilities": top, "via": v}, ensure_ascii=False))


def _print(report: dict) -> None:
    held = report["held_out"]
    table = Table("label", "support", "precision", "recall", "F1", title="held-out split", title_justify="left")
    for name, r in held["labels"].items():
        table.add_row(name, str(r["support"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}")
    console.print(table)
    for name, by in held.get("f1_by_source", {}).items():
        if held["labels"][name]["support"] >= 50 and name != "harmful_request":
            console.print(
                f"{name} F1 by source: " + ", ".join(f"{s} {c['f1']:.2f} ({c['support']})" for s, c in by.items())
            )
    req = held["request"]
    console.print(
        f"harmful-request recall {req['recall']:.3f}, false-positive rate on benign passages "
        f"{req['fpr_benign_passages']:.2%}; second pass on {held['second_pass_share']:.1%} of texts"
    )
