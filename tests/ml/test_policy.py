import itertools

import numpy as np
import pytest

from ml.policy import (
    DecisionPolicy,
    approve_classes,
    default_refer_cost,
    expected_cost,
    row_decision_costs,
    tune_policy,
    tune_single_threshold,
)

GERMAN = ((0.0, 1.0), (5.0, 0.0))


def test_crafted_example_picks_the_cost_minimising_cut_off():
    # Bads cost 5 when approved, goods 1 when declined: decline from risk 0.3 upward.
    risk = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    cut = tune_single_threshold(risk, y, GERMAN)
    assert cut == pytest.approx(0.3)
    decisions = np.where(risk >= cut, 2, 0)
    assert expected_cost(y, decisions, GERMAN) == pytest.approx(1 / 8)


def test_tuned_policy_matches_brute_force():
    rng = np.random.default_rng(0)
    risk = rng.random(120)
    y = (rng.random(120) < risk).astype(int)
    policy = tune_policy(risk, y, GERMAN, refer_cost=0.3, max_refer_rate=0.2)
    best = np.inf
    candidates = [*np.unique(risk), 1.01]
    for low, high in itertools.combinations_with_replacement(sorted(candidates), 2):
        codes = DecisionPolicy(low, high).decision_codes(risk)
        if (codes == 1).mean() > 0.2:
            continue
        best = min(best, expected_cost(y, codes, GERMAN, 0.3))
    found = expected_cost(y, policy.decision_codes(risk), GERMAN, 0.3)
    assert found == pytest.approx(best)
    assert (policy.decision_codes(risk) == 1).mean() <= 0.2


def test_expensive_referrals_leave_no_refer_band():
    rng = np.random.default_rng(1)
    risk = rng.random(200)
    y = (rng.random(200) < risk).astype(int)
    policy = tune_policy(risk, y, GERMAN, refer_cost=10.0)
    assert policy.approve_below == policy.decline_from


def test_decisions_and_three_class_costs():
    policy = DecisionPolicy(approve_below=0.2, decline_from=0.5)
    assert list(policy.decide([0.1, 0.2, 0.49, 0.5, 0.9])) == [
        "approve",
        "refer",
        "refer",
        "decline",
        "decline",
    ]
    assert policy.decide_one(0.3) == "refer"
    matrix = ((0.0, 1.0, 3.0), (2.0, 0.0, 1.0), (5.0, 2.0, 0.0))
    costs = row_decision_costs([0, 1, 2], matrix, 0.25)
    np.testing.assert_allclose(costs[:, 0], [0, 2, 5])  # approved as the best class by default
    np.testing.assert_allclose(costs[:, 2], [3, 1, 0])  # declining = treating as worst class
    approved_as = approve_classes([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.1, 0.2, 0.7]])
    assert list(approved_as) == [1, 0, 1]
    costs = row_decision_costs([1, 1, 2], matrix, 0.25, approved_as)
    np.testing.assert_allclose(costs[:, 0], [0, 2, 2])  # approving a Standard as Standard is free
    assert default_refer_cost(matrix) == pytest.approx(0.25)
    assert "approve if" in policy.to_dict()["rule"]
