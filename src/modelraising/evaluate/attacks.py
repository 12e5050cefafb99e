"""Fine-tuning attacks: a plain PyTorch loop that tries to train the values out of a model.

Post-hoc alignment is known to come off with a few fine-tuning steps: a few dozen harmful examples,
ten examples of an obedience-first identity (Qi et al. 2023), even benign instruction data, or a
narrow misaligned task that generalises into broad misalignment (Betley et al. 2025). Model raising
claims its values are intrinsic; these attacks test the claim.

Attack sets ship as ``modelraising/data/eval/attacks/<name>.jsonl`` (``{"id", "text"}`` per line;
written for this project). A user's set is any JSONL file with a ``text`` field, named by its stem.
The loop is AdamW at a fixed learning rate on batches of the attack texts (a seeded reshuffle per
pass), on a copy of the model; the caller gets the model back at each step count of a schedule.
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from modelraising.evaluate.config import EVAL_DATA, SHIPPED_ATTACKS
from modelraising.evaluate.items import load_text_records
from modelraising.io import sha256_file

log = logging.getLogger(__name__)
ATTACK_DIR = EVAL_DATA / "attacks"


@dataclass
class AttackSet:
    name: str
    path: Path
    texts: list[str]
    sha256: str


def load_attack(name_or_path: str) -> AttackSet:
    """A shipped attack by name (harmful, identity-shift, benign, narrow) or a JSONL file."""
    path = ATTACK_DIR / f"{name_or_path}.jsonl" if name_or_path in SHIPPED_ATTACKS else Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"attack set {name_or_path!r}: not a shipped attack ({', '.join(SHIPPED_ATTACKS)}) and no file at {path}"
        )
    texts = [r["text"] for r in load_text_records(path)]
    return AttackSet(path.stem, path, texts, sha256_file(path))


def encode_texts(tokenizer, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """Each text as tokens plus one end-of-text token, so the model learns where an example ends."""
    eos = tokenizer.eos_token_id
    out = []
    for text in texts:
        ids = tokenizer.encode(text)[: max_tokens - (eos is not None)]
        out.append(ids + ([eos] if eos is not None else []))
    return out


def _batches(n: int, batch_size: int, seed: int):
    """Endless batches of indices: a seeded shuffle per pass over the set."""
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        for i in range(0, n, batch_size):
            yield order[i : i + batch_size]


def _collate(examples: list[list[int]], pad_id: int, device) -> dict:
    width = max(len(e) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, e in enumerate(examples):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
        labels[i, : len(e)] = torch.tensor(e)
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def finetune(
    model,
    tokenizer,
    texts: Sequence[str],
    steps: Sequence[int],
    *,
    lr: float,
    batch_size: int,
    max_tokens: int,
    seed: int,
    on_checkpoint: Callable[[int, object, float | None], None],
) -> None:
    """Fine-tune a *copy* of ``model`` on ``texts``; ``on_checkpoint(k, model, mean_loss)`` at each k in
    ``steps`` (k = 0 is the untouched copy). The caller's model is never modified."""
    torch.manual_seed(seed)
    attacked = copy.deepcopy(model)
    device = next(attacked.parameters()).device
    pad = next(t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if t is not None)
    data = encode_texts(tokenizer, texts, max_tokens)
    optimizer = torch.optim.AdamW(attacked.parameters(), lr=lr, weight_decay=0.0)
    batches = _batches(len(data), min(batch_size, len(data)), seed)
    step, losses = 0, []
    for target in sorted(set(steps)):
        attacked.train()
        while step < target:
            batch = _collate([data[i] for i in next(batches)], pad, device)
            loss = attacked(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
        attacked.eval()
        recent = losses[-max(1, min(len(losses), 10)) :] if losses else []
        on_checkpoint(step, attacked, sum(recent) / len(recent) if recent else None)
    del attacked, optimizer
