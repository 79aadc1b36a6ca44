import json

import numpy as np
import pytest

import ml.train as train_module
from ml.scorecards import get_scorecard
from ml.split import target_codes
from ml.train import (
    STAGE_END,
    class_prior_weights,
    frame_sha256,
    search_hyperparameters,
    train_scorecard,
)
from tests.ml.modelkit import TINY_FOREST, make_frame, trained


def test_report_is_json_and_covers_every_section():
    report = trained("card_default").report
    json.dumps(report, allow_nan=False)
    assert set(report["metrics"]) == {"random_forest", "logistic_l1", "logistic_l2"}
    forest = report["metrics"]["random_forest"]
    for key in ("accuracy", "per_class", "macro", "roc_auc", "confusion_matrix", "brier"):
        assert key in forest
    assert {"calibration", "curves", "decisions", "precision_at_recall"} <= set(forest)
    assert "good_wrongly_declined_rate" in forest["decisions"]
    assert report["importances"]["impurity"]["by_field"]
    assert report["segments"]["k"] >= 2
    assert report["features"]["protected_excluded"] == ["sex", "marriage"]
    assert report["rows"]["train"] > report["rows"]["test"] > 0
    assert report["quality"]["bars"]["roc_auc"]["limit"] == 0.78


def test_progress_stages_arrive_in_order_and_fractions_never_fall():
    calls = []
    train_scorecard(
        get_scorecard("german_credit"),
        make_frame("german_credit", 200),
        search=False,
        params=TINY_FOREST,
        progress=lambda stage, fraction, message: calls.append((stage, fraction, message)),
        baselines=False,
        permutation=False,
    )
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["splitting", "fitting", "evaluating", "explaining", "segmenting"]
    fractions = [fraction for _, fraction, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == STAGE_END["segmenting"] == 1.0


def test_search_uses_grouped_folds_and_reports_candidates(monkeypatch):
    monkeypatch.setattr(train_module, "SEARCH_TREES", 5)
    scorecard = get_scorecard("credit_score")
    frame = make_frame("credit_score", 240)
    y = target_codes(scorecard, frame[scorecard.target])
    calls = []
    result = search_hyperparameters(
        scorecard,
        frame.loc[:, list(scorecard.model_field_names)],
        y,
        frame["customer_id"].to_numpy(),
        n_iter=2,
        n_folds=2,
        report=lambda fraction, message: calls.append(fraction),
    )
    assert result["candidates_tried"] == 2 and calls == [0.5, 1.0]
    assert set(result["best_params"]) <= set(train_module.SEARCH_SPACE)
    assert result["results"][0]["mean_score"] >= result["results"][1]["mean_score"]


def test_train_with_search_applies_the_best_params(monkeypatch):
    monkeypatch.setattr(train_module, "SEARCH_TREES", 5)
    monkeypatch.setattr(train_module, "SEARCH_ITERATIONS", 2)
    monkeypatch.setattr(train_module, "SEARCH_FOLDS", 2)
    result = train_scorecard(
        get_scorecard("german_credit"),
        make_frame("german_credit", 200),
        params={"n_estimators": 10},
        baselines=False,
        permutation=False,
    )
    best = result.report["search"]["best_params"]
    forest = result.model.pipeline.named_steps["forest"]
    for name, value in best.items():
        assert getattr(forest, name) == value
    assert forest.n_estimators == 10


def test_groups_stay_on_one_side_and_rows_without_target_are_ignored():
    scorecard = get_scorecard("credit_score")
    frame = make_frame("credit_score", 300)
    frame.loc[:9, scorecard.target] = None
    result = train_scorecard(
        scorecard, frame, search=False, params=TINY_FOREST, baselines=False, permutation=False
    )
    assert result.report["rows"]["ignored_without_target"] == 10
    assert result.report["grouped_by"] == "customer_id"
    assert sum(result.report["rows"][k] for k in ("train", "validation", "test")) == 290


def test_metadata_records_data_hash_and_synthetic_flag():
    frame = make_frame("german_credit", 150)
    result = train_scorecard(
        get_scorecard("german_credit"),
        frame,
        search=False,
        params=TINY_FOREST,
        synthetic=True,
        baselines=False,
        permutation=False,
    )
    assert result.model.synthetic and result.report["synthetic"]
    assert result.model.metadata["data_sha256"] == frame_sha256(frame)
    assert frame_sha256(frame) != frame_sha256(frame.iloc[::-1])


def test_prior_weights_undo_class_balancing():
    y = np.array([0] * 80 + [1] * 20)
    np.testing.assert_allclose(class_prior_weights("balanced", y, 2), [0.8, 0.2])
    np.testing.assert_allclose(class_prior_weights(None, y, 2), [1, 1])
    model = trained("card_default").model
    balanced = np.array([[0.5, 0.5]])
    expected = model.prior_weights[1] / model.prior_weights.sum()
    assert model.population_risk(balanced)[0] == pytest.approx(expected)


def test_unknown_target_values_are_refused():
    scorecard = get_scorecard("german_credit")
    frame = make_frame("german_credit", 50)
    frame.loc[0, scorecard.target] = "excellent"
    with pytest.raises(ValueError, match="excellent"):
        target_codes(scorecard, frame[scorecard.target])


@pytest.mark.parametrize("key", ["card_default", "german_credit", "credit_score"])
def test_demo_models_train_on_the_synthetic_sample(key):
    from ml.synthetic import synthetic_frame

    scorecard = get_scorecard(key)
    result = train_scorecard(
        scorecard,
        synthetic_frame(scorecard, 300, seed=1),
        search=False,
        params=TINY_FOREST,
        synthetic=True,
        baselines=False,
        permutation=False,
    )
    assert result.model.synthetic
    frame = synthetic_frame(scorecard, 5, seed=2)
    assert result.model.predict_one(frame.iloc[0].to_dict(), validated=True).synthetic
    assert len(result.model.predict_frame(frame)) == 5
