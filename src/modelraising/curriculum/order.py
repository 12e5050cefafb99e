"""The four orders, as pure functions over per-document arrays (no texts).

Every order returns a ``Sequence``: for each position, which document (row of the scoring table)
goes there, whether it is a spaced-review copy, and the stage block it sits in. Ties in difficulty
are broken by a hash of the document id and then by input position, so an order depends only on
the documents and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SALT = {"shuffle": 1, "stage-shuffle": 2, "review": 3}


@dataclass
class Sequence:
    doc: np.ndarray  # int64 (positions,): row in the scoring table
    review: np.ndarray  # bool (positions,): a spaced-review repeat of an earlier-stage document
    block: np.ndarray  # int16 (positions,): the stage this position belongs to in the stream


def _rng(seed: int, purpose: str, stage: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _SALT[purpose], stage]))


def easy_to_hard(difficulty: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Rows sorted by difficulty, then id hash, then input position (a stable, total order)."""
    return np.lexsort((np.arange(len(difficulty)), tiebreak, difficulty))


def order_documents(
    order: str, difficulty: np.ndarray, stage: np.ndarray, tiebreak: np.ndarray, *, seed: int, review: float = 0.0
) -> Sequence:
    sorted_rows = easy_to_hard(difficulty, tiebreak)
    if order == "scaffold":
        rows = sorted_rows  # stages are difficulty bands, so easy-to-hard is already stage by stage
        seq = Sequence(rows, np.zeros(len(rows), bool), stage[rows].astype(np.int16))
        return with_review(seq, difficulty, stage, review, seed) if review > 0 else seq
    if order == "reverse":
        rows = sorted_rows[::-1].copy()
    elif order == "shuffle":
        rows = _rng(seed, "shuffle").permutation(len(difficulty))
    elif order == "stage-shuffle":
        rows = np.concatenate(
            [_rng(seed, "stage-shuffle", s).permutation(sorted_rows[stage[sorted_rows] == s]) for s in np.unique(stage)]
            or [np.array([], np.int64)]
        )
    else:
        raise ValueError(f"unknown order {order!r}")
    rows = rows.astype(np.int64)
    return Sequence(rows, np.zeros(len(rows), bool), stage[rows].astype(np.int16))


def review_count(stage_docs: int, share: float) -> int:
    """Review copies to add to a stage of ``stage_docs`` documents so that they make up ``share`` of it."""
    return int(round(share * stage_docs / (1.0 - share)))


def spread(total: int, k: int) -> np.ndarray:
    """``k`` slot indices spread evenly over ``total`` slots (distinct while k <= total)."""
    return np.floor((np.arange(k) + 0.5) * total / k).astype(np.int64) if k else np.array([], np.int64)


def with_review(seq: Sequence, difficulty: np.ndarray, stage: np.ndarray, share: float, seed: int) -> Sequence:
    """Mix ``share`` of earlier-stage documents back into every later stage (spaced review).

    Copies are drawn uniformly from all earlier stages (without replacement while the pool allows),
    kept in easy-to-hard order among themselves, and spread evenly through the stage.
    """
    if len(seq.doc) == 0:
        return seq
    docs, reviews, blocks = [], [], []
    pool = np.array([], np.int64)
    for s in np.unique(seq.block):
        own = seq.doc[seq.block == s]
        k = review_count(len(own), share) if len(pool) else 0
        if k:
            picked = _rng(seed, "review", int(s)).choice(pool, size=k, replace=k > len(pool))
            picked = picked[np.lexsort((picked, difficulty[picked]))]
            is_review = np.zeros(len(own) + k, bool)
            is_review[spread(len(own) + k, k)] = True
            merged = np.empty(len(own) + k, np.int64)
            merged[is_review], merged[~is_review] = picked, own
            docs.append(merged)
            reviews.append(is_review)
        else:
            docs.append(own)
            reviews.append(np.zeros(len(own), bool))
        blocks.append(np.full(len(docs[-1]), s, np.int16))
        pool = np.concatenate([pool, own])
    return Sequence(np.concatenate(docs), np.concatenate(reviews), np.concatenate(blocks))
