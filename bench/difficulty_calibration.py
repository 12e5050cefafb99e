"""How the absolute difficulty scale lands on the shared corpus: per source, the share of passages in
each of the default charter's stages, and the median of every feature.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/difficulty_calibration.py [--files tinystories_sample aesop_fables ...]

Passages are read the way ``modelraising raise`` reads them (``modelraising.sources``), so the numbers
describe source text; raised text adds a first-person frame around it. This is the script the fixed
ranges in ``modelraising.curriculum.config.DEFAULT_RANGES`` were calibrated with: TinyStories should
land mostly in the first two stages, WikiText and the Gutenberg licence mostly in the last two.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from modelraising.charter import default_charter_path, load_charter
from modelraising.curriculum import CurriculumConfig, document_features
from modelraising.curriculum.difficulty import combine, stage_indices
from modelraising.curriculum.features import FEATURES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus"
DEFAULT_FILES = [
    "tinystories_sample",
    "aesop_fables",
    "grimms_fairy_tales",
    "sherlock_holmes",
    "little_women",
    "moby_dick",
    "wikitext2_valid",
    "gutenberg_licence",
]


def passages(name: str) -> list[str]:
    if name == "gutenberg_licence":  # the legal text at the end of a Gutenberg book
        text = (SHARED / "moby_dick.txt").read_text(encoding="utf-8")
        licence = text[text.index("START: FULL LICENSE") :]
        return [p.strip() for p in re.split(r"\n\s*\n", licence) if len(p.strip()) > 300]
    from modelraising.document import Document
    from modelraising.sources import SourceSpec, read_sources

    return [d.text for d in read_sources([SourceSpec(path=str(SHARED / f"{name}.txt"))]) if isinstance(d, Document)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", nargs="*", default=DEFAULT_FILES)
    args = ap.parse_args()
    charter = load_charter(default_charter_path())
    config = CurriculumConfig()
    header = " ".join(f"{s.name[:12]:>12s}" for s in charter.stages)
    print(f"{'source':20s} {'passages':>8s} {header}   median features")
    for name in args.files:
        texts = passages(name)
        rows = np.array([[document_features(t)[f] for f in FEATURES] for t in texts])
        difficulty = np.round(combine(rows, FEATURES, config.effective_weights(), config.effective_ranges()), 6)
        stages = stage_indices(difficulty, charter)
        shares = " ".join(f"{100 * np.mean(stages == i):11.1f}%" for i in range(len(charter.stages)))
        medians = ", ".join(f"{f}={np.median(rows[:, i]):.2f}" for i, f in enumerate(FEATURES))
        print(f"{name:20s} {len(texts):8d} {shares}   difficulty={np.median(difficulty):.2f}, {medians}")


if __name__ == "__main__":
    main()
