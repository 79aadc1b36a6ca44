import numpy as np
import pytest

from ml.pipeline import (
    CompiledPreprocessor,
    build_forest_pipeline,
    build_logistic_pipeline,
    encoded_columns,
    forest_params_for,
    model_input_frame,
)
from ml.scorecards import get_scorecard
from ml.split import target_codes
from tests.ml.modelkit import make_frame, trained


@pytest.mark.parametrize("key", ["card_default", "german_credit"])
def test_protected_fields_never_reach_the_estimator(key):
    scorecard = get_scorecard(key)
    pipeline = trained(key).model.pipeline
    protected = {f.name for f in scorecard.protected_fields}
    assert protected
    assert not protected & set(pipeline.named_steps["features"].feature_names_in_)
    for _, feature in encoded_columns(pipeline):
        assert feature not in protected


@pytest.mark.parametrize("key", ["card_default", "german_credit"])
def test_changing_a_protected_value_never_changes_a_prediction(key):
    scorecard = get_scorecard(key)
    model = trained(key).model
    frame = make_frame(key, 200, seed=5)
    # The flat forest sums trees in a fixed order, so equal inputs give bit-equal outputs
    # (sklearn's threaded sum may differ in the last bit between calls).
    before = model.predict_proba_fast(model.encode_frame(frame))
    for field in scorecard.protected_fields:
        changed = frame.copy()
        choices = list(field.choice_values)
        changed[field.name] = [
            choices[(choices.index(v) + 1) % len(choices)] for v in frame[field.name]
        ]
        np.testing.assert_array_equal(model.predict_proba_fast(model.encode_frame(changed)), before)
        np.testing.assert_allclose(model.pipeline.predict_proba(changed), before, atol=1e-15)
        row = frame.iloc[0].to_dict()
        other = dict(row, **{field.name: changed[field.name].iloc[0]})
        assert (
            model.predict_one(row, validated=True).probabilities
            == model.predict_one(other, validated=True).probabilities
        )


@pytest.mark.parametrize("key", ["card_default", "credit_score", "german_credit"])
def test_compiled_preprocessor_matches_the_column_transformer(key):
    pipeline = trained(key).model.pipeline
    frame = make_frame(key, 150, seed=11, missing=0.3)
    categorical = [f.name for f in get_scorecard(key).model_fields if f.kind == "categorical"]
    frame.loc[::7, categorical] = "never seen before"
    frame.loc[::5, categorical] = None
    features = pipeline.named_steps["features"]
    columns = features.transform_columns(
        {name: frame[name].to_numpy(dtype=object) for name in features.feature_names_in_}
    )
    compiled = CompiledPreprocessor(pipeline).transform(columns)
    expected = pipeline[:-1].transform(model_input_frame(get_scorecard(key), frame))
    np.testing.assert_array_equal(compiled, expected)


def test_forest_pipeline_shape_and_params():
    scorecard = get_scorecard("card_default")
    pipeline = build_forest_pipeline(scorecard, params={"n_estimators": 7}, random_state=3)
    assert [name for name, _ in pipeline.steps] == ["features", "preprocess", "forest"]
    forest = pipeline.named_steps["forest"]
    assert forest.n_estimators == 7 and forest.random_state == 3
    assert forest.class_weight in ("balanced", "balanced_subsample", None)
    assert forest_params_for(get_scorecard("card_default"))["n_estimators"] >= 100


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_logistic_baselines_fit_and_predict(penalty):
    scorecard = get_scorecard("credit_score")
    frame = make_frame("credit_score", 300)
    y = target_codes(scorecard, frame[scorecard.target])
    pipeline = build_logistic_pipeline(scorecard, penalty=penalty)
    pipeline.fit(model_input_frame(scorecard, frame), y)
    proba = pipeline.predict_proba(model_input_frame(scorecard, frame))
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        build_logistic_pipeline(scorecard, penalty="elastic")
