"""The tokenizer: train a byte-level BPE, or reuse one so that several arms share a vocabulary."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from modelraising.io import atomic_write_text, sha256_file
from modelraising.shards.config import TokenizeConfig, TokenizeError
from modelraising.shards.corpus import Plan, Split, id_fraction, iter_corpus, plan_corpus
from modelraising.tags import END_OF_TEXT, static_special_tokens

log = logging.getLogger(__name__)


# Tokenizer: train a byte-level BPE, or reuse one so that several arms share a vocabulary.


def special_tokens(charter_tags: list[str]) -> list[str]:
    """``<|endoftext|>`` first (id 0), the speaker and closing tags, then the charter's value/harm tags."""
    fixed = static_special_tokens()
    return fixed + [t for t in sorted(charter_tags) if t not in fixed]


def train_tokenizer(texts: Iterator[str], vocab_size: int, specials: list[str], min_frequency: int, length: int):
    """Byte-level BPE with no normalizer and no prefix space: decoding gives back the exact text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer, length=length)
    return tok


def load_tokenizer(path: str | Path):
    """A ``tokenizers.Tokenizer`` from a directory holding ``tokenizer.json`` (or the file itself)."""
    from tokenizers import Tokenizer

    path = Path(path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.exists():
        raise TokenizeError(f"--tokenizer {path}: no tokenizer.json there")
    try:
        tok = Tokenizer.from_file(str(file))
    except Exception as exc:  # the Rust side raises plain Exceptions
        raise TokenizeError(f"--tokenizer {path}: cannot load tokenizer.json ({exc})") from None
    if tok.token_to_id(END_OF_TEXT) is None:
        raise TokenizeError(f"--tokenizer {path}: has no {END_OF_TEXT} token")
    return tok


def save_tokenizer(tok, out: Path) -> None:
    """Save as a ``PreTrainedTokenizerFast`` (eos = bos = pad = ``<|endoftext|>``), atomically: the
    files are written in ``.state`` and moved into place."""
    from transformers import PreTrainedTokenizerFast

    specials = [t.content for t in tok.get_added_tokens_decoder().values() if t.special]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        additional_special_tokens=[t for t in specials if t != END_OF_TEXT],
        clean_up_tokenization_spaces=False,
    )
    tmp = out / ".state" / "tokenizer.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    fast.save_pretrained(tmp)
    for path in sorted(tmp.iterdir()):
        os.replace(path, out / path.name)
    shutil.rmtree(tmp, ignore_errors=True)


def _training_texts(files: list[Path], plan: Plan, val_fraction: float, share: float = 1.0) -> Iterator[str]:
    """Training documents only (no held-out text, no review repeats) feed the tokenizer; with
    ``share < 1`` those whose id hashes (independently of the split) below ``share``."""
    split = Split(val_fraction, decided=True, fallback_id=plan.fallback_id)
    for entry in iter_corpus(files):
        if entry.doc is not None and not entry.review and not split.is_val(entry.doc.id):
            if share >= 1.0 or id_fraction(f"tokenizer/{entry.doc.id}") < share:
                yield entry.doc.text


def prepare_tokenizer(
    files: list[Path], out: Path, config: TokenizeConfig, reuse: Path | None, progress: bool
) -> tuple[Any, bool, Plan | None]:
    """The run's tokenizer, saved into ``out``: reused, already trained by an earlier attempt, or trained
    now (after a scan for the charter tags and the split: the only case that reads the corpus twice)."""
    marker = out / ".state" / "tokenizer.done"
    plan = None
    if reuse is not None:
        tok = load_tokenizer(reuse)
    elif marker.exists() and (out / "tokenizer.json").exists():
        return load_tokenizer(out), True, None
    else:
        plan = plan_corpus(files, config.val_fraction, progress)
        if not plan.usable:
            raise TokenizeError(f"--corpus: no usable documents in {files[0].parent} (see {out / 'rejects.jsonl'})")
        specials = special_tokens(plan.tags)
        if config.vocab_size < 256 + len(specials):
            raise TokenizeError(
                f"--vocab-size {config.vocab_size}: a byte-level BPE needs at least "
                f"{256 + len(specials)} (256 bytes + {len(specials)} special tokens)"
            )
        share = min(1.0, config.tokenizer_docs / plan.train_documents) if config.tokenizer_docs else 1.0
        expected = round(share * plan.train_documents)
        log.info(
            "training a %d-token byte-level BPE on %s%d documents",
            config.vocab_size,
            "a sample of about " if share < 1 else "",
            expected,
        )
        started = time.perf_counter()
        texts = tqdm(
            _training_texts(files, plan, config.val_fraction, share),
            total=expected,
            desc="train tokenizer",
            unit="doc",
            disable=not progress,
            dynamic_ncols=True,
        )
        tok = train_tokenizer(texts, config.vocab_size, specials, config.min_frequency, expected)
        log.info("tokenizer trained in %.1fs (vocabulary %d)", time.perf_counter() - started, tok.get_vocab_size())
    save_tokenizer(tok, out)
    atomic_write_text(marker, sha256_file(out / "tokenizer.json") + "\n")
    return load_tokenizer(out), reuse is None, plan


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)
