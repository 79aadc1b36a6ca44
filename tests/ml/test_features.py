import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from ml.features import (
    MISSING_CATEGORY,
    ScorecardFeatures,
    as_item_list,
    category_string,
    features_for,
    to_float_array,
)
from ml.scorecards import SHIPPED, get_scorecard
from tests.ml.modelkit import make_frame

PAY = ("pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6")


def card_row(**overrides):
    row = {"limit_bal": 100_000.0, "education": "university", "age": 30.0}
    row.update({name: -1.0 for name in PAY})
    row.update({f"bill_amt{i}": 10_000.0 for i in range(1, 7)})
    row.update({f"pay_amt{i}": 5_000.0 for i in range(1, 7)})
    row.update(overrides)
    return row


def transformed(key, rows):
    frame = pd.DataFrame(rows)
    step = features_for(get_scorecard(key)).fit(make_frame(key, 50))
    return step.transform(frame)


def test_card_default_derived_features():
    out = transformed(
        "card_default",
        [card_row(bill_amt1=50_000.0, pay_0=2.0, pay_2=1.0, pay_amt1=2_500.0, bill_amt2=5_000.0)],
    ).iloc[0]
    assert out["utilisation_recent"] == pytest.approx(0.5)
    assert out["paid_share_recent"] == pytest.approx(0.5)
    assert out["months_delinquent"] == 2
    assert out["max_delay"] == 2
    assert out["bill_trend"] == pytest.approx((50_000 - 10_000) / 100_000)


def test_nothing_owed_counts_as_fully_paid_and_missing_stays_missing():
    out = transformed(
        "card_default",
        [card_row(bill_amt2=0.0), card_row(limit_bal=np.nan, pay_amt1=np.nan)],
    )
    assert out["paid_share_recent"].iloc[0] == 1.0
    assert np.isnan(out["utilisation_recent"].iloc[1])
    assert np.isnan(out["paid_share_recent"].iloc[1])


def test_loan_types_become_per_type_counts():
    frame = make_frame("credit_score", 60)
    frame.loc[0, "type_of_loan"] = "Auto Loan, Auto Loan, and Payday Loan"
    frame.loc[1, "type_of_loan"] = ""
    frame.loc[2, "type_of_loan"] = np.nan
    step = features_for(get_scorecard("credit_score")).fit(frame)
    out = step.transform(frame.iloc[:3])
    assert out["type_of_loan__auto_loan"].tolist()[:2] == [2.0, 0.0]
    assert out["type_of_loan__payday_loan"].iloc[0] == 1.0
    assert out["type_of_loan__count"].tolist()[:2] == [3.0, 0.0]
    assert np.isnan(out["type_of_loan__count"].iloc[2])  # unknown, not "no loan"
    assert step.feature_sources_["type_of_loan__auto_loan"] == ("type_of_loan",)


def test_credit_score_ratios():
    frame = make_frame("credit_score", 60)
    frame.loc[0, ["outstanding_debt", "annual_income"]] = [5_000.0, 50_000.0]
    frame.loc[0, ["total_emi_per_month", "monthly_inhand_salary"]] = [300.0, 3_000.0]
    out = features_for(get_scorecard("credit_score")).fit(frame).transform(frame.iloc[:1])
    assert out["debt_to_income"].iloc[0] == pytest.approx(0.1)
    assert out["emi_to_salary"].iloc[0] == pytest.approx(0.1)


def test_german_amount_per_month():
    frame = make_frame("german_credit", 40)
    frame.loc[0, ["credit_amount", "duration"]] = [1_200.0, 12.0]
    out = features_for(get_scorecard("german_credit")).fit(frame).transform(frame.iloc[:1])
    assert out["amount_per_month"].iloc[0] == pytest.approx(100.0)


def test_protected_fields_are_not_read_and_not_output():
    scorecard = get_scorecard("card_default")
    step = features_for(scorecard).fit(make_frame("card_default", 50))
    names = set(step.get_feature_names_out()) | set(step.feature_names_in_)
    for field in scorecard.protected_fields:
        assert not any(name == field.name or name.startswith(field.name + "_") for name in names)


def test_follows_estimator_rules():
    step = features_for(get_scorecard("german_credit"))
    assert not hasattr(step, "derived_")  # nothing learned before fit
    copy = clone(step)
    assert copy.get_params() == step.get_params()
    frame = make_frame("german_credit", 40)
    assert step.fit(frame) is step
    assert list(step.get_feature_names_out()) == list(step.transform(frame).columns)


def test_transform_columns_matches_transform_on_a_frame():
    frame = make_frame("credit_score", 80, missing=0.2)
    step = features_for(get_scorecard("credit_score")).fit(frame)
    via_frame = step.transform(frame)
    columns = {name: frame[name].to_numpy(dtype=object) for name in step.feature_names_in_}
    via_columns = step.transform_columns(columns)
    for name in via_frame.columns:
        expected = via_frame[name].to_numpy()
        if expected.dtype == object:
            assert list(via_columns[name]) == list(expected)
        else:
            np.testing.assert_array_equal(via_columns[name], expected)


def test_value_normalisation_helpers():
    np.testing.assert_array_equal(
        to_float_array(np.array(["1", None, True, "yes", "x"], dtype=object)),
        [1.0, np.nan, 1.0, 1.0, np.nan],
    )
    assert category_string(None) == MISSING_CATEGORY
    assert category_string(2.0) == "2"
    assert category_string(" university ") == "university"
    assert as_item_list(["Auto Loan", "Auto Loan"]) == ["Auto Loan", "Auto Loan"]
    assert as_item_list(np.nan) is None


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kinds"):
        ScorecardFeatures(input_kinds={"a": "vector"}).fit(pd.DataFrame({"a": [1.0]}))


def test_every_shipped_recipe_names_existing_model_fields():
    for scorecard in SHIPPED.values():
        names = set(scorecard.model_field_names)
        for feature in features_for(scorecard).fit(make_frame(scorecard.key, 20)).derived_:
            assert set(feature.sources) <= names, feature.name
        assert len(scorecard.derived) == len(features_for(scorecard).recipes)
