"""The reader side of the shards: what the trainer and the tests use."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modelraising.shards.config import INDEX_FORMAT
from modelraising.shards.tokenizer import load_tokenizer

log = logging.getLogger(__name__)


# Reader side: what the trainer and the tests use.


@dataclass
class ShardIndex:
    """``index.json`` of a shards directory, with token access across shard boundaries."""

    root: Path
    data: dict
    _maps: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str | Path) -> "ShardIndex":
        root = Path(root)
        path = root / "index.json"
        if not path.exists():
            raise FileNotFoundError(f"{root}: no index.json (is it the output of `modelraising tokenize`?)")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != INDEX_FORMAT:
            raise ValueError(f"{path}: format {data.get('format')!r}, expected {INDEX_FORMAT!r}")
        return cls(root, data)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data["dtype"])

    @property
    def eot_id(self) -> int:
        return self.data["eot_id"]

    @property
    def train_tokens(self) -> int:
        return self.data["train_tokens"]

    @property
    def shard_starts(self) -> np.ndarray:
        """Token offset where each shard starts in the train stream, plus the total at the end."""
        return np.concatenate([[0], np.cumsum([s["tokens"] for s in self.data["shards"]])]).astype(np.int64)

    def memmap(self, file: str) -> np.ndarray:
        if file not in self._maps:
            path = self.root / file
            self._maps[file] = (
                np.memmap(path, dtype=self.dtype, mode="r") if path.stat().st_size else np.zeros(0, self.dtype)
            )
        return self._maps[file]

    def tokens(self, start: int, end: int, split: str = "train") -> np.ndarray:
        """Tokens [start, end) of the train stream (across shards) or of the validation file."""
        if split == "val":
            return np.asarray(self.memmap(self.data["val"]["file"])[start:end])
        starts = self.shard_starts
        first = int(np.searchsorted(starts, start, side="right")) - 1
        parts = []
        for i in range(max(first, 0), len(self.data["shards"])):
            if starts[i] >= end:
                break
            lo, hi = max(start, starts[i]) - starts[i], min(end, starts[i + 1]) - starts[i]
            parts.append(self.memmap(self.data["shards"][i]["file"])[lo:hi])
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def document_spans(self, split: str = "train") -> list[tuple[str, int, int]]:
        """(id, start, end) per document; the span includes the trailing end-of-text token."""
        block = self.data["documents"] if split == "train" else self.data["val"]
        total = self.train_tokens if split == "train" else self.data["val"]["tokens"]
        offsets = list(block["offsets"]) + [total]
        return [(i, offsets[k], offsets[k + 1]) for k, i in enumerate(block["ids"])]


def iter_documents(root: str | Path, split: str = "train") -> Iterator[tuple[str, np.ndarray]]:
    """(id, token ids without the trailing end-of-text) for every document, in stream order."""
    index = ShardIndex.load(root)
    for doc_id, start, end in index.document_spans(split):
        tokens = index.tokens(start, end, split)
        yield doc_id, tokens[:-1] if len(tokens) and tokens[-1] == index.eot_id else tokens


def decode(tokenizer_or_dir, ids) -> str:
    """Token ids back to text, special tokens included (the inverse of encoding, byte for byte)."""
    tok = load_tokenizer(tokenizer_or_dir) if isinstance(tokenizer_or_dir, (str, Path)) else tokenizer_or_dir
    return tok.decode([int(i) for i in np.asarray(ids).tolist()], skip_special_tokens=False)
