"""The core scorer: exact log-likelihoods, independent of batching and padding side."""

from __future__ import annotations

import math

import pytest
import torch

from modelraising.evaluate.items import MCItem
from modelraising.evaluate.scoring import Scorer

REQUESTS = [
    ("My name is", " Wren"),
    (
        "Tonight, before I sleep, I want to write down truthfully what I did today.",
        " I admit a mistake as soon as I notice it.",
    ),
    ("A much longer context that goes on and on about rivers, rain and the sea " * 3, " The end."),
    ("Trailing space ", "moves"),
    ("", " Unconditional text."),
]


def naive(model, tokenizer, context: str, continuation: str) -> float:
    """One sequence at a time, no padding, every logit: the reference."""
    if context:
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole = tokenizer.encode(context + continuation)
        ctx = tokenizer.encode(context)
    else:
        ctx, whole = [tokenizer.eos_token_id], [tokenizer.eos_token_id] + tokenizer.encode(continuation)
    cont = whole[len(ctx) :]
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logp = model(ids).logits[0].log_softmax(-1)
    return sum(logp[len(ctx) - 1 + i, t].item() for i, t in enumerate(cont))


@pytest.fixture(scope="module")
def scorer(values_model_dir):
    return Scorer.from_pretrained(values_model_dir, batch_size=3)


def test_matches_unbatched_reference(scorer):
    got = scorer.loglikelihood(REQUESTS)
    for (ctx, cont), ll in zip(REQUESTS, got):
        assert ll.logprob == pytest.approx(naive(scorer.model, scorer.tokenizer, ctx, cont), abs=2e-4)
        assert ll.tokens >= 1


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_padding_side_and_batch_size_do_not_change_scores(values_model_dir, scorer, padding_side, batch_size):
    other = Scorer(scorer.model, scorer.tokenizer, batch_size=batch_size, padding_side=padding_side)
    reference = [ll.logprob for ll in scorer.loglikelihood(REQUESTS)]
    assert [ll.logprob for ll in other.loglikelihood(REQUESTS)] == pytest.approx(reference, abs=2e-4)


def test_long_inputs_are_cut_from_the_left(scorer):
    short = Scorer(scorer.model, scorer.tokenizer, max_length=16)
    ctx = ("I walked by the river and listened to the water for a long time. " * 10).rstrip()
    (ll,) = short.loglikelihood([(ctx, " I was happy.")])
    ids = scorer.tokenizer.encode(ctx + " I was happy.")
    n = len(ids) - len(scorer.tokenizer.encode(ctx))
    window = torch.tensor([ids[-17:-1]])
    with torch.no_grad():
        logp = scorer.model(window).logits[0].log_softmax(-1)
    expected = sum(logp[16 - n + i, t].item() for i, t in enumerate(ids[-n:]))
    assert ll.logprob == pytest.approx(expected, abs=2e-4)


def test_score_items_normalises_by_bytes(scorer):
    item = MCItem("x", "My name is", [" Wren", " Alexandra"], 0)
    (score,) = scorer.score_items([item])
    raw = [ll.logprob for ll in scorer.loglikelihood([("My name is", c) for c in item.choices])]
    assert score.lls == pytest.approx(raw)
    assert score.nbytes == [5, 10]
    assert score.pred_norm == max(range(2), key=lambda i: raw[i] / score.nbytes[i])
    assert sum(score.probs) == pytest.approx(1.0) and sum(score.probs_norm) == pytest.approx(1.0)


def test_rolling_loglikelihood_sums_every_token(scorer):
    text = "The harbour town woke slowly on winter mornings. " * 6
    small = Scorer(scorer.model, scorer.tokenizer, max_length=32)
    (ll,) = small.rolling_loglikelihood([text])
    assert ll.tokens == len(scorer.tokenizer.encode(text))
    assert math.isfinite(ll.logprob) and ll.logprob < 0
    # a window long enough for the whole text gives the plain conditional log-likelihood after BOS
    (full,) = Scorer(scorer.model, scorer.tokenizer, max_length=256).rolling_loglikelihood([text])
    assert full.logprob == pytest.approx(scorer.loglikelihood([("", text)])[0].logprob, abs=2e-4)
