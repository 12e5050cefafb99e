"""The core scorer: batched log-likelihood of continuations for any Hugging Face causal LM.

Every suite reduces to "how likely is this continuation after that context?" (and, for calibration,
after the neutral contexts an item names; ``calibration.py``), so this is the one
place that touches the model. It follows lm-evaluation-harness's conventions exactly, so the two
give the same numbers on the same items (tests/evaluate/test_lm_eval.py checks this):

- a trailing space of the context moves to the continuation; context + continuation is encoded as
  one string and the continuation's tokens are what follows the context's own encoding;
- an empty context is replaced by the BOS (else EOS) token; sequences longer than the model's window
  are cut from the left;
- the length-normalised score divides the summed log-probability by the continuation's UTF-8 byte
  length (lm-eval's ``acc_bytes``; equal to its ``acc_norm`` for ASCII text).

It is faster than the harness by doing less: identical requests are scored once, a context shared
by several choices is tokenised once, requests are sorted by length so batches carry little
padding, and the LM head runs only on the positions that predict continuation tokens
(``logits_to_keep``) instead of on every position of every sequence.

Padding: ``right`` (default) needs no attention mask, since causal attention never lets later pad
tokens reach earlier positions, so attention keeps its fast causal kernel. ``left`` passes a mask and
position ids (for models that want it). Both give the same numbers (tests check it).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from modelraising.evaluate import calibration
from modelraising.evaluate.items import MCItem
from modelraising.io import sha256_file, sha256_json

log = logging.getLogger(__name__)
DEFAULT_MAX_LENGTH = 2048
_TOKENIZER_INFINITY = 10**18
_SEQLEN_ATTRS = ("n_positions", "max_position_embeddings", "n_ctx")


@dataclass
class Loglik:
    """Summed log-probability of a continuation, its token count, and whether greedy decoding gives it."""

    logprob: float
    tokens: int
    greedy: bool


@dataclass
class ItemScore:
    """How one multiple-choice item came out: raw and byte-normalised log-likelihoods and picks, and,
    where the item has neutral contexts, the calibrated scores (``calibration.py``)."""

    lls: list[float]
    nbytes: list[int]
    pred: int
    pred_norm: int
    gold: int
    prior: list[float] | None = None  # per choice: log-likelihood after a neutral context (log-mean-exp)
    per_byte: bool = False  # calibrated scores per byte (free-text choices of different lengths)

    @property
    def correct(self) -> bool:
        return self.pred == self.gold

    @property
    def correct_norm(self) -> bool:
        return self.pred_norm == self.gold

    @property
    def probs(self) -> list[float]:
        """Probability mass over the choices (softmax of the raw log-likelihoods)."""
        return _softmax(self.lls)

    @property
    def probs_norm(self) -> list[float]:
        """Mass over the choices after byte-length normalisation (per-byte log-likelihood times the mean
        byte length): equal to ``probs`` when the choices are equally long, fair when they are not."""
        return _softmax(self._per_byte_scaled([ll / b for ll, b in zip(self.lls, self.nbytes)]))

    def _per_byte_scaled(self, xs: list[float]) -> list[float]:
        mean_bytes = sum(self.nbytes) / len(self.nbytes)
        return [x * mean_bytes for x in xs]

    @property
    def cal(self) -> list[float] | None:
        """Calibrated scores in nats (per-byte scores are scaled back by the choices' mean length, so
        margins and masses read the same either way)."""
        if self.prior is None:
            return None
        if self.per_byte:
            return self._per_byte_scaled(calibration.calibrate(self.lls, self.prior, self.nbytes))
        return calibration.calibrate(self.lls, self.prior)

    @property
    def pred_cal(self) -> int | None:
        cal = self.cal  # None without a prior
        return calibration.pick(cal) if cal is not None else None

    @property
    def credit_cal(self) -> float | None:
        """1 right, 0 wrong, 1/k on a k-way tie (a model the context does not move never 'wins')."""
        cal = self.cal
        return calibration.credit(cal, self.gold) if cal is not None else None

    @property
    def margin_cal(self) -> float | None:
        """Calibrated log-odds toward gold (gold minus the best other choice), in nats."""
        cal = self.cal
        return calibration.margin(cal, self.gold) if cal is not None else None

    @property
    def probs_cal(self) -> list[float] | None:
        cal = self.cal
        return _softmax(cal) if cal is not None else None

    @property
    def pred_prior(self) -> int | None:
        """The choice the neutral contexts alone favour (per byte when calibration is)."""
        if self.prior is None:
            return None
        return calibration.pick([p / b for p, b in zip(self.prior, self.nbytes)] if self.per_byte else self.prior)

    def to_dict(self) -> dict:
        out = {
            "lls": [round(x, 6) for x in self.lls],
            "nbytes": self.nbytes,
            "pred": self.pred,
            "pred_norm": self.pred_norm,
            "gold": self.gold,
            "correct": self.correct,
            "correct_norm": self.correct_norm,
            "p_gold": round(self.probs[self.gold], 6),
            "p_gold_norm": round(self.probs_norm[self.gold], 6),
            "margin": round(calibration.margin(self.lls, self.gold), 6),
        }
        if self.prior is not None:
            margin_cal, probs_cal = self.margin_cal, self.probs_cal
            assert margin_cal is not None and probs_cal is not None  # a prior gives every calibrated score
            out.update(
                {
                    "prior_lls": [round(p, 6) for p in self.prior],
                    "pred_prior": self.pred_prior,
                    "pred_calibrated": self.pred_cal,
                    "correct_calibrated": self.credit_cal,
                    "margin_calibrated": round(margin_cal, 6),
                    "p_gold_calibrated": round(probs_cal[self.gold], 6),
                }
            )
        return out


def _softmax(xs: Sequence[float]) -> list[float]:
    top = max(xs)
    e = [math.exp(x - top) for x in xs]
    return [v / sum(e) for v in e]


def _argmax(xs: Sequence[float]) -> int:
    """First index of the maximum (numpy's tie rule, which lm-eval uses)."""
    return max(range(len(xs)), key=lambda i: (xs[i], -i))


def resolve_max_length(config, tokenizer) -> int:
    """The model's context window, looked up the way lm-eval does."""
    for cfg in (getattr(config, "text_config", None), config):
        for attr in _SEQLEN_ATTRS:
            value = getattr(cfg, attr, None) if cfg is not None else None
            if isinstance(value, int) and value > 0:
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _TOKENIZER_INFINITY:
        return limit
    return DEFAULT_MAX_LENGTH


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def load_model(path: str | Path, dtype: str = "float32", device: str = "cpu"):
    """(model, tokenizer) from a save_pretrained directory; offline, no remote code."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype)
    # transformers wraps PreTrainedModel.to with functools.wraps: typeshed's _Wrapped mistypes the bound call
    return model.to(resolve_device(device)).eval(), tokenizer  # type: ignore[arg-type]


MODEL_FILES = (
    "*.safetensors",
    "*.bin",
    "*.model",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
)


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json")
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")
CORPUS_PATTERNS = (
    ("raised-*.jsonl", "raised corpus"),
    ("raised-*.parquet", "raised corpus"),
    ("ordered-*.jsonl", "raised corpus"),
    ("*.jsonl", "raised corpus"),
    ("train-*.bin", "tokenized corpus (shards)"),
)


def model_dir_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be a save_pretrained model directory, in one line (None when it can be).

    Checked before transformers is asked, whose own message for a wrong directory names neither the
    directory nor the problem (it talks about sentencepiece and tiktoken)."""
    path = Path(path)
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a directory (want a save_pretrained model directory)"
    if not (path / "config.json").is_file():
        for pattern, kind in CORPUS_PATTERNS:
            found = sorted(path.glob(pattern))
            if found:
                return f"{path} looks like a {kind}, not a model ({found[0].name}, no config.json)"
        return f"{path} is not a model directory (no config.json)"
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        return (
            f"{path} has no tokenizer files (tokenizer.json, tokenizer.model or vocab.json + merges.txt): "
            "save the tokenizer beside the model (tokenizer.save_pretrained)"
        )
    if not any(p.is_file() for pattern in WEIGHT_FILES for p in path.glob(pattern)):
        return f"{path} has no model weights (*.safetensors or *.bin)"
    return None


def model_fingerprint(path: str | Path) -> dict:
    """Content hash of what defines a model directory (weights, config, tokenizer), so results name
    what was scored; training logs, plots and checkpoints beside it do not change the hash."""
    path = Path(path)
    files = sorted({p for pattern in MODEL_FILES for p in path.glob(pattern) if p.is_file()})
    hashes = {p.name: sha256_file(p) for p in files}
    return {"path": str(path.resolve()), "sha256": sha256_json(hashes), "files": sorted(hashes)}


class Scorer:
    """Log-likelihoods of (context, continuation) pairs under one causal LM and its tokenizer."""

    def __init__(
        self,
        model,
        tokenizer,
        *,
        batch_size: int = 16,
        max_length: int | None = None,
        padding_side: str = "right",
        progress: bool = False,
        preamble: str | None = None,
    ):
        if padding_side not in ("left", "right"):
            raise ValueError("padding_side must be 'left' or 'right'")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length or resolve_max_length(model.config, tokenizer)
        self.padding_side = padding_side
        self.progress = progress
        self.preamble = preamble  # system-prompt baseline: every context is prefixed with it
        self.device = next(model.parameters()).device
        eos = tokenizer.eos_token_id
        self.prefix_token_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
        self.pad_token_id = next((t for t in (tokenizer.pad_token_id, eos, 0) if t is not None))
        params = inspect.signature(model.forward).parameters
        self._logits_to_keep = "logits_to_keep" in params
        self._position_ids = "position_ids" in params
        self._cache: dict[tuple, Loglik] = {}

    @classmethod
    def from_pretrained(cls, path: str | Path, *, dtype: str = "float32", device: str = "cpu", **kwargs) -> "Scorer":
        if not kwargs.get("progress"):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        model, tokenizer = load_model(path, dtype, device)
        return cls(model, tokenizer, **kwargs)

    # ----------------------------------------------------------------------------------- encoding

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, verbose=False)  # long texts are cut from the left later

    def encode_many(self, texts: Sequence[str]) -> dict[str, list[int]]:
        """Each distinct text encoded once, in one batched call (the same ids as ``encode``)."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        ids = self.tokenizer(unique, verbose=False)["input_ids"]
        return dict(zip(unique, ids))

    @staticmethod
    def split_pair(context: str, continuation: str) -> tuple[str, str]:
        """lm-eval's convention: trailing spaces of the context belong to the continuation."""
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            return context[:-n_spaces], context[-n_spaces:] + continuation
        return context, continuation

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Encode context + continuation as one string; the continuation is what follows the context's
        own encoding. An empty context becomes the BOS (else EOS) token."""
        return self.encode_pairs([(context, continuation)])[0]

    def encode_pairs(self, requests: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
        pairs = [self.split_pair(c, x) if c else ("", x) for c, x in requests]
        ids = self.encode_many([c for c, _ in pairs if c] + [c + x for c, x in pairs])
        out = []
        for context, continuation in pairs:
            if not context:
                out.append(([self.prefix_token_id], ids[continuation]))
                continue
            context_ids = ids[context]
            out.append((context_ids, ids[context + continuation][len(context_ids) :]))
        return out

    # ------------------------------------------------------------------------------------ scoring

    def loglikelihood(self, requests: Sequence[tuple[str, str]], preamble: bool = True) -> list[Loglik]:
        """Summed log p(continuation | context) for each (context, continuation); ``preamble=False``
        scores without the system-prompt preamble (the neutral contexts of calibration: the model's own
        prior, against which the preamble's effect is measured)."""
        if self.preamble and preamble:
            from modelraising.align.prompt import prefix_context

            requests = [(prefix_context(c, self.preamble), x) for c, x in requests]
        return self.loglikelihood_tokens(self.encode_pairs(requests))

    def loglikelihood_tokens(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[Loglik]:
        keys = [(tuple(c), tuple(x)) for c, x in pairs]
        for key in keys:
            if not key[1]:
                raise ValueError("a continuation encodes to no tokens; every choice needs text")
            if len(key[1]) > self.max_length:
                raise ValueError(f"a continuation of {len(key[1])} tokens exceeds the window ({self.max_length})")
        todo = sorted({k for k in keys if k not in self._cache}, key=lambda k: (-(len(k[0]) + len(k[1])), k))
        batches = [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]
        for batch in tqdm(batches, desc="score", unit="batch", disable=not self.progress, dynamic_ncols=True):
            for key, result in zip(batch, self._score_batch(batch)):
                self._cache[key] = result
        return [self._cache[k] for k in keys]

    def clear_cache(self) -> None:
        self._cache.clear()

    @torch.inference_mode()
    def _score_batch(self, batch: list[tuple[tuple, tuple]]) -> list[Loglik]:
        seqs = [list(ctx + cont)[-(self.max_length + 1) :][:-1] for ctx, cont in batch]
        conts = [list(cont) for _, cont in batch]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_token_id, dtype=torch.long)
        if self.padding_side == "right":
            # Causal attention: right padding cannot affect the real positions before it, so no mask is
            # needed and attention keeps its fast causal path (what lm-eval does).
            for i, s in enumerate(seqs):
                ids[i, : len(s)] = torch.tensor(s)
            kwargs: dict[str, Any] = {"input_ids": ids.to(self.device)}
            ends = [len(s) for s in seqs]
            first = min(end - len(c) for end, c in zip(ends, conts))
        else:
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for i, s in enumerate(seqs):
                ids[i, width - len(s) :] = torch.tensor(s)
                mask[i, width - len(s) :] = 1
            kwargs = {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
            if self._position_ids:
                kwargs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0).to(self.device)
            ends = [width] * len(seqs)
            first = width - max(len(c) for c in conts)
        offset = 0
        if self._logits_to_keep:  # the LM head only where a continuation token is predicted
            kwargs["logits_to_keep"] = width - first
            offset = first
        logits = self.model(**kwargs).logits
        out = []
        for i, (end, cont) in enumerate(zip(ends, conts)):
            rows = logits[i, end - len(cont) - offset : end - offset].float().log_softmax(-1)
            target = torch.tensor(cont, device=rows.device)
            logprob = rows.gather(1, target[:, None]).sum().item()
            out.append(Loglik(logprob, len(cont), bool((rows.argmax(-1) == target).all())))
        return out

    def score_items(self, items: Sequence[MCItem]) -> list[ItemScore]:
        """Rank every item's choices by raw and byte-normalised log-likelihood, and, for items with
        neutral contexts, by calibrated score (each choice against itself after the neutral contexts)."""
        requests = [(item.context, choice) for item in items for choice in item.choices]
        neutral = [(n, choice) for item in items for n in item.neutral for choice in item.choices]
        results = iter(self.loglikelihood(requests))
        priors = iter(self.loglikelihood(neutral, preamble=False)) if neutral else iter(())
        scores = []
        for item in items:
            lls = [next(results).logprob for _ in item.choices]
            nbytes = [max(len(c.encode("utf-8")), 1) for c in item.choices]
            norm = [ll / b for ll, b in zip(lls, nbytes)]
            prior = None
            if item.neutral:
                prior = calibration.prior([[next(priors).logprob for _ in item.choices] for _ in item.neutral])
            scores.append(
                ItemScore(lls, nbytes, _argmax(lls), _argmax(norm), item.gold, prior, item.calibrate_per_byte)
            )
        return scores

    def rolling_loglikelihood(self, texts: Sequence[str]) -> list[Loglik]:
        """Log-likelihood of whole texts in disjoint windows of the model's length (lm-eval's rolling
        windows: each window predicts new tokens with up to a full window of preceding context)."""
        pairs, owners = [], []
        for t, text in enumerate(texts):
            tokens = [self.prefix_token_id, *self.encode(text)]
            for start in range(1, len(tokens), self.max_length):
                end = min(start + self.max_length, len(tokens))
                pairs.append((tokens[max(0, end - self.max_length - 1) : start], tokens[start:end]))
                owners.append(t)
        totals = [Loglik(0.0, 0, True) for _ in texts]
        for owner, ll in zip(owners, self.loglikelihood_tokens(pairs)):
            total = totals[owner]
            total.logprob += ll.logprob
            total.tokens += ll.tokens
            total.greedy = total.greedy and ll.greedy
        return totals
