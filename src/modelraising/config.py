"""Typed run configuration, loaded from YAML at the edge and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modelraising.charter import problems_from
from modelraising.raising.pillars import default_mix, form_names, pillar_names

Engine = Literal["template", "teacher"]
M = TypeVar("M", bound=BaseModel)


def require_known(values, allowed, what: str) -> None:
    """Raise the validation message for names not in ``allowed`` (``what``: "pillar", "arm", ...)."""
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; valid: {', '.join(allowed)}")


class ConfigError(Exception):
    """An invalid run configuration; ``problems`` has one line per field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))


class TeacherConfig(BaseModel):
    """How the teacher LLM is reached and asked (``engine: teacher``; the ``teacher:`` mapping of a run config).

    Fields that only change *how fast* or *where* answers come from (URLs, key, concurrency, rate,
    timeout, retries, cache path) are left out of the run fingerprint (``fingerprint_fields``): a
    resumed run may change them. Everything that changes what is asked or accepted is in it.
    """

    model_config = ConfigDict(extra="forbid")

    url: list[str] = Field(
        min_length=1, description="Base URL(s) of OpenAI-compatible endpoints, e.g. http://localhost:8000/v1."
    )
    model: str = Field(min_length=1, description="Model name the endpoint serves.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable holding the API key (unset: no key)."
    )
    concurrency: int = Field(
        default=32, ge=1, le=4096, description="Requests in flight at most (all endpoints together)."
    )
    rpm: float | None = Field(default=None, gt=0, description="Requests per minute at most (all endpoints together).")
    timeout: float = Field(default=120.0, gt=0, description="Seconds one request may take.")
    max_tries: int = Field(
        default=5, ge=1, le=50, description="HTTP attempts per request (429, 5xx, timeouts, cut connections)."
    )
    backoff_base: float = Field(
        default=1.0, ge=0, description="First backoff in seconds; doubles per try, full jitter."
    )
    backoff_max: float = Field(
        default=60.0, ge=0, description="Longest backoff (and longest Retry-After honoured) in seconds."
    )
    endpoint_cooldown: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds a failing endpoint stays out of the rotation (doubling while it keeps failing, at most "
            "backoff_max) when there are several url."
        ),
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus sampling top_p.")
    max_tokens: int = Field(default=2048, ge=16, description="Tokens per answer at most.")
    prompts: str | None = Field(
        default=None, description="Directory of Jinja2 templates overriding the shipped ones by file name."
    )
    gate_retries: int = Field(
        default=2, ge=0, le=10, description="Re-asks with the gate's complaint, then the template engine."
    )
    min_ratio: float = Field(
        default=0.5, ge=0, description="Rewrites must be at least this share of the source's length."
    )
    max_ratio: float = Field(
        default=4.0, gt=0, description="Answers may be at most this many times max(source length, 250)."
    )
    judge: bool = Field(default=False, description="Score every raised document against the charter with an LLM judge.")
    min_judge_score: float | None = Field(
        default=None, ge=1, le=5, description="Drop documents whose mean judge score is lower."
    )
    cache: str | None = Field(
        default=None, description="SQLite request cache (default: ~/.cache/modelraising/teacher.sqlite)."
    )

    @field_validator("url", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("url")
    @classmethod
    def _http(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not u.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"not an http(s) URL: {', '.join(bad)}; e.g. http://localhost:8000/v1")
        return [u.rstrip("/") for u in v]

    @model_validator(mode="after")
    def _judge_threshold(self) -> "TeacherConfig":
        if self.min_judge_score is not None and not self.judge:
            raise ValueError("min_judge_score needs judge: true (--judge)")
        return self

    # Operational fields: they do not change what is asked or accepted, so a resumed run may change them.
    OPERATIONAL: ClassVar[tuple[str, ...]] = (
        "url",
        "api_key_env",
        "concurrency",
        "rpm",
        "timeout",
        "max_tries",
        "backoff_base",
        "backoff_max",
        "endpoint_cooldown",
        "prompts",
        "cache",
    )

    def fingerprint_fields(self) -> dict:
        """The fields that change the output (the prompts enter by their version hash, not their path)."""
        return self.model_dump(mode="json", exclude=set(self.OPERATIONAL))


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


def load_yaml_config(path: str | Path | None, model: type[M], overrides: dict | None = None) -> M:
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


_KEEP: Any = object()


def field_of(source: type[BaseModel], name: str, default: Any = _KEEP) -> Any:
    """Field ``name`` of another config, for a section that reuses it: bounds and help come from
    ``source`` (defined once there); ``default`` replaces the source's default where the section wants
    another (None: "unset, the source's default applies later")."""
    from pydantic.fields import FieldInfo

    info = source.model_fields[name]
    if default is _KEEP:
        return FieldInfo.merge_field_infos(info)
    return FieldInfo.merge_field_infos(info, default=default, default_factory=None)
