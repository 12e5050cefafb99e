"""What every pillar returns, and the vocabulary the pillars share."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Literal

Genre = Literal["fiction", "factual", "dialogue", "other"]
GENRES: tuple[str, ...] = ("fiction", "factual", "dialogue", "other")
PILLARS: tuple[str, ...] = ("perspective", "experience", "social", "values")
# A form is what a passage is turned into before the perspective frame goes around it.
FORMS: tuple[str, ...] = ("plain", "experience", "social")


class Raised(tuple):
    """A pillar's output: the new text, the id of the template that made it, and facts for metadata.

    Immutable, like a frozen dataclass of the three fields, but a tuple underneath: pillars build two
    of these per document, and a tuple is built in half the time.
    """

    __slots__ = ()

    def __new__(cls, text: str, template: str, meta: dict[str, Any] | None = None) -> Raised:
        return tuple.__new__(cls, (text, template, {} if meta is None else meta))

    text: str = property(itemgetter(0), doc="The raised text.")  # type: ignore[assignment]
    template: str = property(itemgetter(1), doc="Id of the template that made it.")  # type: ignore[assignment]
    meta: dict[str, Any] = property(itemgetter(2), doc="Facts for the record's metadata.")  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Raised(text={self.text!r}, template={self.template!r}, meta={self.meta!r})"
