"""Typed run configuration, loaded from YAML at the edge and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelraising.charter import problems_from
from modelraising.raising.base import FORMS, PILLARS

Engine = Literal["template"]


class ConfigError(Exception):
    """An invalid run configuration; ``problems`` has one line per field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))


class RaiseConfig(BaseModel):
    """How a corpus is raised. Everything that changes the output bytes lives here (and is hashed)."""

    model_config = ConfigDict(extra="forbid")

    pillars: list[str] = Field(default_factory=lambda: list(PILLARS))
    mix: dict[str, float] = Field(default_factory=lambda: {"experience": 0.3, "social": 0.3, "plain": 0.4})
    engine: Engine = "template"
    seed: int = 0
    value_tags: bool = False
    value_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    policy: Literal["reflect", "recontextualize", "drop"] | None = None
    chunk_size: int = Field(default=1000, ge=1, le=100_000)
    limit: int | None = Field(default=None, ge=1)

    @field_validator("pillars")
    @classmethod
    def _known_pillars(cls, v: list[str]) -> list[str]:
        unknown = [p for p in v if p not in PILLARS]
        if unknown:
            raise ValueError(f"unknown pillar(s) {', '.join(unknown)}; valid: {', '.join(PILLARS)}")
        return [p for p in PILLARS if p in v]  # canonical order

    @field_validator("mix")
    @classmethod
    def _known_forms(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in v if k not in FORMS]
        if unknown:
            raise ValueError(f"unknown form(s) {', '.join(unknown)}; valid: {', '.join(FORMS)}")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 and sum to more than 0, e.g. experience=0.3,social=0.3,plain=0.4")
        return {k: float(v.get(k, 0.0)) for k in FORMS}


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


def load_yaml_config(path: str | Path, model: type[BaseModel], overrides: dict | None = None) -> BaseModel:
    """Validate a YAML file (plus CLI overrides) into ``model``; all problems reported at once."""
    data: dict = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(str(path), ["(top level): must be a mapping of option: value"])
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path or "options"), problems_from(exc)) from None
