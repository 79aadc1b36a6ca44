"""The start-up and retraining commands, on synthetic data (no public extract needed)."""

import pytest
from django.core.management import CommandError, call_command

from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from scoring.models import ModelPromotion, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_public_data(settings, tmp_path):
    settings.CREDITPORTAL_DATA_DIR = tmp_path / "absent"


def test_ensure_models_trains_each_scorecard_once_labelled_synthetic(no_public_data, capsys):
    call_command("ensure_models")
    production = ModelVersion.objects.filter(status="production")
    assert sorted(production.values_list("scorecard", flat=True)) == [
        "card_default",
        "credit_score",
        "german_credit",
    ]
    assert all(version.is_synthetic for version in production)
    assert all("synthetic" in version.training_data_description for version in production)
    assert ModelPromotion.objects.filter(promoted_by__isnull=True).count() == 3
    call_command("ensure_models")  # a second start trains nothing
    assert ModelVersion.objects.count() == 3
    assert "no production model yet" not in capsys.readouterr().out.split("in production")[-1]


def test_train_model_registers_a_candidate_from_a_lenders_file(tmp_path, capsys):
    scorecard = get_scorecard("german_credit")
    path = tmp_path / "lender.csv"
    synthetic_frame(scorecard, n=600, seed=3).drop(columns=["row_number"], errors="ignore").to_csv(
        path, index=False
    )
    call_command("train_model", scorecard="german_credit", data=path, no_search=True)
    version = ModelVersion.objects.get()
    assert version.status == "candidate"
    assert version.training_data_description.startswith("lender.csv")
    assert not ModelPromotion.objects.exists()


def test_train_model_refuses_a_file_without_the_target(tmp_path):
    path = tmp_path / "no_target.csv"
    frame = synthetic_frame(get_scorecard("german_credit"), n=50, seed=1)
    frame.drop(columns=["class"]).to_csv(path, index=False)
    with pytest.raises(CommandError, match="cannot be used|target|class"):
        call_command("train_model", scorecard="german_credit", data=path, no_search=True)
    assert not ModelVersion.objects.exists()
