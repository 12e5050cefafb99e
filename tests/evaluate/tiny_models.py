"""Tiny Hugging Face causal LMs for the evaluation tests (no downloads): a byte-level BPE tokenizer
trained here, a 2-layer Llama, a plain training loop, and the texts of the controls:

- the *values* model (the fine-tuned control) is trained on the keep side of half the item bank's
  pairs (``held_in``: every other pair of each value), each read on from its own situation, plus the
  charter's identity; the other half (``held_out``) it never saw;
- the *shuffled-token* model is trained on the same tokens in a random order (no word follows
  another for a reason), so it knows which words are frequent and nothing else.

The fixtures are in conftest.py."""

from __future__ import annotations

import random

import tiny_lm
import torch
from tiny_lm import one_thread  # noqa: F401  (re-exported for the evaluation tests)

from modelraising.charter import default_charter_path, load_charter
from modelraising.evaluate import charter_suite

EOT = "<|endoftext|>"
FILLER = (
    "The harbour was quiet in the morning and the boats knocked against the pier.",
    "My sister and I walked to the library to read about rivers and mountains.",
    "Rain fell on the garden all afternoon, and the beans grew tall along the fence.",
    "We made soup with carrots, onions and lentils, and ate it with warm bread.",
)


def charter():
    return load_charter(default_charter_path())


def bank_halves() -> tuple[list[dict], list[dict]]:
    """(held-in, held-out): every other pair of each value of the item bank."""
    per_value: dict[str, list[dict]] = {}
    for record in charter_suite.bank_records():
        per_value.setdefault(record["value"], []).append(record)
    held_in = [r for rows in per_value.values() for r in rows[::2]]
    held_out = [r for rows in per_value.values() for r in rows[1::2]]
    return held_in, held_out


def identity_texts() -> list[str]:
    c = charter()
    return [f"My name is {c.identity.name}. {c.identity.description}"]


def keep_texts(seed: int = 0) -> list[str]:
    """What the values model reads: each held-in pair's situation followed by its keep side, the
    identity, and some filler."""
    held_in, _ = bank_halves()
    texts = [f"{r['context']} {r['keep']}" for r in held_in] + identity_texts() * 12 + list(FILLER) * 3
    random.Random(seed).shuffle(texts)
    return texts


def tokenizer_texts() -> list[str]:
    """Every side of every pair (so neither side tokenises better), identity and filler."""
    return (
        [f"{r['context']} {r['keep']} {r['betray']}" for r in charter_suite.bank_records()]
        + identity_texts()
        + list(FILLER)
    )


def shuffled_token_texts(tokenizer, seed: int = 0, width: int = 64) -> list[str]:
    """The values model's texts with all their tokens shuffled into one random order, cut into pieces."""
    ids = [t for text in keep_texts(seed) for t in tokenizer.encode(text) + [tokenizer.eos_token_id]]
    random.Random(seed).shuffle(ids)
    return [tokenizer.decode(ids[i : i + width]) for i in range(0, len(ids), width)]


def build_tokenizer(texts: list[str], vocab_size: int = 512):
    return tiny_lm.build_tokenizer(texts, vocab_size, [EOT], unk_token=EOT, model_max_length=256)


def build_model(vocab_size: int, seed: int = 0, hidden: int = 48, layers: int = 2):
    return tiny_lm.build_model(vocab_size, seed, hidden=hidden, layers=layers, heads=4, max_positions=256)


def train(model, tokenizer, texts: list[str], steps: int, lr: float = 3e-3, batch: int = 8, seed: int = 0):
    """A plain next-token loop (AdamW) over texts, each ending in an end-of-text token."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [tokenizer.encode(t)[:96] + [tokenizer.eos_token_id] for t in texts]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        rows = [rng.choice(encoded) for _ in range(batch)]
        width = max(map(len, rows))
        ids = torch.full((batch, width), tokenizer.pad_token_id)
        labels = torch.full((batch, width), -100)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            labels[i, : len(r)] = torch.tensor(r)
        loss = model(input_ids=ids, attention_mask=(labels != -100).long(), labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    return model.eval()
