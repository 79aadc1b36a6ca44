"""PSI and disparate impact on small, hand-checked data."""

import math

import numpy as np
import pytest

from ml.monitoring import (
    age_band,
    disparate_impact,
    numeric_counts,
    psi,
    psi_band,
    reference_categorical,
    reference_numeric,
    stability,
)


def test_psi_of_identical_distributions_is_zero():
    values = np.arange(1000, dtype=float)
    reference = reference_numeric(values)
    result = stability(reference, values)
    assert result["psi"] == pytest.approx(0.0, abs=1e-12)
    assert result["band"] == "stable"


def test_psi_of_a_known_shift_matches_the_hand_computed_value():
    # Two bins, 50/50 in the reference, 80/20 now:
    # (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5
    expected = 0.3 * math.log(1.6) + 0.3 * math.log(2.5)
    assert psi([0.5, 0.5], [0.8, 0.2]) == pytest.approx(expected)
    assert expected == pytest.approx(0.415888, abs=1e-6)
    reference = reference_categorical(["a"] * 50 + ["b"] * 50)
    result = stability(reference, ["a"] * 80 + ["b"] * 20)
    assert result["psi"] == pytest.approx(expected, abs=1e-3)  # empty bins add EPSILON terms
    assert result["band"] == "act"


def test_psi_bands():
    assert psi_band(0.0) == "stable"
    assert psi_band(0.0999) == "stable"
    assert psi_band(0.10) == "watch"
    assert psi_band(0.2499) == "watch"
    assert psi_band(0.25) == "act"
    assert psi_band(None) == "unknown"


def test_numeric_bins_count_missing_values_separately():
    counts = numeric_counts([1.0, 2.0, 3.0, float("nan")], [2.0])
    assert counts == [1, 2, 1]  # below 2, from 2 on, missing


def test_a_whole_shift_of_a_numeric_input_is_an_act():
    rng = np.random.default_rng(0)
    reference = reference_numeric(rng.normal(0, 1, 5000))
    assert stability(reference, rng.normal(0, 1, 5000))["band"] == "stable"
    assert stability(reference, rng.normal(1.5, 1, 5000))["band"] == "act"


def test_unseen_categories_land_in_other():
    reference = reference_categorical(["x", "y"])
    result = stability(reference, ["z", "z"])
    assert result["counts"] == [0, 0, 2, 0]


def test_disparate_impact_on_a_crafted_sample():
    # Group A: 8 of 10 approved (0.8); group B: 5 of 10 (0.5); ratio 0.625 < 0.8.
    groups = ["A"] * 10 + ["B"] * 10
    approved = [1] * 8 + [0] * 2 + [1] * 5 + [0] * 5
    risk = [0.1] * 10 + [0.3] * 10
    result = disparate_impact(groups, approved, risk)
    by_group = {row["group"]: row for row in result["groups"]}
    assert result["reference_group"] == "A"
    assert by_group["A"]["ratio"] == pytest.approx(1.0)
    assert by_group["B"]["approval_rate"] == pytest.approx(0.5)
    assert by_group["B"]["ratio"] == pytest.approx(0.625)
    assert by_group["B"]["fails_four_fifths"]
    assert by_group["B"]["mean_risk"] == pytest.approx(0.3)
    assert result["fails_four_fifths"]
    assert result["min_ratio"] == pytest.approx(0.625)


def test_disparate_impact_passes_at_four_fifths_exactly():
    groups = ["A"] * 10 + ["B"] * 10
    approved = [1] * 10 + [1] * 8 + [0] * 2
    result = disparate_impact(groups, approved)
    assert not result["fails_four_fifths"]


def test_small_groups_are_not_flagged():
    result = disparate_impact(["A"] * 10 + ["B"], [1] * 10 + [0], min_rows=5)
    assert not result["fails_four_fifths"]
    assert result["groups"][1]["too_few_rows"]


def test_age_bands():
    assert age_band(22) == "under 25"
    assert age_band(25) == "25–34"
    assert age_band(70) == "65 and over"
    assert age_band(None) == "(missing)"
