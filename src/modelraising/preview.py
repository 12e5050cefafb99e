"""Look at a raised corpus: pick a few documents, find their source passages."""

from __future__ import annotations

import random
from pathlib import Path

from modelraising.document import Document
from modelraising.records import read_raised


def pick_examples(raised_dir: str | Path, n: int, seed: int = 0) -> list[Document]:
    """A seeded sample that shows each form (and a value reflection) before repeating one."""
    docs = list(read_raised(raised_dir))
    rng = random.Random(seed)
    rng.shuffle(docs)
    picked: list[Document] = []
    seen: set[tuple] = set()
    for doc in docs:
        key = (doc.metadata.get("form"), "values" in doc.metadata.get("pillars", []))
        if key not in seen:
            seen.add(key)
            picked.append(doc)
        if len(picked) == n:
            return picked
    return (picked + [d for d in docs if d not in picked])[:n]


def source_texts(sources: list[str], ids: set[str]) -> dict[str, str]:
    from modelraising.sources import SourceSpec, read_sources

    found = {}
    for item in read_sources([SourceSpec(path=s) for s in sources]):
        if isinstance(item, Document) and item.id in ids:
            found[item.id] = item.text
    return found
