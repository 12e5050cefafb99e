"""How the teacher LLM is reached and asked: the ``teacher:`` mapping of a run config."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
