import json

import numpy as np
import pytest

from ml.model import InvalidInputError, Prediction
from tests.ml.modelkit import make_frame, one_row, trained


@pytest.mark.parametrize("key", ["card_default", "credit_score", "german_credit"])
def test_predict_one_returns_everything_a_result_page_needs(key):
    model = trained(key).model
    prediction = model.predict_one(one_row(key, 3))
    assert isinstance(prediction, Prediction)
    assert prediction.predicted_class in model.classes
    assert set(prediction.probabilities) == set(model.classes)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert prediction.risk == prediction.probabilities[model.classes[-1]]
    assert 300 <= prediction.points <= 850
    assert prediction.band in "ABCDE" and prediction.band_label
    assert prediction.recommendation in ("approve", "refer", "decline")
    assert 1 <= len(prediction.reasons) <= 4
    for reason in prediction.reasons:
        assert reason["direction"] in ("raises", "lowers")
        assert (reason["contribution"] > 0) == (reason["direction"] == "raises")
        assert reason["sentence"].endswith(("raised the risk.", "lowered the risk."))
    assert isinstance(prediction.segment["id"], int) and prediction.segment["description"]
    json.dumps(prediction.to_dict(), allow_nan=False)


@pytest.mark.parametrize("scorecard_key", ["credit_score", "card_default", "german_credit"])
def test_predict_one_matches_predict_proba_and_predict_frame(scorecard_key):
    model = trained(scorecard_key).model
    frame = make_frame(scorecard_key, 40, seed=2, missing=0.2)
    table = model.predict_frame(frame)
    expected = model.pipeline.predict_proba(frame.loc[:, model.input_fields])
    for i in range(len(frame)):
        row = {name: frame[name].iloc[i] for name in model.scorecard.field_names}
        prediction = model.predict_one(row, validated=True)
        np.testing.assert_allclose(list(prediction.probabilities.values()), expected[i], atol=1e-12)
        assert prediction.points == table["points"].iloc[i]
        assert prediction.recommendation == table["recommendation"].iloc[i]
        assert prediction.segment["id"] == table["segment"].iloc[i]
        codes = ";".join(
            r["field"] + ("+" if r["contribution"] > 0 else "-") for r in prediction.reasons
        )
        assert codes == table["reason_codes"].iloc[i]
        assert " ".join(r["sentence"] for r in prediction.reasons) == table["reasons"].iloc[i]


def test_predict_frame_keeps_the_index_and_one_row_per_input():
    model = trained("card_default").model
    frame = make_frame("card_default", 50, seed=4).set_index(np.arange(100, 150))
    table = model.predict_frame(frame, reasons=False)
    assert list(table.index) == list(frame.index)
    assert {"predicted_class", "probability_default", "risk", "points", "band"} <= set(
        table.columns
    )
    assert "reasons" not in table.columns
    assert model.predict_frame(frame.iloc[:0]).empty


def test_raw_values_are_validated_and_errors_are_listed():
    model = trained("card_default").model
    row = one_row("card_default")
    raw = {key: (str(value) if value is not None else "") for key, value in row.items()}
    raw["LIMIT_BAL"] = "5e+05"
    assert model.predict_one(raw).probabilities
    with pytest.raises(InvalidInputError) as error:
        model.predict_one(dict(row, age="old", limit_bal=None))
    assert {"age", "limit_bal"} <= set(error.value.errors)


def test_points_rise_when_risk_falls():
    model = trained("card_default").model
    table = model.predict_frame(make_frame("card_default", 200, seed=8), reasons=False)
    ordered = table.sort_values("population_risk")
    assert (np.diff(ordered["points"].to_numpy()) <= 0).all()


def test_reason_values_and_derived_feature_words():
    model = trained("card_default").model
    frame = make_frame("card_default", 100, seed=6)
    derived = {f.name for f in model.pipeline.named_steps["features"].derived_}
    seen_derived = False
    for i in range(len(frame)):
        prediction = model.predict_one(frame.iloc[i].to_dict(), validated=True)
        for reason in prediction.reasons:
            if reason["field"] in derived:
                seen_derived = True
                assert reason["label"][0].isupper()
            else:
                assert reason["label"] == model.scorecard.field(reason["field"]).label
    assert seen_derived


@pytest.mark.parametrize("key", ["card_default", "credit_score", "german_credit"])
def test_single_row_fast_path_equals_predict_proba_on_messy_rows(key):
    model = trained(key).model
    frame = make_frame(key, 150, seed=21, missing=0.25)
    categorical = [f.name for f in model.scorecard.model_fields if f.kind == "categorical"]
    frame.loc[::4, categorical] = "a category never seen in training"
    expected = model.pipeline.predict_proba(frame.loc[:, model.input_fields])
    for i in range(len(frame)):
        row = {name: frame[name].iloc[i] for name in model.input_fields}
        prediction = model.predict_one(row, validated=True)
        np.testing.assert_allclose(
            list(prediction.probabilities.values()), expected[i], rtol=0, atol=1e-12
        )


def test_tiny_training_sets_give_a_model_without_segments():
    from ml.scorecards import get_scorecard
    from ml.train import train_scorecard

    frame = make_frame("german_credit", 40, seed=1)
    frame.loc[:, ["duration", "credit_amount", "age"]] = 1.0  # nothing to cluster on
    frame.loc[:, ["installment_commitment", "residence_since"]] = 1.0
    frame.loc[:, ["existing_credits", "num_dependents"]] = 1.0
    result = train_scorecard(
        get_scorecard("german_credit"),
        frame,
        search=False,
        params={"n_estimators": 5},
        baselines=False,
        permutation=False,
    )
    assert result.model.segmenter is None and result.report["segments"] is None
    prediction = result.model.predict_one(frame.iloc[0].to_dict(), validated=True)
    assert prediction.segment == {"id": None, "description": ""}
    assert "segment" not in result.model.predict_frame(frame.iloc[:3]).columns
