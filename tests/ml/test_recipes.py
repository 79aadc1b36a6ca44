"""The derived-feature recipes on small arrays, missing values included."""

import math
import pickle

import numpy as np
import pytest

from ml import recipes
from ml.features import DerivedFeature, ScorecardFeatures, features_for
from ml.scorecards import get_scorecard
from tests.ml.modelkit import make_frame

NAN = math.nan


def cols(**columns):
    return {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}


def run(recipe, **columns):
    return recipes.evaluate(recipe, cols(**columns))


def same(actual, expected):
    np.testing.assert_array_equal(actual, np.asarray(expected, dtype=np.float64))


def test_ratio_missing_when_a_side_is_missing_or_the_denominator_not_positive():
    recipe = {"recipe": "ratio", "numerator": "a", "denominator": "b"}
    same(run(recipe, a=[1, 1, NAN, 3, 2], b=[2, 0, 4, NAN, -1]), [0.5, NAN, NAN, NAN, NAN])


def test_ratio_if_not_positive_and_clip():
    recipe = {
        "recipe": "ratio",
        "numerator": "paid",
        "denominator": "bill",
        "if_not_positive": 1.0,
        "clip": [0, 5],
    }
    same(
        run(recipe, paid=[50, 0, 700, NAN, 5, -3], bill=[100, 0, 100, 100, NAN, 10]),
        [0.5, 1.0, 5.0, NAN, NAN, 0.0],
    )


def test_difference_and_nested_operands():
    recipe = {
        "recipe": "ratio",
        "numerator": {"difference": ["a", {"sum": ["b", "c"]}]},
        "denominator": "d",
    }
    same(run(recipe, a=[10, 10], b=[1, NAN], c=[2, 3], d=[2, 2]), [3.5, 3.5])
    same(run({"recipe": "difference", "of": ["a", "b"]}, a=[5, NAN], b=[2, 1]), [3, NAN])


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("sum", [6, 4, NAN]), ("mean", [2, 2, NAN]), ("max", [3, 3, NAN]), ("min", [1, 1, NAN])],
)
def test_aggregates_ignore_missing_and_are_missing_when_all_are(kind, expected):
    recipe = {"recipe": kind, "of": ["a", "b", "c"]}
    same(run(recipe, a=[1, 1, NAN], b=[2, NAN, NAN], c=[3, 3, NAN]), expected)


def test_mean_without_missing_is_numpys_mean_bit_for_bit():
    rng = np.random.default_rng(0)
    data = {f"x{i}": rng.normal(0, 1e5, 1000) for i in range(6)}
    expected = np.column_stack(list(data.values())).mean(axis=1)
    same(recipes.evaluate({"recipe": "mean", "of": list(data)}, data), expected)


def test_count_at_least_and_floor():
    count = {"recipe": "count_at_least", "of": ["a", "b", "c"], "threshold": 1}
    same(run(count, a=[2, -1, NAN], b=[1, 0, NAN], c=[NAN, 3, NAN]), [2, 1, NAN])
    worst = {"recipe": "max", "of": ["a", "b"], "floor": 0}
    same(run(worst, a=[-2, 3, NAN], b=[-1, NAN, NAN]), [0, 3, NAN])


def test_trend_is_the_least_squares_slope_most_recent_last():
    recipe = {"recipe": "trend", "of": ["m1", "m2", "m3"]}  # m1 is the most recent
    same(
        run(recipe, m1=[30, 3, 5, NAN], m2=[20, NAN, NAN, NAN], m3=[10, 1, NAN, 4]),
        [10, 1, NAN, NAN],
    )


def test_groups_are_resolved_to_their_members_most_recent_first():
    recipe = {"name": "x", "label": "X", "recipe": "mean", "of": {"group": "bill"}}
    resolved = recipes.resolve(recipe, {"bill": ("bill_1", "bill_2")})
    assert resolved["of"] == ["bill_1", "bill_2"]
    assert recipes.sources(resolved) == ("bill_1", "bill_2")
    nested = recipes.resolve(
        {"recipe": "ratio", "numerator": {"sum": [{"group": "bill"}, "x"]}, "denominator": "y"},
        {"bill": ("b1", "b2")},
    )
    assert nested["numerator"] == {"sum": ["b1", "b2", "x"]}


def test_derived_feature_is_plain_data_and_pickles():
    feature = DerivedFeature(
        {
            "name": "r",
            "label": "Ratio",
            "unit": "percent",
            "recipe": "ratio",
            "numerator": "a",
            "denominator": "b",
        }
    )
    again = pickle.loads(pickle.dumps(feature))
    same(again.compute(cols(a=[1], b=[4])), [0.25])
    assert again == feature
    assert again.describe(0.25) == "Ratio of 25%"
    assert again.describe(None) == "Ratio unknown"


def test_feature_step_takes_recipe_documents_and_clones():
    from sklearn.base import clone

    scorecard = get_scorecard("card_default")
    step = features_for(scorecard)
    assert isinstance(step.recipes, tuple) and all(isinstance(r, dict) for r in step.recipes)
    assert all("group" not in str(r) for r in step.recipes)  # resolved: members, no groups
    fitted = clone(step).fit(make_frame("card_default", 30))
    assert [f.name for f in fitted.derived_] == [r["name"] for r in scorecard.derived]
    assert ScorecardFeatures(recipes=None).recipes is None


def test_card_recipes_give_the_values_the_removed_functions_gave():
    """The shipped card recipes against the formulas they replace, written out here (the
    removed mean propagated a missing bill; a declared mean ignores it)."""
    frame = make_frame("card_default", 200)
    c = {
        name: frame[name].astype(float).to_numpy()
        for name in frame.columns
        if name.startswith(("pay_", "bill_amt", "limit_bal"))
    }
    step = features_for(get_scorecard("card_default")).fit(frame)
    out = step.transform_columns({name: frame[name].to_numpy() for name in step.feature_names_in_})
    bills = np.column_stack([c[f"bill_amt{i}"] for i in range(1, 7)])
    status = np.column_stack([c[n] for n in ("pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6")])
    limit = c["limit_bal"]
    known = ~np.isnan(bills).any(axis=1)
    assert 0 < known.sum() < len(known)
    with np.errstate(invalid="ignore", divide="ignore"):
        same(
            out["utilisation_mean"][known], (bills.mean(axis=1) / limit)[known]
        )  # bit for bit where no bill is missing; otherwise the mean of the known ones:
        same(out["utilisation_mean"][~known], (np.nanmean(bills, axis=1) / limit)[~known])
        same(out["bill_trend"], (c["bill_amt1"] - c["bill_amt6"]) / limit)
        share = np.where(
            c["bill_amt2"] > 0, c["pay_amt1"] / np.where(c["bill_amt2"] > 0, c["bill_amt2"], 1), 1.0
        )
        share = np.where(np.isnan(c["pay_amt1"]) | np.isnan(c["bill_amt2"]), NAN, share)
        same(out["paid_share_recent"], np.clip(share, 0, 5))
        counts = (status >= 1).sum(axis=1).astype(float)
        same(out["months_delinquent"], np.where(np.isnan(status).all(axis=1), NAN, counts))
        same(out["max_delay"], np.maximum(np.fmax.reduce(status, axis=1), 0))
