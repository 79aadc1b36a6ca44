"""The statistics of ml.insights on crafted data with known answers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml.insights import (
    anova,
    bootstrap_mean_ci,
    chi_square,
    class_balance,
    correlation,
    dataset_insights,
    outliers,
    permutation_test,
    read_p_value,
    segments,
    target_by_groups,
    two_sample_tests,
)
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame


def test_class_balance():
    result = class_balance(["good"] * 3 + ["bad"], ["good", "bad"])
    assert result["counts"] == [3, 1]
    assert result["shares"] == [0.75, 0.25]
    assert result["imbalance_ratio"] == 3


def test_target_by_groups_gives_class_shares_within_each_group():
    result = target_by_groups(["a", "a", "b", "b"], ["good", "bad", "bad", "bad"], ["good", "bad"])
    by_group = {g["group"]: g for g in result["groups"]}
    assert by_group["a"]["shares"] == [0.5, 0.5]
    assert by_group["b"]["shares"] == [0.0, 1.0]


def test_correlation_of_linear_columns():
    x = np.arange(10, dtype=float)
    result = correlation(pd.DataFrame({"x": x, "y": 2 * x + 1, "z": -x}))
    assert result["matrix"][0][1] == pytest.approx(1.0)
    assert result["matrix"][0][2] == pytest.approx(-1.0)


def test_bootstrap_interval_holds_the_mean_and_shrinks_with_more_data():
    rng = np.random.default_rng(1)
    small = bootstrap_mean_ci(rng.normal(10, 2, 50))
    large = bootstrap_mean_ci(rng.normal(10, 2, 5000))
    assert small["low"] < small["mean"] < small["high"]
    assert large["low"] < 10 < large["high"]
    assert (large["high"] - large["low"]) < (small["high"] - small["low"])
    # The normal-theory interval of 5000 draws: mean ± 1.96 σ / sqrt(n) ≈ ± 0.055.
    assert large["high"] - large["low"] == pytest.approx(2 * 1.96 * 2 / np.sqrt(5000), rel=0.15)


def test_permutation_test_separates_different_and_equal_groups():
    rng = np.random.default_rng(2)
    different = permutation_test(rng.normal(0, 1, 200), rng.normal(1, 1, 200), n_permutations=500)
    assert different["p_value"] == pytest.approx(1 / 501, abs=1e-6)  # no shuffle is as extreme
    assert "reject" in different["reading"] and "cannot" not in different["reading"]
    same = permutation_test(rng.normal(0, 1, 200), rng.normal(0, 1, 200), n_permutations=500)
    assert same["p_value"] > 0.05
    assert "cannot reject" in same["reading"]
    assert same["null_hypothesis"]


def test_two_sample_tests_match_scipy():
    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    b = [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    result = two_sample_tests(a, b)
    expected_t = stats.ttest_ind(a, b, equal_var=False)
    assert result["t_test"]["p_value"] == pytest.approx(expected_t.pvalue, rel=1e-6)
    assert result["mann_whitney"]["p_value"] == pytest.approx(
        stats.mannwhitneyu(a, b, alternative="two-sided").pvalue, rel=1e-6
    )


def test_chi_square_of_a_two_by_two_table():
    # [[30, 10], [10, 30]]: chi2 (with Yates' correction) = 18.05, Cramér's V from it.
    categories = ["x"] * 40 + ["y"] * 40
    target = ["good"] * 30 + ["bad"] * 10 + ["good"] * 10 + ["bad"] * 30
    result = chi_square(categories, target)
    assert result["statistic"] == pytest.approx(18.05, abs=1e-6)
    assert result["dof"] == 1
    assert result["p_value"] < 0.001
    assert result["cramers_v"] == pytest.approx(np.sqrt(18.05 / 80), abs=1e-4)


def test_chi_square_of_independent_categories_is_not_significant():
    result = chi_square(["x", "y"] * 50, ["good"] * 50 + ["bad"] * 50)
    assert result["statistic"] == pytest.approx(0.0)
    assert result["p_value"] == pytest.approx(1.0)


def test_one_way_anova_against_hand_computation():
    # Groups means 2, 5, 8 with within-group variance 1: F = (54 / 2) / (6 / 6) = 27.
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    groups = ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    result = anova(values, groups)
    assert result["statistic"] == pytest.approx(27.0)
    assert result["p_value"] == pytest.approx(stats.f.sf(27.0, 2, 6), rel=1e-6)
    assert [g["mean"] for g in result["groups"]] == [2.0, 5.0, 8.0]


def test_outlier_counts():
    values = [10.0] * 20 + [11.0] * 20 + [1000.0]
    result = outliers(values)
    assert result["iqr"] == 1
    assert result["z_score"] == 1


def test_read_p_value_in_plain_words():
    assert "significant" in read_p_value(0.001, null="x")
    assert "cannot reject" in read_p_value(0.4, null="x")
    assert read_p_value(None, null="x") == "Not enough data to test."


def test_segments_find_two_separated_blobs_and_no_noise():
    rng = np.random.default_rng(3)
    blob = rng.normal(0, 0.3, size=(150, 2))
    frame = pd.DataFrame(np.vstack([blob, blob + 10]), columns=["a", "b"])
    result = segments(frame, ["A", "B"])
    assert result["k"] == 2
    assert sorted(p["rows"] for p in result["profiles"]) == [150, 150]
    assert result["dbscan"]["noise_points"] == 0
    assert result["dbscan"]["clusters"] == 2
    assert sum(result["explained_variance"]) == pytest.approx(1.0)


def test_dataset_insights_on_a_synthetic_sample():
    scorecard = get_scorecard("german_credit")
    frame = synthetic_frame(scorecard, n=400, seed=0)
    result = dataset_insights(scorecard, frame)
    assert result["rows"] == 400
    assert result["tests"]["feature"]["field"] in scorecard.field_names
    assert {"t_test", "mann_whitney", "permutation", "bootstrap"} <= set(result["tests"])
    assert result["tests"]["chi_square"]
    assert result["segments"]["k"] >= 2
