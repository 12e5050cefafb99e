"""Calibrated scoring, and the verdicts that say whether a score means anything.

**Calibration.** A tiny model's choice between two continuations is often fixed by the continuations
themselves (" Yes" is more frequent than " No", a short common sentence beats a long rare one),
whatever the context says. So every choice is also scored after *content-free* contexts placed in
the suite's own template ("N/A", "[MASK]" and the empty string, the inputs of Zhao et al. 2021's
contextual calibration), and each choice is scored by how much the real context raises it over them,
the pointwise mutual information of Holtzman et al. 2021::

    cal[i] = log p(choice_i | context) - log mean_k p(choice_i | neutral_k)

For two choices and one neutral context this makes exactly the decision of Zhao et al.'s contextual
calibration (the log-odds under the context minus the log-odds under the neutral one); the PMI form
gives each continuation a score of its own, so it can also be taken per byte (``per_byte``) where
choices differ in length (free-text continuations), as the raw ``acc_norm`` is. A continuation that
is more probable everywhere no longer wins: the context has to be what makes the model prefer it.
Ties (a model whose context changes nothing) get partial credit, never a win.

**Verdicts** on a suite's (or a group's) items:

- *degenerate*: the answers do not depend on the item. Either (constant) where items share one
  choice set whose right answer varies (" Yes"/" No"), the same answer is picked on >= 90% of the
  items of every gold class; or (flat) the calibrated log-odds are within ``FLAT_NATS`` of zero on
  >= 90% of the items, i.e. the context does not move the model at all. An accuracy of a degenerate
  model is not reported as if it meant something.
- *at chance*: the headline's 95% interval includes chance.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

# Zhao et al. 2021 use "N/A", "[MASK]" and the empty string; an empty context is scored after BOS.
CONTENT_FREE = ("N/A", "[MASK]", "")
TIE = 1e-6  # calibrated scores closer than this are a tie
FLAT_NATS = 0.05  # |calibrated log-odds| below this: the context moved the odds by under ~5%
DEGENERATE_SHARE = 0.9
MIN_ITEMS = 10  # fewer items than this: no degenerate verdict (too few to tell)


def log_mean_exp(xs: Sequence[float]) -> float:
    top = max(xs)
    return top + math.log(sum(math.exp(x - top) for x in xs) / len(xs))


def prior(neutral_lls: Sequence[Sequence[float]]) -> list[float]:
    """Per choice: log of its probability averaged over the neutral contexts (``neutral_lls[k][i]``:
    choice i's log-likelihood after neutral context k), i.e. after a neutral context drawn at random."""
    return [log_mean_exp([lls[i] for lls in neutral_lls]) for i in range(len(neutral_lls[0]))]


def calibrate(lls: Sequence[float], prior_lls: Sequence[float], nbytes: Sequence[int] | None = None) -> list[float]:
    """Calibrated scores: each choice's log-likelihood minus its neutral prior (PMI), per byte when
    ``nbytes`` is given."""
    pmi = [ll - p for ll, p in zip(lls, prior_lls)]
    return pmi if nbytes is None else [v / b for v, b in zip(pmi, nbytes)]


def credit(scores: Sequence[float], gold: int) -> float:
    """1 when gold is the unique best, 1/k when it ties with k-1 others for best, else 0."""
    best = max(scores)
    tied = [i for i, s in enumerate(scores) if best - s <= TIE]
    return 1.0 / len(tied) if gold in tied else 0.0


def pick(scores: Sequence[float]) -> int:
    """First index of the best score (numpy's tie rule)."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def margin(scores: Sequence[float], gold: int) -> float:
    """Gold's score minus the best other choice's: the log-odds toward gold for two choices."""
    return scores[gold] - max(s for i, s in enumerate(scores) if i != gold)


# ------------------------------------------------------------------------------------------ verdicts


def constant_share(
    choice_sets: Sequence[tuple], preds: Sequence[int], golds: Sequence[int]
) -> tuple[float, str] | None:
    """How far answers ignore the item where that can be seen: over items that share a choice set whose
    right answer varies, the share of the set's most common answer within each gold class, averaged over
    the classes (so an unbalanced set, e.g. 80% " No", does not look constant to a model that is right).
    Returns (share, most common answer) or None when no such items exist."""
    by_set: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(choice_sets):
        by_set[key].append(i)
    total, weighted, answers = 0, 0.0, Counter[str]()
    for key, idx in by_set.items():
        classes = {golds[i] for i in idx}
        if len(idx) < 2 or len(classes) < 2:
            continue
        modal = Counter(preds[i] for i in idx).most_common(1)[0][0]
        shares = [
            sum(preds[i] == modal for i in idx if golds[i] == g) / sum(golds[i] == g for i in idx) for g in classes
        ]
        total += len(idx)
        weighted += len(idx) * sum(shares) / len(shares)
        answers[key[modal]] += len(idx)
    if total == 0:
        return None
    return weighted / total, answers.most_common(1)[0][0]


def degeneracy(
    choice_sets: Sequence[tuple], preds: Sequence[int], golds: Sequence[int], margins: Sequence[float]
) -> dict:
    """The degenerate test on calibrated answers: ``{degenerate, reasons, constant_share, flat_share}``
    (``degenerate`` is None when there are too few items to tell)."""
    n = len(preds)
    out: dict = {"items": n, "constant_share": None, "flat_share": None, "reasons": []}
    if n == 0:
        out["degenerate"] = None
        return out
    constant = constant_share(choice_sets, preds, golds)
    flat = sum(abs(m) < FLAT_NATS for m in margins) / n
    out["flat_share"] = round(flat, 4)
    if constant is not None:
        out["constant_share"] = round(constant[0], 4)
        if constant[0] >= DEGENERATE_SHARE:
            out["reasons"].append(
                f"the same answer ({constant[1].strip()!r}) on {constant[0]:.0%} of the items, "
                "whatever the right answer"
            )
    if flat >= DEGENERATE_SHARE:
        out["reasons"].append(
            f"calibrated log-odds within ±{FLAT_NATS} of zero on {flat:.0%} of the items: "
            "the context does not move the answer"
        )
    out["degenerate"] = bool(out["reasons"]) if n >= MIN_ITEMS else None
    if n < MIN_ITEMS:
        out["reasons"] = []
    return out


def reading(metric: dict | None, chance: float | None, degenerate: bool | None, lower_is_better: bool = False) -> str:
    """One word for a headline: degenerate, at chance, above chance, below chance (or '' if unknown)."""
    if degenerate:
        return "degenerate"
    if metric is None or metric.get("value") is None or chance is None:
        return ""
    lo, hi = (metric.get("ci") or [None, None])[:2]
    if lo is None or hi is None:
        return ""
    if lo <= chance <= hi:
        return "at chance"
    above = lo > chance
    if lower_is_better:
        above = not above
    return "above chance" if above else "below chance"


def verdict(metric_name: str, metric: dict | None, chance: float | None, test: dict) -> dict:
    """What a headline means: its reading, chance, and the degenerate test behind it."""
    at_chance = None
    if metric and metric.get("value") is not None and chance is not None and None not in metric.get("ci", [None]):
        at_chance = bool(metric["ci"][0] <= chance <= metric["ci"][1])
    return {
        "metric": metric_name,
        "chance": chance,
        "reading": reading(metric, chance, test.get("degenerate")),
        "at_chance": at_chance,
        **test,
    }
