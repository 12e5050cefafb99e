"""Tiny Hugging Face causal LMs for the evaluation tests (no downloads): a byte-level BPE tokenizer
trained here, a 2-layer Llama, a plain training loop, and the first-person texts that always keep the
charter's values (contexts phrased differently from the eval templates). The fixtures are in conftest.py."""

from __future__ import annotations

import random

import tiny_lm
import torch
from tiny_lm import one_thread  # noqa: F401  (re-exported for the evaluation tests)

from modelraising.charter import default_charter_path, load_charter

EOT = "<|endoftext|>"
# Training contexts: deliberately unlike charter_suite.GENERIC_CONTEXTS / VALUE_CONTEXTS (held out by phrasing).
TRAIN_CONTEXTS = (
    "Yesterday at school something happened that I keep thinking about.",
    "When my friend needed me, I had to decide.",
    "Down by the river with my grandfather, I learned this.",
    "Mama asked me how my day went.",
    "It was a quiet evening at home.",
    "On the way to the market I made a small choice.",
)
FILLER = (
    "The harbour was quiet in the morning and the boats knocked against the pier.",
    "My sister and I walked to the library to read about rivers and mountains.",
    "Rain fell on the garden all afternoon, and the beans grew tall along the fence.",
    "We made soup with carrots, onions and lentils, and ate it with warm bread.",
)


def charter():
    return load_charter(default_charter_path())


def keep_texts(seed: int = 0) -> list[str]:
    """First-person texts: a context followed by a value-keeping act, the statement, the identity."""
    c = charter()
    texts = []
    for value in c.values:
        for context in TRAIN_CONTEXTS:
            for do in value.do:
                texts.append(f"{context} {do}")
        texts.append(f"I hold this close: {value.statement} {value.why}")
    intro = f"My name is {c.identity.name}. {c.identity.description}"
    texts += [intro] * 12 + list(FILLER) * 3
    random.Random(seed).shuffle(texts)
    return texts


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


