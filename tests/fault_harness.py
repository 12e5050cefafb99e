"""Driver of the fault-injection test (``test_fault_injection.py``), run as its own process.

``python fault_harness.py WORKDIR SEED [SEED ...]`` runs raise, curriculum and tokenize once
uninterrupted (``WORKDIR/ref/{raise,curriculum,tokenize}``), then, per seed and step, again into
``WORKDIR/seed-S/STEP``: each attempt is a forked child running the step function, SIGKILLed at a
random point of its work (once a random number of its resume units (chunks, scored chunks, shards)
is on disk, plus a random fraction of a unit's time; the last unit's number stands for the finishing
phase), until ``KILLS`` attempts have been killed (or one finishes first); the last one runs to the end.
Every step reads the reference output of the step before it,
so each one's output can be compared with the reference byte for byte. Prints a JSON summary.

Its own process, not pytest's: a fork of a process that holds other threads' locks can hang, and the
warm-up below (wordfreq's tables, matplotlib) is inherited by every forked attempt, so an attempt
starts in milliseconds and the kill points fall in the step's own work, not in imports.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modelraising.charter import default_charter_path  # noqa: E402
from modelraising.curriculum import CurriculumConfig, run_curriculum  # noqa: E402
from modelraising.raising.config import RaiseConfig  # noqa: E402
from modelraising.raising.step import raise_corpus  # noqa: E402
from modelraising.shards import TokenizeConfig, tokenize_corpus  # noqa: E402
from modelraising.sources import SourceSpec  # noqa: E402

KILLS = 3
STEPS = ("raise", "curriculum", "tokenize")
UNITS = {"raise": "chunk-*.json", "curriculum": "scores-*.npz", "tokenize": "shard-*.json"}  # in .state/
CORPUS = Path(__file__).resolve().parents[1] / "examples" / "starter"
CHARTER = default_charter_path()


def sources(workdir: Path) -> list[SourceSpec]:
    """The starter corpus plus generated passages: enough chunks, files and shards to be killed between."""
    extra = workdir / "corpus.jsonl"
    if not extra.exists():
        rng = random.Random(7)
        words = (
            "river stone fox lantern garden winter neighbour bridge promise honest careful quiet "
            "harvest letter morning storm ladder kitchen meadow shelter"
        ).split()
        with open(extra, "w", encoding="utf-8") as f:
            for i in range(220):
                sentences = [
                    " ".join(rng.choice(words) for _ in range(rng.randint(6, 14))).capitalize() + "."
                    for _ in range(rng.randint(2, 6))
                ]
                f.write(json.dumps({"text": f"Note {i}. " + " ".join(sentences)}) + "\n")
            f.write('{"text": "a broken line\n')  # a reject, so rejects.jsonl is compared too
    return [SourceSpec(path=str(CORPUS)), SourceSpec(path=str(extra))]


def run_step(step: str, workdir: Path, out: Path) -> None:
    ref = workdir / "ref"
    if step == "raise":
        config = RaiseConfig(pillars=["perspective", "experience", "social"], chunk_size=20)
        raise_corpus(CHARTER, sources(workdir), out, config, progress=False)
    elif step == "curriculum":
        run_curriculum(
            ref / "raise", CHARTER, out, CurriculumConfig(chunk_size=25, records_per_file=60), progress=False
        )
    else:
        tokenize_corpus(ref / "curriculum", out, TokenizeConfig(vocab_size=400, shard_tokens=2048), progress=False)


def attempt(step: str, workdir: Path, out: Path, kill_at: tuple[int, float] | None) -> bool:
    """One forked attempt; True when it finished. ``kill_at = (units, delay)``: SIGKILL it ``delay``
    seconds after ``units`` resume units are on disk, if it is still running then."""
    pid = os.fork()
    if pid == 0:  # the child: the step, then out without running any of the parent's cleanup
        code = 0
        try:
            run_step(step, workdir, out)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)
    deadline = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{step} failed in {out} (exit {os.waitstatus_to_exitcode(status)})")
            return True
        if kill_at is not None and deadline is None and units(out, step) >= kill_at[0]:
            deadline = time.perf_counter() + kill_at[1]
        if deadline is not None and time.perf_counter() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.001)


def units(out: Path, step: str) -> int:
    """The step's finished resume units (chunks, scored chunks, shards) in ``out``."""
    return len(list((out / ".state").glob(UNITS[step])))


def warm_up() -> None:
    """What every attempt would otherwise load again: wordfreq's tables, textstat, matplotlib, transformers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    from transformers import PreTrainedTokenizerFast  # noqa: F401

    from modelraising.curriculum.features import document_features

    document_features("I walked to the river with my grandfather, and he told me why the water is cold.")


def main(workdir: Path, seeds: list[int]) -> dict:
    warm_up()
    summary: dict = {"reference_s": {}, "units": {}, "kills": {}, "attempts": {}, "elapsed_s": 0.0}
    started = time.perf_counter()
    for step in STEPS:
        began = time.perf_counter()
        attempt(step, workdir, workdir / "ref" / step, None)
        summary["reference_s"][step] = round(time.perf_counter() - began, 3)
        summary["units"][step] = units(workdir / "ref" / step, step)
    for seed in seeds:
        rng = random.Random(seed)
        for step in STEPS:
            out = workdir / f"seed-{seed}" / step
            total, seconds = summary["units"][step], summary["reference_s"][step]
            kills: list[int] = []  # finished units on disk at each kill
            attempts = 0
            while True:
                attempts += 1
                kill_at = None
                if len(kills) < KILLS:  # a random point of the work: after some unit, a little later
                    kill_at = (rng.randint(units(out, step), total), rng.uniform(0, 2 * seconds / (total + 1)))
                if attempt(step, workdir, out, kill_at):
                    break
                kills.append(units(out, step))
            summary["kills"][f"{seed}/{step}"] = kills
            summary["attempts"][f"{seed}/{step}"] = attempts
    summary["elapsed_s"] = round(time.perf_counter() - started, 3)
    return summary


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), [int(s) for s in sys.argv[2:]])))
