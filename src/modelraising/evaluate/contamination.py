"""Contamination: how much of each eval item already sits, word for word, in a training corpus.

A raised corpus weaves the charter's own sentences into its text, so a charter item whose
continuations were seen verbatim measures memory rather than values. Before scoring, every item's
word n-grams (default 8) are looked up in everything the model was trained on: corpus directories
(``*.jsonl`` records ``{id, text, metadata}``, searched recursively) and JSONL files such as an
alignment run's ``train_data.jsonl`` (records without ``text``: every string in them, e.g. the
messages, prompt, chosen and rejected). Each item gets the share of its n-grams found there.

Memory is bounded by the items, not the corpus: the items' n-grams form the lookup table and the
corpus is streamed past it once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from modelraising.evaluate.items import MCItem

log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokens(text: str) -> list[str]:
    """Lower-cased words: punctuation, case and tags do not hide an overlap."""
    return _WORD.findall(text.lower())


def ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """Word n-grams; a text shorter than n counts as one n-gram of its whole length."""
    if not words:
        return set()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def item_texts(item: MCItem) -> dict[str, str]:
    """What is checked: the context and each choice, and each choice read on from the context."""
    parts = {"context": item.context}
    for i, choice in enumerate(item.choices):
        parts[f"choice{i}"] = item.context + choice
    return parts


def corpus_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The JSONL files of one or more corpus directories or files."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
            continue
        found = sorted(path.rglob("*.jsonl")) if path.is_dir() else []
        if not found:
            raise FileNotFoundError(f"{path}: no *.jsonl training records found for the contamination check")
        files += found
    return list(dict.fromkeys(files))


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def record_text(record: dict) -> str | None:
    """A corpus record's ``text``; for other records (alignment examples) every string in it."""
    if isinstance(record.get("text"), str):
        return record["text"]
    parts = [s for k, v in record.items() if k not in ("id", "metadata") for s in _strings(v)]
    return "\n".join(parts) if parts else None


def _corpus_texts(files: Iterable[Path]) -> Iterable[tuple[str, str]]:
    for path in files:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("%s:%d: not JSON, skipped in the contamination check", path, number)
                    continue
                text = record_text(record) if isinstance(record, dict) else None
                if text is not None:
                    yield str(record.get("id", f"{path.name}:{number}")), text


def check(
    items: Sequence[MCItem],
    corpus: str | Path | Sequence[str | Path],
    n: int = 8,
    threshold: float = 0.5,
    progress: bool = False,
) -> dict:
    """Per-item overlap share with the corpus, plus a summary; keyed by item id.

    ``share`` counts the n-grams of all the item's texts; ``gold_share`` only those of the preferred
    continuation read on from its context (what a model could have memorised to win the item).
    """
    per_item: dict[str, dict[str, set]] = {}
    wanted: set[tuple[str, ...]] = set()
    for item in items:
        grams = {name: ngrams(tokens(text), n) for name, text in item_texts(item).items()}
        per_item[item.id] = grams
        for g in grams.values():
            wanted |= g
    found: dict[tuple[str, ...], str] = {}
    files = corpus_files(corpus)
    documents = 0
    sizes = sorted({len(g) for g in wanted})
    for doc_id, text in tqdm(_corpus_texts(files), desc="contamination", unit="doc", disable=not progress):
        documents += 1
        words = tokens(text)
        for size in sizes:
            for i in range(len(words) - size + 1):
                gram = tuple(words[i : i + size])
                if gram in wanted and gram not in found:
                    found[gram] = doc_id
    report: dict[str, dict[str, Any]] = {}
    for item in items:
        grams = per_item[item.id]
        every = set().union(*grams.values())
        gold = grams[f"choice{item.gold}"]
        hits = every & found.keys()
        report[item.id] = {
            "share": round(len(hits) / max(len(every), 1), 4),
            "gold_share": round(len(gold & found.keys()) / max(len(gold), 1), 4),
            "ngrams": len(every),
            "example_doc": found[min(hits)] if hits else None,
        }
        report[item.id]["contaminated"] = report[item.id]["share"] >= threshold
    shares = [r["share"] for r in report.values()]
    corpora = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    summary = {
        "corpus": ", ".join(str(Path(c).resolve()) for c in corpora),
        "corpora": [str(Path(c).resolve()) for c in corpora],
        "files": len(files),
        "documents": documents,
        "n": n,
        "threshold": threshold,
        "items": len(report),
        "contaminated": sum(r["contaminated"] for r in report.values()),
        "mean_share": round(sum(shares) / max(len(shares), 1), 4),
        "max_share": max(shares, default=0.0),
        "with_overlap": sum(s > 0 for s in shares),
    }
    return {"summary": summary, "items": report}
