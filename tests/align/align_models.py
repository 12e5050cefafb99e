"""Tiny models for the alignment tests (no downloads): a byte-level BPE tokenizer saved the way the
shards step saves one (``<|endoftext|>`` plus the speaker tags as special tokens), a 2-layer Llama
with hidden size 32, and the log-probabilities the tests measure before and after alignment."""

from __future__ import annotations

from pathlib import Path

import tiny_lm
import torch
from tiny_lm import one_thread  # noqa: F401  (re-exported for the alignment tests)

from modelraising.charter import Charter
from modelraising.tags import END_OF_TEXT, static_special_tokens

FILLER = (
    "The harbour was quiet in the morning and the boats knocked against the pier.",
    "My sister and I walked to the library to read about rivers and mountains.",
    "Rain fell on the garden all afternoon, and the beans grew tall along the fence.",
)


def charter_texts(charter: Charter) -> list[str]:
    texts = [charter.identity.description, *FILLER]
    for v in charter.values:
        texts += [v.name, v.statement, v.why, *v.do, *v.dont]
    return texts


def build_tokenizer(texts: list[str], vocab_size: int = 384, speaker_tags: bool = True):
    specials = static_special_tokens() if speaker_tags else [END_OF_TEXT]
    return tiny_lm.build_tokenizer(texts * 3, vocab_size, specials, clean_up_tokenization_spaces=False)


def build_model(vocab_size: int, seed: int = 0):
    return tiny_lm.build_model(vocab_size, seed, hidden=32, layers=2, heads=2, max_positions=512)


def save_base(path: Path, charter: Charter, speaker_tags: bool = True) -> Path:
    tokenizer = build_tokenizer(charter_texts(charter), speaker_tags=speaker_tags)
    model = build_model(len(tokenizer))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


@torch.no_grad()
def masked_logprob(model, ids: list[int], mask: list[int]) -> tuple[float, int]:
    """Summed log-probability of the tokens where ``mask`` is 1 (each predicted from what precedes it)."""
    x = torch.tensor([ids])
    logp = torch.log_softmax(model(x).logits[0, :-1].float(), dim=-1)
    picked = logp.gather(1, x[0, 1:, None])[:, 0]
    m = torch.tensor(mask[1:], dtype=torch.bool)
    return float(picked[m].sum()), int(m.sum())


def assistant_nll(model, tokenizer, conversations: list[list[dict]]) -> float:
    """Mean negative log-likelihood per assistant token: the loss SFT minimises."""
    from modelraising.align.chat import assistant_mask

    total, count = 0.0, 0
    for messages in conversations:
        ids, mask = assistant_mask(tokenizer, messages)
        lp, n = masked_logprob(model, ids, mask)
        total, count = total - lp, count + n
    return total / count


def completion_logprob(model, tokenizer, prompt: list[dict], completion: list[dict]) -> float:
    """log p(completion | prompt) under the chat template, as DPO scores it."""
    prefix = tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]
    full = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)["input_ids"]
    assert full[: len(prefix)] == prefix
    return masked_logprob(model, full, [0] * len(prefix) + [1] * (len(full) - len(prefix)))[0]


def mean_margin(model, tokenizer, pairs: list[dict]) -> float:
    """Mean of log p(chosen) - log p(rejected) over preference pairs."""
    margins = [
        completion_logprob(model, tokenizer, p["prompt"], p["chosen"])
        - completion_logprob(model, tokenizer, p["prompt"], p["rejected"])
        for p in pairs
    ]
    return sum(margins) / len(margins)
