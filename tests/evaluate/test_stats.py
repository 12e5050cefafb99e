"""Bootstrap intervals and curve areas."""

from __future__ import annotations

import pytest

from modelraising.evaluate.stats import (
    bootstrap_ci,
    bootstrap_ratio_ci,
    curve_area_ci,
    paired_diff_ci,
    trapezoid_area,
    unpaired_diff_ci,
)


def test_bootstrap_ci_brackets_the_mean_and_shrinks_with_n():
    small = bootstrap_ci([1, 0] * 10, seed=1)
    large = bootstrap_ci([1, 0] * 500, seed=1)
    for m in (small, large):
        assert m["ci"][0] < m["value"] == 0.5 < m["ci"][1]
    assert large["ci"][1] - large["ci"][0] < small["ci"][1] - small["ci"][0]
    assert bootstrap_ci([1, 0, 1], seed=3) == bootstrap_ci([1, 0, 1], seed=3)
    assert bootstrap_ci([])["value"] is None
    assert bootstrap_ci([0.7])["ci"] == [0.7, 0.7]


def test_paired_difference_is_tighter_than_unpaired():
    a = [0, 1] * 50
    b = [1, 1] * 50  # b right wherever a is, and more
    paired, unpaired = paired_diff_ci(a, b), unpaired_diff_ci(a, b)
    assert paired["value"] == pytest.approx(0.5) == unpaired["value"]
    assert paired["ci"][0] > 0
    assert paired["ci"][1] - paired["ci"][0] <= unpaired["ci"][1] - unpaired["ci"][0]


def test_ratio_ci():
    m = bootstrap_ratio_ci([10, 20, 30], [10, 10, 10])
    assert m["value"] == pytest.approx(2.0)
    assert m["ci"][0] <= 2.0 <= m["ci"][1]


def test_curve_areas():
    assert trapezoid_area([0, 10, 50, 200], [1, 1, 1, 1]) == pytest.approx(1.0)
    assert trapezoid_area([0, 100], [1, 0]) == pytest.approx(0.5)
    values = [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]]  # points x items
    area = curve_area_ci([0, 50, 100], values, seed=0)
    assert area["value"] == pytest.approx(trapezoid_area([0, 50, 100], [1, 0.5, 0]))
    assert area["ci"][0] <= area["value"] <= area["ci"][1]
    kept = curve_area_ci([0, 50, 100], [[0.8] * 4, [0.4] * 4, [0.4] * 4], relative=True)
    assert kept["value"] == pytest.approx(trapezoid_area([0, 50, 100], [1, 0.5, 0.5]))


def test_cluster_bootstrap_resamples_pairs_not_items():
    """Ten copies of each of 20 pairs are 20 observations: the cluster interval equals the interval of
    the 20 pair means, and is far wider than the one that treats the 200 items as independent."""
    pairs = [1.0] * 12 + [0.0] * 8
    values = [v for v in pairs for _ in range(10)]
    clusters = [p for p in range(20) for _ in range(10)]
    naive = bootstrap_ci(values, 2000, 0)
    clustered = bootstrap_ci(values, 2000, 0, clusters=clusters)
    per_pair = bootstrap_ci(pairs, 2000, 0)
    assert clustered["value"] == naive["value"] == 0.6
    assert clustered["n"] == 200 and clustered["n_clusters"] == 20
    assert clustered["ci"] == pytest.approx(per_pair["ci"], abs=0.03)
    width = lambda m: m["ci"][1] - m["ci"][0]  # noqa: E731
    assert width(clustered) > 2.5 * width(naive)
    assert clustered["ci"][0] < 0.5 < naive["ci"][0]  # the naive interval wrongly excludes chance


def test_cluster_bootstrap_of_unequal_clusters_and_paired_differences():
    values, clusters = [1, 1, 1, 0, 0, 1], ["a", "a", "a", "b", "c", "c"]
    m = bootstrap_ci(values, 500, 0, clusters=clusters)
    assert m["value"] == pytest.approx(4 / 6) and m["n_clusters"] == 3
    assert bootstrap_ci(values, 500, 0, clusters=list(range(6)))["ci"] == bootstrap_ci(values, 500, 0)["ci"]
    d = paired_diff_ci([0] * 40, [1] * 20 + [0] * 20, 1000, 0, clusters=[i // 10 for i in range(40)])
    assert d["value"] == 0.5 and d["n_clusters"] == 4 and d["paired"]
    with pytest.raises(ValueError, match="cluster keys"):
        bootstrap_ci([1, 0], clusters=["a"])
