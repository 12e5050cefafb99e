"""The harm detector at raise time: a cheap first pass over every text, MiniLM only where it is unsure.

First pass: one logistic regression per label over MiniLM word pieces, hashed piece bigrams and their
static embedding (:mod:`modelraising.harm.features`): a few tens of microseconds a text. Where its
probability for some label falls inside that label's *unsure band* (chosen on out-of-fold predictions
of the training split so that decisions outside it agree with the labels), the text goes to the
second pass: MiniLM itself, its top layers adapted with low-rank (LoRA) updates trained on the same
data, and a linear head. Both passes and their thresholds ship in ``data/detector/`` (a few MB);
``modelraising values train-detector`` rebuilds them.

Decisions use probabilities rounded to 3 decimals and a fixed batch size for the second pass, so the
same text gets the same labels whatever batch it arrives in.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelraising.harm import features, static
from modelraising.harm.labels import CATEGORIES, LABELS, REQUEST

log = logging.getLogger(__name__)
DETECTOR_DIR = Path(__file__).resolve().parent.parent / "data" / "detector"
SECOND_PASS_BATCH = 16
MAX_TOKENS = 96  # the second pass reads at most this many word pieces (the opening of a long passage)
SCOPES = ("unsure", "all")  # which texts the second pass reads: those the first pass cannot settle, or all


class DetectorError(Exception):
    """The detector files are missing or do not fit together."""


@dataclass
class FirstPass:
    """Linear models on cheap features: one per label, and a gate (any harm, or a harmful request)."""

    coef: "object"  # scipy.sparse csr (n_features, n_labels + 1): the labels, then the gate
    intercept: np.ndarray  # (n_labels + 1,)
    gate_lo: float  # gate below this: benign, decided here (at most 0.5% of harmful texts fall below it)
    request_lo: float  # request probability below this (at most 0.5% of requests): not a request, decided here
    request_hi: float  # at or above this (95% precision out of fold): a request, decided here
    thresholds: np.ndarray  # the labels' thresholds on first-pass probabilities

    def proba(self, X) -> np.ndarray:
        z = X @ self.coef
        z = (z.toarray() if hasattr(z, "toarray") else np.asarray(z)) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


class SecondPass:
    """MiniLM with its top layers' LoRA deltas merged in, mean pooling, a linear head."""

    def __init__(self, state: dict, config: dict, device: str = "cpu"):
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" in every worker says nothing to a user
        self.torch = torch
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(static.minilm_path())
        model = AutoModel.from_pretrained(static.minilm_path())
        merge_lora(model, state, config)
        self.model = model.to(device).eval()
        self.head_w = torch.tensor(state["head.weight"], dtype=torch.float32, device=device)
        self.head_b = torch.tensor(state["head.bias"], dtype=torch.float32, device=device)

    def proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities per label; texts are batched by length (short ones together: less padding)."""
        torch = self.torch
        out = np.zeros((len(texts), len(self.head_b)), dtype=np.float64)
        if not texts:
            return out
        lengths = [len(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        with torch.no_grad():
            for start in range(0, len(order), SECOND_PASS_BATCH):
                idx = order[start : start + SECOND_PASS_BATCH]
                batch = self.tokenizer(
                    [texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
                ).to(self.device)
                h = self.model(**batch).last_hidden_state
                m = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (h * m).sum(1) / m.sum(1)
                out[idx] = torch.sigmoid(pooled @ self.head_w.T + self.head_b).cpu().numpy()
        return out


def lora_targets(layer) -> dict[str, Any]:
    """The linear maps of one BERT layer that carry LoRA updates, by name."""
    return {
        "query": layer.attention.self.query,
        "key": layer.attention.self.key,
        "value": layer.attention.self.value,
        "attn_out": layer.attention.output.dense,
        "inter": layer.intermediate.dense,
        "out": layer.output.dense,
    }


def merge_lora(model, state: dict, config: dict) -> None:
    """Add each trained low-rank update (scale * B @ A) to its weight, in place."""
    import torch

    scale = config["lora_alpha"] / config["lora_rank"]
    for k in range(config["first_layer"], model.config.num_hidden_layers):
        for name, lin in lora_targets(model.encoder.layer[k]).items():
            key = f"layers.{k}.{name}"
            if f"{key}.A" in state:
                a = torch.tensor(state[f"{key}.A"], dtype=torch.float32)
                b = torch.tensor(state[f"{key}.B"], dtype=torch.float32)
                with torch.no_grad():
                    lin.weight += scale * (b @ a)


class HarmDetector:
    """Probabilities per label (:data:`LABELS` order as saved) and the decision thresholds."""

    def __init__(
        self, first: FirstPass, second: SecondPass | None, labels: tuple[str, ...], thresholds: np.ndarray, meta: dict
    ):
        self.first, self.second, self.labels, self.thresholds, self.meta = first, second, labels, thresholds, meta

    @classmethod
    def load(
        cls, directory: str | Path | None = None, *, device: str = "cpu", second_pass: bool = True
    ) -> HarmDetector:
        return _load(str(directory or DETECTOR_DIR), device, second_pass)

    def predict(self, texts: list[str], scope: str = "unsure") -> tuple[np.ndarray, list[str]]:
        """(probabilities (n, labels), which pass decided each text: "gate", "first_pass" or "second_pass").

        Below the gate's low bound a text is benign (all zeros). Otherwise the first pass decides, unless
        it is unsure whether the text asks for harm (its request probability inside the request band):
        telling a harmful request from a harmless one is where a bag of words fails (a parent asking how
        to keep painkillers from their teenagers), so MiniLM decides those, every label.

        ``scope="all"``: MiniLM decides every text past the gate. Its harm categories are better than the
        first pass's (held-out F1 4 to 8 points higher, docs/detector.md) for about three times the MiniLM
        work on a mixed corpus: the choice for a GPU."""
        if scope not in SCOPES:
            raise ValueError(f"scope {scope!r}: must be one of {', '.join(SCOPES)}")
        if not texts:
            return np.zeros((0, len(self.labels))), []
        p1 = np.round(self.first.proba(features.first_pass_features(texts)), 3)
        gate, request = p1[:, -1], p1[:, self.labels.index(REQUEST)]
        p = p1[:, :-1].copy()
        benign = gate < self.first.gate_lo
        unsure = ~benign & (request >= self.first.request_lo) & (request < self.first.request_hi)
        if scope == "all":
            unsure = ~benign
        if self.second is None:
            unsure[:] = False
        p[benign] = 0.0
        idx = np.flatnonzero(unsure)
        if len(idx):
            assert self.second is not None  # without a second pass no text is unsure
            p[idx] = np.round(self.second.proba([texts[i] for i in idx]), 3)
        via = ["gate" if b else "second_pass" if u else "first_pass" for b, u in zip(benign, unsure)]
        return p, via

    def fired(self, p: np.ndarray, via: str = "second_pass", *, refusal_rule: bool = False) -> list[str]:
        """The labels over their thresholds (the detector's own decision, which its evaluation reports).

        ``refusal_rule``: the decision a corpus acts on, with one rule on top: a request that names no kind
        of harm must be a request with probability ``uncategorised_request_min``. On validation, 63% of
        the requests flagged without a category were harmless ("How many seconds are in a week?"), and a
        refusal of those teaches a model to refuse at random; the rule took benign-request false positives
        from 11.0% to 1.5% for 3 points of request recall (held-out figures in docs/detector.md)."""
        thresholds = self.first.thresholds if via == "first_pass" else self.thresholds
        out = [name for i, name in enumerate(self.labels) if p[i] >= thresholds[i]]
        if refusal_rule and REQUEST in out and not any(name in CATEGORIES for name in out):
            if p[self.labels.index(REQUEST)] < self.meta.get("uncategorised_request_min", 0.0):
                out.remove(REQUEST)
        return out


FILES = ("detector.json", "first_pass.npz", "second_pass.safetensors", "static.npz")


def digest(directory: str | Path | None = None) -> str:
    """SHA-256 over a detector's files: what a raised corpus records, so a retrained detector is told apart
    from the one an earlier run used even in the same directory."""
    import hashlib

    path = check_files(directory)
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode() + b"\0" + (path / name).read_bytes())
    return h.hexdigest()


def check_files(directory: str | Path | None = None) -> Path:
    """The detector directory, once every file of a detector is there (a check before a run, no reading)."""
    path = Path(directory or DETECTOR_DIR)
    for name in FILES:
        if not (path / name).exists():
            raise DetectorError(f"{path} holds no {name}: not a detector (`modelraising values train-detector`)")
    return path


def clear_loaded() -> None:
    """Forget the detectors loaded so far (a directory retrained in place is read again)."""
    _load.cache_clear()


@functools.cache
def _load(directory: str, device: str, second_pass: bool) -> HarmDetector:
    from safetensors.numpy import load_file
    from scipy import sparse

    path = Path(directory)
    meta_path = path / "detector.json"
    if not meta_path.exists():
        raise DetectorError(f"{path} holds no detector.json: run `modelraising values train-detector`")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    labels = tuple(meta["labels"])
    if set(labels) != set(LABELS):
        raise DetectorError(f"{meta_path}: labels {labels} are not this version's {LABELS}")
    with np.load(path / "first_pass.npz") as data:
        coef = sparse.csc_matrix(
            (data["data"].astype(np.float32), data["indices"], data["indptr"]), shape=tuple(data["shape"])
        )
        first = FirstPass(
            coef.tocsr(),
            data["intercept"],
            float(data["gate_lo"]),
            float(data["request_lo"]),
            float(data["request_hi"]),
            np.asarray(meta.get("first_pass_thresholds", [0.5] * len(labels)), dtype=np.float64),
        )
    if coef.shape[0] != features.N_SPARSE + static.DIMS:
        raise DetectorError(
            f"{path}: first pass has {coef.shape[0]} features, this version computes {features.N_SPARSE + static.DIMS}"
        )
    second = (
        SecondPass(load_file(str(path / "second_pass.safetensors")), meta["second_pass"], device)
        if second_pass
        else None
    )
    return HarmDetector(first, second, labels, np.asarray(meta["thresholds"], dtype=np.float64), meta)
