"""What every pillar returns, and the vocabulary the pillars share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Genre = Literal["fiction", "factual", "dialogue", "other"]
GENRES: tuple[str, ...] = ("fiction", "factual", "dialogue", "other")
PILLARS: tuple[str, ...] = ("perspective", "experience", "social", "values")
# A form is what a passage is turned into before the perspective frame goes around it.
FORMS: tuple[str, ...] = ("plain", "experience", "social")


@dataclass(frozen=True)
class Raised:
    """A pillar's output: the new text, the id of the template that made it, and facts for metadata."""

    text: str
    template: str
    meta: dict[str, Any] = field(default_factory=dict)
