"""Cheap features for the detector's first pass, from one tokenisation per text.

MiniLM's word pieces give both parts: a bag of pieces and of hashed piece bigrams (sparse, binary,
L2-normalised), and the static embedding of the pieces (:mod:`modelraising.harm.static`). A linear
model over these costs a few microseconds a text, so it can look at every passage of a corpus; only
the texts it is unsure about go on to MiniLM itself.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from modelraising.harm import static

VOCAB = 30522  # MiniLM's word pieces
BIGRAM_BUCKETS = 1 << 18
N_SPARSE = VOCAB + BIGRAM_BUCKETS
_MULT = np.int64(1_000_003)


def sparse_features(ids: list[np.ndarray]) -> sparse.csr_matrix:
    """Binary bag of pieces and hashed piece bigrams, each row L2-normalised."""
    indptr = [0]
    indices: list[np.ndarray] = []
    for row in ids:
        if len(row):
            bigrams = VOCAB + ((row[:-1] * _MULT + row[1:]) % BIGRAM_BUCKETS)
            cols = np.unique(np.concatenate([row, bigrams]))
        else:
            cols = np.zeros(0, dtype=np.int64)
        indices.append(cols)
        indptr.append(indptr[-1] + len(cols))
    cols = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64)
    lengths = np.diff(indptr)
    data = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths).astype(np.float32)
    return sparse.csr_matrix((data, cols, np.asarray(indptr)), shape=(len(ids), N_SPARSE))


def first_pass_features(texts: list[str]) -> sparse.csr_matrix:
    """[sparse pieces | static embedding] for each text."""
    ids = static.encode_ids(texts)
    return sparse.hstack([sparse_features(ids), sparse.csr_matrix(static.embed_ids(ids))], format="csr")
