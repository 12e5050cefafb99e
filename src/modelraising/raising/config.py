"""``RaiseConfig``: how a corpus is raised (everything that changes the output bytes), and the form mix."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelraising.config import ConfigError, require_known
from modelraising.raising.pillars import default_mix, form_names, pillar_names
from modelraising.teacher.config import TeacherConfig

Engine = Literal["template", "teacher"]


class RaiseConfig(BaseModel):
    """How a corpus is raised. Everything that changes the output bytes lives here (and is hashed)."""

    model_config = ConfigDict(extra="forbid")

    pillars: list[str] = Field(default_factory=lambda: list(pillar_names()))
    mix: dict[str, float] = Field(default_factory=default_mix)
    engine: Engine = Field(
        default="template", description="Raising engine: template (offline) or teacher (an LLM; see --teacher-*)."
    )
    seed: int = Field(default=0, description="Seed for every random choice.")
    value_tags: bool = Field(default=False, description="Tag value-relevant spans.")
    reflect: bool = Field(
        default=True,
        description=(
            "Values pillar: add the I's reflection. False with value_tags is conditional training "
            "(control tags only, Korbak et al. 2023): the baseline+tags arm."
        ),
    )
    value_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=20.0,
        description=(
            "Resonance evidence a passage needs before the values pillar reflects on a value it shows "
            "(summed rarity weight of the value's words within three sentences; default 3.5)."
        ),
    )
    detector: str | None = Field(
        default=None,
        description=(
            "Values pillar: harm detector directory, as `modelraising values train-detector` writes it "
            "(default: the shipped one)."
        ),
    )
    detector_second_pass: Literal["unsure", "all"] = Field(
        default="unsure",
        description=(
            "Values pillar: which texts the detector's second pass (MiniLM) reads: unsure (those the first pass "
            "cannot settle; fast) or all (every text past the gate: held-out F1 4 to 8 points better on the harm "
            "categories with 50+ examples, about three times the MiniLM work; for --device cuda)."
        ),
    )
    policy: Literal["reflect", "recontextualize", "drop"] | None = Field(
        default=None, description=("Override the charter's harmful-content policy.")
    )
    chunk_size: int = Field(
        default=1000, ge=1, le=100_000, description="Documents per output file (the resume unit's file)."
    )
    limit: int | None = Field(
        default=None, ge=1, description="Raise only the first N documents of all sources together."
    )
    output_format: Literal["jsonl", "parquet"] = Field(
        default="jsonl",
        description=(
            "raised-*.jsonl, or raised-*.parquet (columns id, text, metadata as JSON; the Ray executor's default)."
        ),
    )
    teacher: TeacherConfig | None = None

    @model_validator(mode="after")
    def _teacher_needs_endpoint(self) -> "RaiseConfig":
        if self.engine == "teacher" and self.teacher is None:
            raise ValueError(
                "engine teacher needs a teacher endpoint: --teacher-url and --teacher-model "
                "(or a teacher: mapping with url and model in --config)"
            )
        return self

    def to_dict(self) -> dict:
        """The config as JSON data; ``teacher`` only when set and ``output_format`` only when not the
        default, so earlier runs hash as they always did."""
        data = self.model_dump(mode="json")
        if data.get("teacher") is None:
            data.pop("teacher", None)
        if data["output_format"] == "jsonl":
            data.pop("output_format")
        return data

    @field_validator("pillars")
    @classmethod
    def _known_pillars(cls, v: list[str]) -> list[str]:
        require_known(v, pillar_names(), "pillar")
        return [p for p in pillar_names() if p in v]  # canonical order

    @field_validator("mix")
    @classmethod
    def _known_forms(cls, v: dict[str, float]) -> dict[str, float]:
        require_known(v, form_names(), "form")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 and sum to more than 0, e.g. experience=0.3,social=0.3,plain=0.4")
        return {k: float(v.get(k, 0.0)) for k in form_names()}


def parse_mix(spec: str) -> dict[str, float]:
    """``experience=0.3,social=0.3,plain=0.4`` -> dict; errors name the bad part."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, weight = part.partition("=")
        try:
            if not sep:
                raise ValueError
            mix[name.strip()] = float(weight)
        except ValueError:
            raise ConfigError("--mix", [f"mix: {part!r} is not NAME=WEIGHT, e.g. experience=0.3,social=0.3,plain=0.4"])
    return mix
