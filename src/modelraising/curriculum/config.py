"""What a curriculum run is: the order, the review share, and the ABSOLUTE difficulty scale.

The difficulty of a document must mean the same on every corpus, or a charter's stage ceilings mean
nothing: so every feature is mapped to [0, 1] with a fixed range (calibrated once on the shared
corpus, see ``bench/difficulty_calibration.py``), never by its rank within the corpus at hand.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelraising.curriculum.features import FEATURES, REFERENCE_FEATURE

Order = Literal["scaffold", "shuffle", "reverse", "stage-shuffle"]
ORDERS: tuple[str, ...] = Order.__args__  # type: ignore[attr-defined]
OutputFormat = Literal["jsonl", "parquet"]

# A weight applies to a group of features (the group's value is the mean of its normalised features).
WEIGHT_GROUPS: dict[str, tuple[str, ...]] = {
    "readability": ("fk_grade", "cl_grade"),
    "rarity": ("rarity_mean", "rarity_p90"),
    "sentence_length": ("sentence_words",),
    "length": ("chars",),
    "dialogue": ("dialogue_share",),
    "reference": (REFERENCE_FEATURE,),
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "readability": 0.6,
    "rarity": 0.2,
    "sentence_length": 0.1,
    "length": 0.05,
    "dialogue": 0.05,
    "reference": 0.0,
}
REFERENCE_DEFAULT_WEIGHT = 0.5  # used when --reference-model is given and the weight is not set
DEFAULT_REVIEW = 0.1  # scaffold's spaced-review share when --review is not given


class FeatureRange(BaseModel):
    """``lo`` maps to difficulty 0 and ``hi`` to 1 (clipped outside); ``lo > hi`` for a feature that
    makes text easier (dialogue). ``log``: compare log10 values (document length)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lo: float
    hi: float
    log: bool = False

    @model_validator(mode="after")
    def _valid(self) -> "FeatureRange":
        if self.lo == self.hi:
            raise ValueError("lo and hi must differ")
        if self.log and min(self.lo, self.hi) <= 0:
            raise ValueError("a log range needs lo and hi > 0")
        return self


# Calibrated on ../shared/data/corpus passages (bench/difficulty_calibration.py): TinyStories lands
# mostly in the first two of the default charter's stages, WikiText and the Gutenberg licence mostly
# in the last two; fables, fairy tales and detective stories in between.
DEFAULT_RANGES: dict[str, FeatureRange] = {
    "fk_grade": FeatureRange(lo=0.0, hi=12.0),  # Flesch-Kincaid US grade level
    "cl_grade": FeatureRange(lo=2.0, hi=12.0),  # Coleman-Liau US grade level
    "rarity_mean": FeatureRange(lo=1.8, hi=2.6),  # mean of 8 - Zipf frequency over the words
    "rarity_p90": FeatureRange(lo=3.0, hi=5.0),  # its 90th percentile (the rare-word tail)
    "sentence_words": FeatureRange(lo=5.0, hi=25.0),
    "chars": FeatureRange(lo=200.0, hi=4000.0, log=True),
    "dialogue_share": FeatureRange(lo=0.5, hi=0.0),  # more dialogue reads easier
    REFERENCE_FEATURE: FeatureRange(lo=2.0, hi=6.0),  # nats/token of the reference model
}


class CurriculumConfig(BaseModel):
    """Everything that changes the ordered output (hashed into the run fingerprint)."""

    model_config = ConfigDict(extra="forbid")

    order: Order = Field(default="scaffold", description="Curriculum order.")
    review: float | None = Field(
        default=None, ge=0.0, lt=0.5, description=("Spaced-review share in later stages (scaffold only; default 0.1).")
    )
    seed: int = Field(default=0, description="Seed for shuffles and review picks.")
    weights: dict[str, float] = Field(default_factory=dict, description="Weight per group; unset groups keep defaults.")
    ranges: dict[str, FeatureRange] = Field(default_factory=dict, description="Overrides of DEFAULT_RANGES.")
    reference_model: str | None = Field(default=None, description="Local HF causal LM directory.")
    reference_max_tokens: int = Field(default=512, ge=8, description="Tokens per document the reference model reads.")
    reference_batch_size: int = Field(default=8, ge=1, description="Documents per reference-model batch.")
    format: OutputFormat = Field(default="jsonl", description="Ordered files' format.")
    chunk_size: int = Field(default=1000, ge=1, description="Documents per scoring task (the resume unit).")
    records_per_file: int = Field(default=10_000, ge=1, description="Ordered records per output file.")

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in v if k not in WEIGHT_GROUPS]
        if unknown:
            raise ValueError(f"unknown weight {', '.join(map(repr, unknown))}; valid: {', '.join(WEIGHT_GROUPS)}")
        negative = [k for k, w in v.items() if w < 0]
        if negative:
            raise ValueError(f"weight {', '.join(map(repr, negative))} must be >= 0")
        return v

    @field_validator("ranges")
    @classmethod
    def _known_ranges(cls, v: dict[str, FeatureRange]) -> dict[str, FeatureRange]:
        unknown = [k for k in v if k not in DEFAULT_RANGES]
        if unknown:
            raise ValueError(f"unknown feature {', '.join(map(repr, unknown))}; valid: {', '.join(DEFAULT_RANGES)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "CurriculumConfig":
        if self.review and self.order != "scaffold":
            raise ValueError(f"review: spaced review applies to --order scaffold only, not {self.order}")
        weights = self.effective_weights()
        if weights["reference"] > 0 and not self.reference_model:
            raise ValueError("weights: 'reference' needs --reference-model")
        if sum(weights.values()) <= 0:
            raise ValueError("weights: at least one weight must be > 0")
        return self

    def effective_weights(self) -> dict[str, float]:
        weights = dict(DEFAULT_WEIGHTS)
        if self.reference_model:
            weights["reference"] = REFERENCE_DEFAULT_WEIGHT
        weights.update(self.weights)
        return {k: float(w) for k, w in weights.items()}

    def effective_ranges(self) -> dict[str, FeatureRange]:
        return {**DEFAULT_RANGES, **self.ranges}

    def effective_review(self) -> float:
        if self.order != "scaffold":
            return 0.0
        return DEFAULT_REVIEW if self.review is None else self.review

    def feature_names(self) -> tuple[str, ...]:
        return FEATURES + ((REFERENCE_FEATURE,) if self.reference_model else ())

    def resolved(self) -> dict:
        """The config as it was applied (defaults filled in): what curriculum.json and the manifest show."""
        data = self.model_dump(mode="json")
        data.update(
            review=self.effective_review(),
            weights=self.effective_weights(),
            ranges={k: r.model_dump() for k, r in self.effective_ranges().items()},
        )
        return data


def parse_weights(spec: str) -> dict[str, float]:
    """``readability=0.5,rarity=0.3`` -> dict; a malformed part raises ValueError naming it."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{part!r} is not NAME=WEIGHT, e.g. readability=0.6,rarity=0.2") from None
    return weights
