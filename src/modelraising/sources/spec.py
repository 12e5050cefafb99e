"""What a source is: its config (:class:`SourceSpec`), its errors and the counts a read keeps."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelraising.document import Document
from modelraising.rejects import Reject, reason_kind

log = logging.getLogger(__name__)

Genre = Literal["fiction", "factual", "dialogue", "other"]
GENRES: tuple[str, ...] = ("fiction", "factual", "dialogue", "other")


SUFFIXES = (".jsonl.gz", ".jsonl", ".parquet", ".csv", ".txt")  # longest first: ".jsonl.gz" before ".jsonl"
END_OF_TEXT = "<|endoftext|>"
TEXT_FIELDS = ("text", "content", "body")  # preferred names when text_field is not given
SNIFF_ROWS = 50  # rows looked at to pick a text field
GENRE_VOTES = 64  # passages that vote on a text file's genre


class SourceError(Exception):
    """A source config that names nothing readable: a mistake in the config, not bad data."""


class SourceSpec(BaseModel):
    """One input (a file, a directory searched recursively, or a glob) and how to read it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    genre: Literal["auto", "fiction", "factual", "dialogue", "other"] = "auto"
    text_field: str | None = None
    max_chars: int = Field(default=2000, gt=100)
    min_chars: int = Field(default=20, ge=0)
    max_doc_chars: int = Field(default=100_000, gt=0)
    clean: Literal["auto", "none", "gutenberg", "wikitext"] = "auto"
    title: str | None = None
    limit: int | None = Field(default=None, ge=1, description="At most this many documents from each file.")

    @model_validator(mode="after")
    def _min_below_max(self) -> "SourceSpec":
        if self.min_chars >= self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) must be smaller than max_chars ({self.max_chars})")
        return self


@dataclass
class SourceStats:
    """What reading the sources produced; goes into the manifest."""

    files: int = 0
    documents: int = 0
    duplicates: int = 0
    chars: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    per_genre: dict[str, int] = field(default_factory=dict)
    per_source: dict[str, int] = field(default_factory=dict)

    @property
    def rejects(self) -> int:
        return sum(self.rejects_by_reason.values())

    def add_document(self, doc: Document) -> None:
        self.documents += 1
        self.chars += len(doc.text)
        _bump(self.per_genre, doc.metadata["genre"])
        _bump(self.per_source, doc.metadata["source"])

    def add_reject(self, reject: Reject) -> None:
        _bump(self.rejects_by_reason, reason_kind(reject.reason))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("rejects_by_reason", "per_genre", "per_source"):
            out[key] = dict(sorted(out[key].items()))
        out["rejects"] = self.rejects
        return out


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n
