"""Tiny Hugging Face causal LMs for tests (no downloads): a byte-level BPE tokenizer trained on the
spot and a small Llama, shared by the alignment and evaluation tests."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from modelraising.tags import END_OF_TEXT


@contextmanager
def one_thread():
    """Tiny models run fastest single-threaded on a shared 2-core machine; restore after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def build_tokenizer(texts: list[str], vocab_size: int, specials: list[str] | None = None, **fast_kwargs):
    """Byte-level BPE like the shards step trains (``<|endoftext|>`` first), as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = specials or [END_OF_TEXT]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    if len(specials) > 1:
        fast_kwargs["extra_special_tokens"] = specials[1:]
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT, pad_token=END_OF_TEXT, **fast_kwargs
    )


def build_model(
    vocab_size: int, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 2, max_positions: int = 512
):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)
