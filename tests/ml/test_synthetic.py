import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from ml.cleaning import ROW_NUMBER, CleaningError, load_raw, split_xy
from ml.datasets import (
    DataFileMissing,
    load_training_data,
    require_scorecard_data,
    scorecard_data_path,
)
from ml.schema import FieldKind, split_multi, validate_frame
from ml.scorecards import SCORECARDS, get_scorecard
from ml.synthetic import synthetic_frame
from tests.ml.conftest import CREDIT_SCORE_CSV, GERMAN_CSV, UCI_CSV

KEYS = list(SCORECARDS)
RAW_CSV = {"card_default": UCI_CSV, "german_credit": GERMAN_CSV, "credit_score": CREDIT_SCORE_CSV}


@pytest.mark.parametrize("key", KEYS)
def test_layout_and_dtypes_match_a_cleaned_file(key):
    scorecard = get_scorecard(key)
    synthetic = synthetic_frame(scorecard, n=50)
    cleaned = load_raw(scorecard, RAW_CSV[key].encode(), require_target=True).frame
    assert list(synthetic.columns) == list(cleaned.columns)
    assert synthetic.dtypes.to_dict() == cleaned.dtypes.to_dict()
    assert list(synthetic[ROW_NUMBER]) == list(range(1, 51))


@pytest.mark.parametrize("key", KEYS)
def test_same_seed_same_frame_other_seed_other_frame(key):
    scorecard = get_scorecard(key)
    pd.testing.assert_frame_equal(
        synthetic_frame(scorecard, 100, 3), synthetic_frame(scorecard, 100, 3)
    )
    assert not synthetic_frame(scorecard, 100, 3).equals(synthetic_frame(scorecard, 100, 4))


@pytest.mark.parametrize("key", KEYS)
def test_values_respect_the_declared_ranges_and_choices(key):
    scorecard = get_scorecard(key)
    frame = synthetic_frame(scorecard, n=1000)
    for field in scorecard.fields:
        values = frame[field.name].dropna()
        if not field.required:
            assert frame[field.name].isna().any(), field.name
        else:
            assert len(values) == len(frame), field.name
        if field.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
            assert values.between(field.min_value, field.max_value).all(), field.name
            if field.kind == FieldKind.INTEGER:
                assert (values % 1 == 0).all(), field.name
        elif field.kind == FieldKind.CATEGORICAL:
            assert set(values) <= set(field.choice_values), field.name
        elif field.kind == FieldKind.MULTI_CATEGORICAL:
            items = {item for text in values for item in split_multi(text)}
            assert items <= set(field.choice_values)
    assert set(frame[scorecard.target]) == set(scorecard.classes)


@pytest.mark.parametrize("key", KEYS)
def test_synthetic_rows_pass_the_validator(key):
    scorecard = get_scorecard(key)
    frame = synthetic_frame(scorecard, n=200)
    raw = frame[list(scorecard.field_names)].astype(object).where(frame.notna(), "")
    clean, errors = validate_frame(scorecard, raw.astype(str))
    assert errors == {}
    assert len(clean) == 200


def test_class_shares_follow_the_public_data():
    frame = synthetic_frame(get_scorecard("card_default"), n=2000)
    assert frame["default_payment_next_month"].value_counts(normalize=True)[
        "default"
    ] == pytest.approx(0.22, abs=0.01)
    score = synthetic_frame(get_scorecard("credit_score"), n=2000)
    assert score["credit_score"].value_counts().idxmax() == "Standard"


def test_loan_count_matches_the_listed_loan_types():
    frame = synthetic_frame(get_scorecard("credit_score"), n=300)
    known = frame["type_of_loan"].notna()
    listed = frame.loc[known, "type_of_loan"].map(lambda text: len(split_multi(text)))
    assert (frame.loc[known, "num_of_loan"] == listed).all()


def test_customers_have_several_rows():
    frame = synthetic_frame(get_scorecard("credit_score"), n=100)
    assert frame["customer_id"].nunique() == 50


@pytest.mark.parametrize("key", KEYS)
def test_a_model_learns_the_target(key):
    scorecard = get_scorecard(key)
    X, y, groups = split_xy(scorecard, synthetic_frame(scorecard, n=2000, seed=1))
    multi = [f.name for f in scorecard.model_fields if f.kind == FieldKind.MULTI_CATEGORICAL]
    encoded = pd.get_dummies(
        X.drop(columns=multi).astype({c: "float64" for c in X.select_dtypes("boolean")}),
        dummy_na=True,
    ).fillna(-1)
    train, test = next(
        GroupShuffleSplit(1, test_size=0.3, random_state=0).split(encoded, y, groups)
    )
    forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, random_state=0, n_jobs=1)
    forest.fit(encoded.iloc[train], y.iloc[train])
    worst = scorecard.worst_class
    probability = forest.predict_proba(encoded.iloc[test])[:, list(forest.classes_).index(worst)]
    auc = roc_auc_score(y.iloc[test] == worst, probability)
    assert auc > 0.7, auc
    assert not set(groups.iloc[train]) & set(groups.iloc[test])
    assert np.isfinite(probability).all()


def test_the_data_directory_is_the_callers(tmp_path):
    (tmp_path / "german_credit").mkdir()
    (tmp_path / "german_credit" / "german_credit.csv").write_text(GERMAN_CSV)
    german = get_scorecard("german_credit")
    path = scorecard_data_path(german, tmp_path)
    assert path == tmp_path / "german_credit" / "german_credit.csv"
    assert scorecard_data_path(get_scorecard("card_default"), tmp_path) is None
    data = load_training_data(german, data_dir=tmp_path)
    assert not data.synthetic and data.source == "german_credit.csv"
    assert len(data.frame) == 3 and data.report.rows_kept == 3
    assert data.sha256 == hashlib.sha256(GERMAN_CSV.encode()).hexdigest()


def test_without_data_training_falls_back_to_labelled_synthetic_data(tmp_path):
    absent = tmp_path / "absent"
    card = get_scorecard("card_default")
    assert scorecard_data_path(card, absent) is None
    data = load_training_data(card, data_dir=absent, synthetic_rows=300)
    assert data.synthetic and data.source == "synthetic" and data.report is None
    assert len(data.frame) == 300
    with pytest.raises(DataFileMissing, match=r"UCI_Credit_Card\.csv.*CREDITPORTAL_DATA_DIR"):
        require_scorecard_data(card, absent)


def test_an_explicit_missing_path_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(CleaningError, match="No such file"):
        load_training_data(get_scorecard("card_default"), tmp_path / "nope.csv")


def test_ml_never_reads_the_environment_for_its_data():
    """The app's one data-directory setting is passed to ml/, never read there again."""
    for module in (Path(__file__).resolve().parents[2] / "ml").rglob("*.py"):
        source = module.read_text()
        assert "os.environ" not in source and "getenv" not in source, module
