"""An experiment's config: the arms, the stage sections, the YAML it is loaded from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modelraising.align.run import AlignConfig
from modelraising.charter import problems_from
from modelraising.config import ConfigError, field_of, require_known
from modelraising.evaluate.config import EvalConfig
from modelraising.raising.config import RaiseConfig
from modelraising.raising.pillars import pillar_names
from modelraising.sources import SourceSpec
from modelraising.train.config import TrainConfig

if TYPE_CHECKING:
    from modelraising.curriculum.config import Order


log = logging.getLogger(__name__)


FORMAT = "modelraising-experiment/1"


@dataclass(frozen=True)
class Arm:
    """How one arm's model is made: which corpus, in which order, aligned how."""

    pillars: tuple[str, ...] = ()
    order: Order = "shuffle"
    align: str | None = None  # "sft" | "dpo"
    prompt: bool = False  # system-prompt baseline, applied at evaluation
    tags_only: bool = False  # conditional training: value tags, no reflections (Korbak et al. 2023)
    description: str = ""


def arm_table() -> dict[str, Arm]:
    """Every arm an experiment may name: the baselines, the raised arm, one ablation per pillar (in the
    pillar table's order, so a new pillar gets its own), and the curriculum ablations."""
    pillars = pillar_names()
    return {
        "baseline": Arm(description="raw corpus, shuffled: the conventional pretraining recipe"),
        "baseline+sft": Arm(align="sft", description="baseline, then SFT on charter demonstrations"),
        "baseline+dpo": Arm(align="dpo", description="baseline, then DPO on charter do/dont pairs"),
        "baseline+prompt": Arm(prompt=True, description="baseline, evaluated with the charter as a system prompt"),
        "baseline+tags": Arm(
            pillars=("values",),
            tags_only=True,
            description="raw corpus with value/harm control tags (conditional training)",
        ),
        "raised": Arm(pillars=pillars, order="scaffold", description="all pillars, scaffolded curriculum"),
        **{
            f"raised-no-{p}": Arm(pillars=tuple(q for q in pillars if q != p), order="scaffold", description="ablation")
            for p in pillars
        },
        "raised-shuffled": Arm(pillars=pillars, order="shuffle", description="ablation: no curriculum"),
        "raised-reverse": Arm(pillars=pillars, order="reverse", description="ablation: anti-curriculum"),
    }


REFERENCE_ARM = "baseline+sft"


# The experiment's sections are fields of the stage configs: bounds and help are defined once, in
# TrainConfig, AlignConfig and EvalConfig (``field_of``); a section states only the defaults an
# experiment's small budget wants instead (tests/test_experiment.py checks the types agree).
class TrainSettings(BaseModel):
    """``train:``: how every arm's student is pretrained."""

    model_config = ConfigDict(extra="forbid")

    preset: str = field_of(TrainConfig, "preset", "nano")
    batch_size: int = field_of(TrainConfig, "batch_size")
    block_size: int = field_of(TrainConfig, "block_size", 128)
    lr: float = field_of(TrainConfig, "lr", 3e-3)
    eval_every: int = field_of(TrainConfig, "eval_every", 50)
    eval_windows: int = field_of(TrainConfig, "eval_windows", 64)


class AlignSettings(BaseModel):
    """``align:``: the post-hoc alignment of the +sft and +dpo arms."""

    model_config = ConfigDict(extra="forbid")

    steps: int = field_of(AlignConfig, "steps", 40)
    batch_size: int = field_of(AlignConfig, "batch_size")
    lr: float = field_of(AlignConfig, "lr")
    max_length: int = field_of(AlignConfig, "max_length", 256)


class EvalSettings(BaseModel):
    """``eval:``: how every model is scored (``attacks: null``: the shipped ones)."""

    model_config = ConfigDict(extra="forbid")

    limit: int | None = field_of(EvalConfig, "limit", 40)
    attack_steps: list[int] = field_of(EvalConfig, "attack_steps")
    attacks: list[str] | None = field_of(EvalConfig, "attacks", None)
    robustness_limit: int = field_of(EvalConfig, "robustness_limit", 32)
    n_bootstrap: int = field_of(EvalConfig, "n_bootstrap")
    batch_size: int = field_of(EvalConfig, "batch_size")


class AuditSettings(BaseModel):
    """``audit:``: every raised corpus is audited (modelraising audit); caps fail the run before training."""

    model_config = ConfigDict(extra="forbid")

    fail: bool = Field(default=True, description="Stop the experiment when an enforced arm exceeds a cap.")
    enforce: list[str] | None = Field(
        default=None,
        description=(
            "Arms whose corpus must meet the caps (default: the arms raised with all four pillars); the others "
            "(ablations, baselines) are audited and reported only."
        ),
    )
    thresholds: dict[str, Any] = Field(default_factory=dict, description="AuditThresholds fields to override.")

    @field_validator("thresholds")
    @classmethod
    def _valid(cls, v: dict) -> dict:
        from modelraising.audit import AuditThresholds

        AuditThresholds.model_validate(v)
        return v


class ExperimentConfig(BaseModel):
    """One experiment YAML: corpus, charter, budget, seeds, arms, suites."""

    model_config = ConfigDict(extra="forbid")

    name: str = "experiment"
    charter: str | None = None
    sources: list[SourceSpec] = Field(min_length=1)
    optional_sources: list[SourceSpec] = Field(
        default_factory=list, description="Sources used when present (e.g. ../shared/data), skipped otherwise."
    )
    tokens: int = Field(ge=1000, description="Token budget per arm (pretraining + alignment).")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    arms: list[str] = Field(min_length=1)
    suites: list[str] = Field(default_factory=lambda: ["charter", "capability"], min_length=1)
    vocab_size: int = Field(default=4096, ge=300)
    val_fraction: float = Field(default=0.02, ge=0.0, lt=0.5)
    review: float = Field(default=0.1, ge=0.0, lt=0.5)
    raise_config: dict[str, Any] = Field(
        default_factory=dict, alias="raise", description="RaiseConfig fields shared by every arm (mix, seed, ...)."
    )
    workers: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Processes for raise, curriculum and tokenize (default 1); with executor ray, tasks at once "
            "(default: every CPU of the cluster)."
        ),
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description=(
            "Where raise, curriculum scoring and tokenizing run; the same outputs either way (not in the cache keys)."
        ),
    )
    ray_address: str | None = Field(default=None, description="With executor ray: a cluster to join, e.g. auto.")
    train: TrainSettings = Field(default_factory=TrainSettings)
    align: AlignSettings = Field(default_factory=AlignSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    examples: int = Field(default=3, ge=0, description="Raised documents shown beside their sources.")
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @field_validator("arms")
    @classmethod
    def _known_arms(cls, v: list[str]) -> list[str]:
        require_known(v, arm_table(), "arm")
        return list(dict.fromkeys(v))

    @field_validator("suites")
    @classmethod
    def _known_suites(cls, v: list[str]) -> list[str]:
        from modelraising.evaluate.suite import suite_names

        require_known(v, suite_names(), "suite")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _ray_address_needs_ray(self) -> "ExperimentConfig":
        if self.ray_address and self.executor != "ray":
            raise ValueError("ray_address needs executor: ray")
        return self

    @field_validator("raise_config")
    @classmethod
    def _valid_raise(cls, v: dict) -> dict:
        RaiseConfig.model_validate({k: x for k, x in v.items() if k != "pillars"})
        return v


def load_experiment_config(path: str | Path) -> ExperimentConfig:
    """Validate an experiment YAML; relative paths resolve against the YAML's folder."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["(top level): must be a mapping (name, sources, tokens, arms, ...)"])
    base = path.resolve().parent
    for key in ("sources", "optional_sources"):
        for spec in data.get(key) or []:
            if isinstance(spec, dict) and "path" in spec and not Path(spec["path"]).is_absolute():
                spec["path"] = str((base / spec["path"]).resolve())
    if data.get("charter") and not Path(data["charter"]).is_absolute():
        data["charter"] = str((base / data["charter"]).resolve())
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problems_from(exc)) from None
