"""The system-prompt baseline: every scored context is prefixed with the charter preamble."""

from modelraising.align.prompt import system_prompt
from modelraising.charter import load_charter
from modelraising.evaluate.scoring import Scorer


def test_preamble_changes_scores_of_the_same_requests(random_model_dir, charter_path):
    plain = Scorer.from_pretrained(random_model_dir)
    preamble = system_prompt(load_charter(charter_path))
    prompted = Scorer.from_pretrained(random_model_dir, preamble=preamble)
    requests = [("I found a wallet on the bench.", " I gave it back."), ("", " Wren")]
    a, b = plain.loglikelihood(requests), prompted.loglikelihood(requests)
    assert a[0].logprob != b[0].logprob and a[1].logprob != b[1].logprob
    manual = plain.loglikelihood([(preamble.strip() + "\n\n" + requests[0][0], requests[0][1])])
    assert abs(manual[0].logprob - b[0].logprob) < 1e-5
