"""What an evaluation run does, as one pydantic model: validated at the edge, stored in results.json.

Everything that changes a number lives here, so ``results.json["config"]`` is enough to rerun it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelraising.config import require_known
from modelraising.evaluate.suite import attackable_suites, suite_names

ETHICS_SUBSETS = ("commonsense", "deontology", "justice", "virtue")
SHIPPED_ATTACKS = ("harmful", "identity-shift", "benign", "narrow")
EVAL_DATA = Path(__file__).resolve().parents[1] / "data" / "eval"


def shared_data_dir() -> Path | None:
    """The project's ``shared/data`` (public eval sets, corpus): $MODELRAISING_SHARED_DATA, else found
    beside the working directory or this checkout (``../shared/data``); None when absent."""
    env = os.environ.get("MODELRAISING_SHARED_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for base in [Path.cwd(), *Path.cwd().parents, *here.parents]:
        for candidate in (base / "shared" / "data", base.parent / "shared" / "data"):
            if (candidate / "eval").is_dir():
                return candidate
    return None


class EvalConfig(BaseModel):
    """One ``modelraising eval`` run."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="A save_pretrained directory (model + tokenizer).")
    suites: list[str] = Field(default_factory=lambda: ["charter"])
    seed: int = Field(default=0, description="Seed for samples, bootstrap and attacks.")
    limit: int | None = Field(
        default=None, ge=1, description="Items per value / ETHICS subset / persona file / suite (seeded sample)."
    )
    batch_size: int = Field(default=16, ge=1, description="Sequences per forward pass.")
    max_length: int | None = Field(default=None, ge=8, description="Context window (default: the model's).")
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = Field(default="float32", description="Weights' dtype.")
    device: str = Field(default="cpu", description="cpu, cuda, cuda:1 or auto.")
    padding_side: Literal["left", "right"] = Field(default="right", description="Where batches are padded.")
    n_bootstrap: int = Field(default=1000, ge=0, description="Bootstrap resamples for the CIs.")
    system_prompt: bool = Field(
        default=False,
        description=(
            "Prefix every scored context with the charter rendered as a preamble (the system-prompt baseline)."
        ),
    )

    charter: str | None = Field(default=None, description="Charter YAML (default: the shipped one).")
    charter_items: Literal["auto", "examples", "none"] = Field(
        default="auto",
        description=(
            "auto: the item bank for the default charter's values, the do/dont examples for others; "
            "examples: the do/dont examples for every value; none: only the --items files."
        ),
    )
    items: list[str] = Field(default_factory=list, description="Extra charter item files (JSONL).")
    train_corpus: list[str] = Field(
        default_factory=list,
        description=(
            "What the model was trained on, for the contamination check: corpus dirs (*.jsonl records) or "
            "JSONL files (e.g. an alignment run's train_data.jsonl)."
        ),
    )
    ngram: int = Field(default=8, ge=2, description="n of the contamination n-grams.")
    contamination_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description=("Share of an item's n-grams found in the training corpus that makes it contaminated."),
    )

    data_dir: str | None = Field(default=None, description="shared/data root holding eval/ and corpus/.")
    ethics_subsets: list[str] = Field(default_factory=lambda: list(ETHICS_SUBSETS))
    persona_files: list[str] | None = Field(default=None, description="Persona file stems (default: all).")
    truthfulqa: str | None = Field(default=None, description="TruthfulQA.csv (default: under --data-dir).")
    capability_text: list[str] = Field(default_factory=list, description="Held-out text files/dirs.")
    capability_chars: int = Field(default=20_000, ge=200, description="Characters taken from each held-out file.")
    cloze_items: int = Field(default=200, ge=1, description="Capability cloze items (last word of a sentence).")

    prefixes: list[str] = Field(default_factory=list, description="Extra adversarial prefix files (JSONL).")
    attacks: list[str] = Field(
        default_factory=lambda: list(SHIPPED_ATTACKS), description="Shipped attack names or JSONL paths."
    )
    attack_steps: list[int] = Field(default_factory=lambda: [0, 10, 50, 200])
    attack_lr: float = Field(default=1e-4, gt=0, description="Fixed AdamW learning rate of the attacks.")
    attack_batch_size: int = Field(default=8, ge=1, description="Attack texts per step.")
    attack_max_tokens: int = Field(default=256, ge=8, description="Tokens per attack text at most.")
    attack_suites: list[str] = Field(default_factory=lambda: ["charter", "persona", "identity"])
    robustness_limit: int = Field(default=64, ge=1, description="Items per suite scored under each attack.")

    @field_validator("suites", "attack_suites")
    @classmethod
    def _known_suites(cls, v: list[str], info) -> list[str]:
        allowed = suite_names() if info.field_name == "suites" else attackable_suites()
        require_known(v, allowed, "suite")
        if not v:
            raise ValueError("name at least one suite")
        return list(dict.fromkeys(v))

    @field_validator("train_corpus", mode="before")
    @classmethod
    def _corpus_list(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, (str, os.PathLike)) else [str(p) for p in v]

    @field_validator("ethics_subsets")
    @classmethod
    def _known_subsets(cls, v: list[str]) -> list[str]:
        require_known(v, ETHICS_SUBSETS, "ETHICS subset")
        return v

    @field_validator("attack_steps")
    @classmethod
    def _steps(cls, v: list[int]) -> list[int]:
        if not v or any(k < 0 for k in v):
            raise ValueError("steps must be a non-empty list of integers >= 0, e.g. 0,10,50,200")
        return sorted(set(v) | {0})

    def data_root(self) -> Path | None:
        return Path(self.data_dir) if self.data_dir else shared_data_dir()

    def eval_path(self, *parts: str) -> Path:
        """A file under ``<data_dir>/eval``; a clear error when the shared data is not there."""
        root = self.data_root()
        if root is None:
            raise FileNotFoundError(
                "no shared data found: pass --data-dir DIR (the folder holding eval/ and "
                "corpus/) or set MODELRAISING_SHARED_DATA"
            )
        path = root.joinpath("eval", *parts)
        if not path.exists():
            raise FileNotFoundError(f"{path} not found (is --data-dir right?)")
        return path
