"""The tokenize step's config and errors."""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


INDEX_FORMAT = "modelraising-shards/1"
CORPUS_GLOBS = ("ordered-*.jsonl", "ordered-*.parquet")
CHARTER_TAG = re.compile(r"<\|(?:value|harm):[A-Za-z0-9_\-]{1,60}\|>")
HASH_SPACE = float(2**64)


class TokenizeError(Exception):
    """A run that cannot start or finish (no corpus, a foreign output directory, an unusable tokenizer)."""


class TokenizeConfig(BaseModel):
    """Everything that changes the output bytes (hashed into the run fingerprint), plus batch sizes."""

    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(default=8192, ge=64, le=2**32, description="Vocabulary size of the trained byte-level BPE.")
    val_fraction: float = Field(default=0.01, ge=0.0, lt=0.5, description="Held-out share of documents (by id hash).")
    shard_tokens: int = Field(default=2**24, ge=8, description="Tokens per shard file.")
    min_frequency: int = Field(default=2, ge=1, description="BPE merges need a pair seen this often.")
    tokenizer_docs: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Train the BPE on about this many training documents, a deterministic sample by id hash "
            "(default: all of them; a large corpus needs no more than a few million)."
        ),
    )
    batch_docs: int = Field(default=512, ge=1, description="Documents per encode_batch call (speed only).")
    batch_chars: int = Field(default=4_000_000, ge=1, description="...or fewer, up to this many characters.")

    def output_fields(self) -> dict:
        """The fields that decide the bytes written (batch sizes do not; ``tokenizer_docs`` only when set,
        so runs without it keep their fingerprint)."""
        exclude = {"batch_docs", "batch_chars"} | ({"tokenizer_docs"} if self.tokenizer_docs is None else set())
        return self.model_dump(exclude=exclude)
