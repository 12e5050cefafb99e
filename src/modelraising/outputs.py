"""A step's output directory, owned in one place: recognise the run it holds, refuse or clear another's.

Every resumable step (raise, curriculum, tokenize) keeps ``.state/run.json`` with its run's
fingerprint. Starting again with the same fingerprint resumes; with another, the step refuses unless
``--overwrite``, which clears exactly the step's own outputs (never anything else in the directory).
A directory holding the step's outputs but no state is from an unknown run: refused likewise.
"""

from __future__ import annotations

import json
import platform
import shutil
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import modelraising
from modelraising.io import atomic_write_json


@dataclass(frozen=True)
class StepOutputs:
    """What one step writes into its output directory, and how it names them in its errors."""

    globs: tuple[str, ...]  # outputs by pattern (raised-*.jsonl, ordered-*, train-*.bin)
    files: tuple[str, ...]  # outputs by name (manifest.json, rejects.jsonl, ...)
    marks: tuple[str, ...]  # the globs and names whose presence shows a run was here
    held: str  # "holds {held}; use a new --out, or --overwrite to discard {them}"
    them: str
    unknown: str  # "already holds {unknown} from an unknown run"
    error: type[Exception]

    def paths(self, out: Path) -> list[Path]:
        return [*(p for g in self.globs for p in sorted(out.glob(g))), *(out / n for n in self.files)]

    def present(self, out: Path) -> bool:
        return any(any(out.glob(m)) if "*" in m else (out / m).exists() for m in self.marks)


def prepare_out_dir(out: Path, fingerprint: str, overwrite: bool, outputs: StepOutputs) -> None:
    """Resume a run with this fingerprint, or refuse (or, with ``overwrite``, clear) anything else."""
    state_file = out / ".state" / "run.json"
    if state_file.exists():
        if json.loads(state_file.read_text())["fingerprint"] != fingerprint:
            if not overwrite:
                raise outputs.error(
                    f"{out} holds {outputs.held}; use a new --out, or --overwrite to discard {outputs.them}"
                )
            clear_outputs(out, outputs)
    elif outputs.present(out) and not overwrite:
        raise outputs.error(
            f"{out} already holds {outputs.unknown} from an unknown run; use a new --out or --overwrite"
        )
    elif overwrite:
        clear_outputs(out, outputs)
    (out / ".state").mkdir(parents=True, exist_ok=True)
    atomic_write_json(state_file, {"fingerprint": fingerprint})


def clear_outputs(out: Path, outputs: StepOutputs) -> None:
    for path in outputs.paths(out):
        path.unlink(missing_ok=True)
    shutil.rmtree(out / ".state", ignore_errors=True)


def versions(*packages: str, python_last: bool = False) -> dict[str, str]:
    """What a step's output depends on besides its inputs: this package, Python and ``packages`` (their
    installed distribution versions), recorded in manifests and results."""
    out = {"modelraising": modelraising.__version__}
    found = {name: version(name) for name in packages}
    if python_last:
        return {**out, **found, "python": platform.python_version()}
    return {**out, "python": platform.python_version(), **found}
