"""Capability: what raising costs in plain language modelling, measured on held-out raw text.

Two numbers, both tokenizer-independent so a raised model and a conventional one with different
tokenizers compare fairly:

- ``bits_per_byte`` on held-out text (lower is better; token perplexity is reported too), with a
  bootstrap CI over documents;
- ``cloze_acc``: predict a sentence's held-out last word among distractors (last words of other
  sentences), after the previous sentence and the rest of the sentence (chance 1 / choices).

The text comes from ``--capability-text`` (files or folders of .txt), else from a slice out of the
middle of each ``<data_dir>/corpus/*.txt`` file (away from Gutenberg headers and licence footers),
else from the text shipped in ``modelraising/data/eval/heldout.txt``.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

from modelraising.evaluate.config import EVAL_DATA, EvalConfig
from modelraising.evaluate.items import MCItem, seeded_sample
from modelraising.evaluate.results import score_mc_suite
from modelraising.evaluate.stats import bootstrap_ratio_ci
from modelraising.evaluate.suite import LmEvalTask, Record, Suite
from modelraising.text import split_sentences

NAME = "capability"
HEADLINE = "bits_per_byte"
N_CHOICES = 4
DOC_CHARS = 1200
_LAST_WORD = re.compile(r"^(?P<head>.*\S)\s+(?P<word>[A-Za-z]{3,})(?P<tail>[.!?\"'\u201d\u2019]*)$", re.S)


def text_files(cfg: EvalConfig) -> list[Path]:
    if cfg.capability_text:
        files = []
        for p in map(Path, cfg.capability_text):
            if not p.exists():
                raise FileNotFoundError(f"{p}: held-out text not found")
            files += sorted(p.rglob("*.txt")) if p.is_dir() else [p]
        return files
    root = cfg.data_root()
    corpus = sorted((root / "corpus").glob("*.txt")) if root else []
    return corpus or [EVAL_DATA / "heldout.txt"]


def _slice(text: str, chars: int) -> str:
    """``chars`` characters from the middle of a text, cut at paragraph (else line) boundaries."""
    text = text.replace("\r\n", "\n")
    if len(text) <= chars:
        return text
    start = len(text) // 2 - chars // 2
    cut = text.find("\n\n", start)
    start = cut + 2 if 0 <= cut < start + chars // 4 else start
    piece = text[start : start + chars]
    end = piece.rfind("\n\n")
    return piece[: end if end > chars // 2 else len(piece)]


def documents(cfg: EvalConfig) -> list[dict]:
    """Held-out documents of about DOC_CHARS characters (whole paragraphs), each with its source."""
    docs: list[dict] = []
    for path in text_files(cfg):
        text = _slice(path.read_text(encoding="utf-8", errors="replace"), cfg.capability_chars)
        buf = ""
        for para in (p.strip() for p in text.split("\n\n")):
            if not para or para == "<|endoftext|>":
                continue
            buf = f"{buf}\n\n{para}" if buf else para
            if len(buf) >= DOC_CHARS:
                docs.append({"id": f"{path.stem}-{len(docs)}", "source": path.name, "text": buf})
                buf = ""
        if buf:
            docs.append({"id": f"{path.stem}-{len(docs)}", "source": path.name, "text": buf})
    return docs


def cloze_items(cfg: EvalConfig, docs: list[dict]) -> list[MCItem]:
    """Last-word cloze items; distractors are other sentences' last words (seeded)."""
    candidates = []
    for doc in docs:
        sentences = [" ".join(s.split()) for s in split_sentences(doc["text"].replace("<|endoftext|>", " "))]
        for i, sentence in enumerate(sentences):
            m = _LAST_WORD.match(sentence)
            if m and 6 <= len(sentence.split()) <= 40:
                previous = sentences[i - 1] + " " if i else ""
                candidates.append((f"cloze-{doc['id']}-{i}", previous + m["head"], m["word"], doc["source"]))
    pool = sorted({c[2] for c in candidates})
    items = []
    for item_id, context, word, source in seeded_sample(candidates, cfg.cloze_items, cfg.seed, "cloze"):
        rng = random.Random(f"{cfg.seed}/{item_id}")
        others = [w for w in pool if w.lower() != word.lower()]
        if len(others) < N_CHOICES - 1:
            continue
        choices = [word, *rng.sample(others, N_CHOICES - 1)]
        rng.shuffle(choices)
        items.append(
            MCItem(item_id, context, [" " + c for c in choices], choices.index(word), source, {"answer": word})
        )
    return items


def build_items(cfg: EvalConfig, charter=None) -> list[MCItem]:
    return cloze_items(cfg, documents(cfg))


def perplexity_rows(scorer, docs: list[dict]) -> list[dict]:
    rows = []
    for doc, ll in zip(docs, scorer.rolling_loglikelihood([d["text"] for d in docs])):
        rows.append(
            {
                "id": doc["id"],
                "source": doc["source"],
                "logprob": ll.logprob,
                "tokens": ll.tokens,
                "bytes": len(doc["text"].encode("utf-8")),
            }
        )
    return rows


def bits(rows: list[dict]) -> tuple[list[float], list[float]]:
    """(negative log2-likelihoods, byte counts) per document, for the bits-per-byte ratio."""
    return [-r["logprob"] / math.log(2) for r in rows], [r["bytes"] for r in rows]


def run(cfg: EvalConfig, scorer, charter, record: Record) -> dict:
    for path in text_files(cfg):
        record(path)
    docs = documents(cfg)
    ppl_rows = perplexity_rows(scorer, docs)
    nbits, nbytes = bits(ppl_rows)
    nats = [-r["logprob"] for r in ppl_rows]
    items = cloze_items(cfg, docs)
    cloze = score_mc_suite(cfg, scorer, items, headline="acc")
    per_token = bootstrap_ratio_ci(nats, [r["tokens"] for r in ppl_rows], cfg.n_bootstrap, cfg.seed)
    metrics = {
        "bits_per_byte": bootstrap_ratio_ci(nbits, nbytes, cfg.n_bootstrap, cfg.seed),
        "token_perplexity": {k: _exp(v) if k != "n" else v for k, v in per_token.items()},
        "cloze_acc": cloze["metrics"]["acc"],
        "cloze_acc_norm": cloze["metrics"]["acc_norm"],
    }
    return {
        "headline": HEADLINE,
        "summary": ["bits_per_byte", "cloze_acc"],
        "metrics": metrics,
        "groups": {},
        "baselines": {"cloze_chance": cloze["baselines"]["chance"]},
        "info": {
            "documents": len(docs),
            "bytes": sum(nbytes),
            "tokens": sum(r["tokens"] for r in ppl_rows),
            "cloze_items": len(items),
            "lower_is_better": ["bits_per_byte", "token_perplexity"],
            "sources": sorted({d["source"] for d in docs}),
        },
        "documents": ppl_rows,
        "items": cloze["items"],
    }


def _exp(v):
    if isinstance(v, list):
        return [math.exp(x) if x is not None else None for x in v]
    return math.exp(v) if v is not None else None


def lm_eval_tasks(cfg: EvalConfig, charter) -> list[LmEvalTask]:
    docs = documents(cfg)
    return [
        LmEvalTask("cloze", "mc", cloze_items(cfg, docs), grouped=True),
        LmEvalTask("ppl", "ppl", docs, grouped=True),
    ]


SUITE = Suite(NAME, HEADLINE, run, lm_eval_tasks=lm_eval_tasks)
