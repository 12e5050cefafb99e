"""Contamination: how much of each eval item already sits, word for word, in a training corpus.

A raised corpus weaves the charter's own sentences into its text, so a charter item whose
continuations were seen verbatim measures memory rather than values. Before scoring, every item's
word n-grams (default 8) are looked up in the corpus (``*.jsonl`` records ``{id, text, metadata}``,
searched recursively) and each item gets the share of its n-grams found there.

Memory is bounded by the items, not the corpus: the items' n-grams form the lookup table and the
corpus is streamed past it once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

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


def corpus_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(path.rglob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"{path}: no *.jsonl training records found for the contamination check")
    return files


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
                if isinstance(record, dict) and isinstance(record.get("text"), str):
                    yield str(record.get("id", f"{path.name}:{number}")), record["text"]


def check(items: Sequence[MCItem], corpus: str | Path, n: int = 8, threshold: float = 0.5,
          progress: bool = False) -> dict:
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
    report = {}
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
    summary = {
        "corpus": str(Path(corpus).resolve()), "files": len(files), "documents": documents, "n": n,
        "threshold": threshold, "items": len(report),
        "contaminated": sum(r["contaminated"] for r in report.values()),
        "mean_share": round(sum(shares) / max(len(shares), 1), 4),
    }
    return {"summary": summary, "items": report}
