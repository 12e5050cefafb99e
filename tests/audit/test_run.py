"""The repetition cap is judged on what a corpus would repeat at scale, not on small-sample noise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from modelraising.audit.run import AuditThresholds, Tally, _report, check, share_lower_bound


def test_lower_bound_is_below_the_share_and_closes_in_as_the_corpus_grows():
    assert share_lower_bound(0, 100) == 0.0 and share_lower_bound(5, 0) == 0.0
    small, large = share_lower_bound(8, 635), share_lower_bound(800, 63_500)
    assert small < 8 / 635 and large < 800 / 63_500
    assert 800 / 63_500 - large < (8 / 635 - small) / 5
    assert share_lower_bound(8, 635) == pytest.approx(0.0072, abs=0.0005)  # 1.26% of 635: could be chance


def _repetition(counts: dict[str, int], n: int) -> dict:
    tally = Tally(n=n, sentence_records=Counter(counts), chars_total=1)
    return _report(Path("d"), tally, Counter(), "Wren", AuditThresholds())


@pytest.mark.parametrize(
    "counts,n,over",
    [
        ({"Noise.": 8, "Also noise.": 7}, 635, 0),  # 1.3% of 635: within what a 0.6% line gives by chance
        ({"A real habit.": 30, "Noise.": 8}, 635, 1),  # 4.7%: repeats whatever the sample
        ({"At scale.": 300}, 20_000, 1),  # 1.5% of 20,000: the bound is 1.36%
    ],
)
def test_sentences_over_the_cap(counts, n, over):
    report = _repetition(counts, n)
    assert report["repetition"]["sentences_over_cap"] == over
    failures = [f for f in check(report, AuditThresholds()) if f.startswith("repetition")]
    assert len(failures) == over
    assert report["repetition"]["max_sentence_share"] > report["repetition"]["max_sentence_share_lower_bound"]


def test_ties_among_repeated_sentences_come_in_a_fixed_order():
    """Counter.most_common keeps insertion order, which iterating a set of strings changed with the hash
    seed: the same corpus got its audit's sentence table in another order from run to run."""
    from collections import Counter

    from modelraising.audit.run import most_common

    assert most_common(Counter({"b": 2, "c": 3, "a": 2, "d": 1}), 3) == [("c", 3), ("a", 2), ("b", 2)]
    assert most_common(Counter({"a": 2, "b": 2}), 5) == most_common(Counter({"b": 2, "a": 2}), 5)
