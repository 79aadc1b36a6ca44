"""Slow: trains on the real extracts in the data directory; skipped where they are absent."""

import pytest
from django.conf import settings

from ml.cleaning import load_raw
from ml.datasets import scorecard_data_path
from ml.scorecards import get_scorecard
from ml.train import train_scorecard

pytestmark = pytest.mark.slow


def cleaned_frame(key):
    scorecard = get_scorecard(key)
    path = scorecard_data_path(scorecard, settings.CREDITPORTAL_DATA_DIR)
    if path is None:
        pytest.skip(f"no data file for {key} (set CREDITPORTAL_DATA_DIR)")
    return scorecard, load_raw(scorecard, path).frame


def test_card_default_small_forest_reaches_the_bar():
    scorecard, frame = cleaned_frame("card_default")
    result = train_scorecard(
        scorecard,
        frame,
        search=False,
        params={"n_estimators": 60},
        baselines=False,
        permutation=False,
    )
    forest = result.report["metrics"]["random_forest"]
    assert forest["roc_auc"] >= 0.75
    assert forest["precision_at_recall"]["best_on_this_split"]["precision"] >= 0.35
    prediction = result.model.predict_one(frame.iloc[0].to_dict(), validated=True)
    assert len(prediction.reasons) == 4


def test_credit_score_is_split_by_customer():
    scorecard, frame = cleaned_frame("credit_score")
    result = train_scorecard(
        scorecard,
        frame,
        search=False,
        params={"n_estimators": 40},
        baselines=False,
        permutation=False,
    )
    assert result.report["grouped_by"] == "customer_id"
    assert result.report["metrics"]["random_forest"]["roc_auc"] >= 0.75
