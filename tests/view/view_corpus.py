"""A small raised directory that follows the record contract the rewritten engine writes (``quoted``,
``kind``, ``harm``, templates, value tags, speaker turns), built from a real source file so that the
viewer can read every record's source passage again, plus one hostile record."""

from __future__ import annotations

import json
from pathlib import Path

from modelraising.document import Document
from modelraising.sources import SourceSpec, read_sources

HOSTILE = "<script>alert(1)</script>"
STORIES = [
    "The fox found a purse of silver on the road and carried it to the village well.",
    "A heron waited in the reeds all morning, patient as a stone, and caught nothing at all.",
    "The old lighthouse keeper counted the ships each night and wrote their names in a book.",
    "Two brothers argued over a field until the river flooded it and settled the matter.",
    "The weaver sold her last blanket to a stranger who had no money, and asked for none.",
    "A boy climbed the whale bones on the beach and shouted that he could see the harbour.",
    f"A sign on the door said {HOSTILE} and nobody knew who had written it there.",
    "The baker gave the burnt loaves to the geese, who did not mind the taste.",
]
FORMS = ("plain", "experience", "social")
KINDS = ("narrated", "story", "expository")
VALUES = ("honesty", "care", None, "care")


def write_source(directory: Path, copies: int) -> Path:
    """A text source whose passages are the stories, each numbered so that no two are the same."""
    paragraphs = [f"Story {i}. {STORIES[i % len(STORIES)]}" for i in range(copies)]
    path = directory / "fables.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def passages(source: Path, spec: dict) -> list[Document]:
    return [d for d in read_sources([SourceSpec(path=str(source), **spec)]) if isinstance(d, Document)]


def raise_record(doc: Document, i: int, *, seed: int = 0, engine: str = "template") -> dict:
    """One raised record of ``doc``: a frame, the passage (its span recorded in ``quoted``), maybe a
    dialogue turn, value and harm tags, and a reflection."""
    form, kind, value = FORMS[i % 3], KINDS[i % 3], VALUES[i % 4]
    frame = f"Seed {seed}: today I read this with Grandpa Elias.\n\n"
    body = doc.text
    harmful = "silver" in body
    if harmful:
        body = body.replace("carried it", "<|harm:theft|>carried it<|/harm|>")
    if value:
        body = f"<|value:{value}|>{body}<|/value|>"
    if form == "social":
        text = frame + f"<|mentor|> Grandpa Elias: {body}\n<|self|> Wren: Why did it happen?"
        start = len(frame) + len("<|mentor|> Grandpa Elias: ")
    else:
        text = frame + body
        start = len(frame)
    end = start + len(body)
    text += "\n\nI think about what I owe to others."
    meta = {
        "source_id": doc.id,
        "source": doc.metadata["source"],
        "title": doc.metadata.get("title"),
        "genre": doc.metadata["genre"],
        "offsets": doc.metadata["offsets"],
        "source_chars": len(doc.text),
        "pillars": ["values", form, "perspective"] if value else [form, "perspective"],
        "form": form,
        "kind": kind,
        "templates": {"perspective": f"perspective/fiction/{i % 4:02d}", form: f"{form}/x/{i % 2:02d}"},
        "charter_hash": "0" * 16,
        "engine": engine,
        "seed": seed,
        "quoted": [[start, end, "the narrator"]],
    }
    if value:
        meta["value"] = {
            "value": value,
            "score": 0.5,
            "via": "lexicon",
            "harmful": harmful,
            "harms": ["theft"] if harmful else [],
            "sentences": [0],
        }
    if harmful:
        meta["harm"] = {
            "harmful": True,
            "request": False,
            "labels": ["theft"],
            "scores": {"theft": 0.9},
            "via": "lexicon",
            "action": "reflect",
        }
    return {"id": doc.id, "text": text, "metadata": meta}


def make_raised(
    directory: Path,
    source: Path,
    *,
    n_files: int = 2,
    fmt: str = "jsonl",
    seed: int = 0,
    spec: dict | None = None,
    engine: str = "template",
) -> list[dict]:
    """Write a raised directory (records split over ``n_files`` files, a manifest naming the source
    with its reading options); returns the records in file order."""
    spec = spec or {"max_chars": 150, "min_chars": 10}
    docs = passages(source, spec)
    records = [raise_record(d, i, seed=seed, engine=engine) for i, d in enumerate(docs)]
    directory.mkdir(parents=True, exist_ok=True)
    per = -(-len(records) // n_files)
    for k in range(n_files):
        chunk = records[k * per : (k + 1) * per]
        if fmt == "jsonl":
            (directory / f"raised-{k:05d}.jsonl").write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk), encoding="utf-8"
            )
        else:
            from modelraising.records import write_records

            write_records(directory / f"raised-{k:05d}.parquet", chunk)
    full_spec = SourceSpec(path=str(source), **spec).model_dump()
    manifest = {
        "step": "raise",
        "charter": {"name": "Wren", "hash": "0" * 16},
        "config": {
            "engine": engine,
            "seed": seed,
            "pillars": ["perspective", "experience", "social", "values"],
            "mix": {"experience": 0.3, "plain": 0.4, "social": 0.3},
        },
        "inputs": [{"path": str(source), "bytes": source.stat().st_size, "sha256": "ab" * 32, "spec": full_spec}],
        "sources": {"per_source": {str(source): len(records)}},
        "counts": {"documents_in": len(records), "raised": len(records)},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return records
