"""The one record type every step reads and writes (datatrove/FineWeb convention)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Document:
    """A text with a stable id and free-form metadata.

    Steps are generators over Documents; serialised as one JSON object per line:
    ``{"id": ..., "text": ..., "metadata": {...}}``.
    """

    text: str
    id: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "text": self.text, "metadata": self.metadata},
            ensure_ascii=False,
            sort_keys=False,
        )

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "Document":
        text, doc_id, metadata = record.get("text"), record.get("id"), record.get("metadata")
        if not isinstance(text, str) or not isinstance(doc_id, str):
            raise ValueError("a document needs string fields 'id' and 'text'")
        return cls(text, doc_id, dict(metadata) if metadata else {})

    @classmethod
    def from_json(cls, line: str) -> "Document":
        return cls.from_dict(json.loads(line))
