"""A tiny ``shards/`` directory built the way docs/design.md specifies, without the tokenize step:
a byte-level BPE (vocab 512) trained on the first 200 KB of TinyStories, three curriculum stages, two
train shards (so windows cross a file boundary) and a validation split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "corpus" / "tinystories_sample.txt"
EOT = "<|endoftext|>"
STAGES = ("early childhood", "middle childhood", "adolescence")


@pytest.fixture(scope="package", autouse=True)
def _one_thread():
    """Tiny models gain nothing from threads, and on oversubscribed cores threads stall them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def build_shards(
    dest: Path,
    source: Path = SHARED,
    max_bytes: int = 200_000,
    vocab_size: int = 512,
    shard_tokens: int = 32_768,
    val_docs: int = 12,
) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    text = source.read_bytes()[:max_bytes].decode("utf-8", errors="ignore")
    docs = [d.strip() for d in text.split(EOT)[:-1] if d.strip()]  # the last piece may be cut mid-story
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(docs, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOT, bos_token=EOT, pad_token=EOT, unk_token=EOT)
    dest.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(dest)
    eot_id = tok.token_to_id(EOT)

    encoded = [e.ids + [eot_id] for e in tok.encode_batch(docs)]
    train_docs, val = encoded[:-val_docs], encoded[-val_docs:]
    offsets = np.cumsum([0] + [len(d) for d in train_docs]).tolist()
    stream = np.array([t for d in train_docs for t in d], dtype=np.uint16)
    shards = []
    for i, start in enumerate(range(0, len(stream), shard_tokens)):
        part = stream[start : start + shard_tokens]
        part.tofile(dest / f"train-{i:05d}.bin")
        shards.append({"file": f"train-{i:05d}.bin", "tokens": int(len(part))})
    val_stream = np.array([t for d in val for t in d], dtype=np.uint16)
    val_stream.tofile(dest / "val.bin")
    bounds = [0, len(train_docs) // 3, 2 * len(train_docs) // 3, len(train_docs)]
    stages = [
        {"name": name, "index": i, "start": offsets[bounds[i]], "end": offsets[bounds[i + 1]]}
        for i, name in enumerate(STAGES)
    ]
    index = {
        "format": "modelraising-shards/1",
        "dtype": "uint16",
        "vocab_size": tok.get_vocab_size(),
        "eot_id": eot_id,
        "shard_tokens": shard_tokens,
        "shards": shards,
        "train_tokens": int(len(stream)),
        "val": {"file": "val.bin", "tokens": int(len(val_stream)), "documents": len(val)},
        "stages": stages,
        "documents": {"ids": [f"doc-{i}" for i in range(len(train_docs))], "offsets": offsets[:-1]},
        "corpus": {"path": str(source), "manifest_sha256": None},
        "tokenizer": {"trained": True},
    }
    (dest / "index.json").write_text(json.dumps(index, indent=2))
    return dest


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory) -> Path:
    if not SHARED.is_file():
        pytest.skip(f"{SHARED} not found (the project's ../shared/data)")
    return build_shards(tmp_path_factory.mktemp("shards") / "shards")


@pytest.fixture
def shards_copy(tiny_shards, tmp_path) -> Path:
    """A private copy to corrupt."""
    return Path(shutil.copytree(tiny_shards, tmp_path / "shards"))
