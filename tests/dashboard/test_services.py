"""The dashboard's stored figures, computed by its services on small known data."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from applicants.models import Application
from dashboard import services
from dashboard.models import MonitoringSnapshot
from ml.monitoring import psi
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from scoring.services.decisions import decision_create, outcome_record
from scoring.services.predictions import prediction_create
from tests.dashboard.conftest import CARD, split_rows, store_predictions
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_profile_reproduces_the_training_split(profile, production_model):
    assert profile.data_reproduced
    assert profile.rows == {
        k: production_model.report["rows"][k] for k in ("train", "validation", "test")
    }
    reference = profile.reference
    assert reference["rows"] == profile.rows["train"]
    assert sum(reference["score"]["shares"]) == pytest.approx(1.0)
    assert "sex" not in reference["inputs"] and "marriage" not in reference["inputs"]
    assert set(reference["inputs"]) <= set(production_model.features)


def test_cost_curve_matches_the_report_at_the_tuned_cut_off(profile, production_model):
    curve = profile.cost_curve
    assert len(curve["points"]) == 101
    # Declining everybody costs what the cost matrix says of declining each good applicant.
    everybody = curve["points"][0]
    assert everybody["threshold"] == 0 and everybody["approval_rate"] == 0
    assert everybody["good_wrongly_declined_rate"] == 1
    counts = production_model.report["class_counts"]["test"]
    good, bad = counts[CARD.classes[0]], counts[CARD.classes[-1]]
    expected = CARD.cost_matrix[0][-1] * good / (good + bad)
    assert everybody["expected_cost"] == pytest.approx(expected, abs=1e-6)
    # Approving everybody costs the cost of each approved bad applicant.
    nobody = curve["points"][-1]
    assert nobody["expected_cost"] == pytest.approx(
        CARD.cost_matrix[-1][0] * bad / (good + bad), abs=0.02
    )
    assert curve["cut_off"] == production_model.report["cut_off"]


def test_fairness_covers_sex_marriage_and_age_bands(profile):
    fairness = profile.fairness
    fields = [a["field"] for a in fairness["attributes"]]
    assert fields == ["sex", "marriage", "age"]
    assert fairness["protected_excluded"] == ["sex", "marriage"]
    assert not {"sex", "marriage"} & set(fairness["model_inputs"])
    for attribute in fairness["attributes"]:
        assert sum(g["rows"] for g in attribute["groups"]) == fairness["rows"]
        rated = [g for g in attribute["groups"] if g["ratio"] is not None]
        assert max(g["ratio"] for g in rated) == pytest.approx(1.0)
        for g in rated:
            assert g["fails_four_fifths"] == (g["ratio"] < 0.8)


def test_a_window_like_the_training_data_is_stable(
    profile, production_model, manager, training_frame
):
    store_predictions(production_model, manager, split_rows(training_frame, "train"))
    snapshot = services.monitoring_snapshot_take(scorecard_key="card_default")
    # The window holds exactly the reference rows: every PSI is 0.
    assert snapshot.predictions == profile.rows["train"]
    assert snapshot.psi_score == pytest.approx(0.0, abs=1e-9)
    assert all(item["psi"] == pytest.approx(0.0, abs=1e-9) for item in snapshot.inputs)
    assert snapshot.worst_band == MonitoringSnapshot.Band.STABLE
    assert not [a for a in snapshot.alerts if a["level"] in ("watch", "act")]


def test_a_shifted_window_raises_an_act_alert(profile, production_model, manager, training_frame):
    rows = split_rows(training_frame, "train").copy()
    rows["limit_bal"] = rows["limit_bal"].max() * 3  # every applicant far above the reference
    store_predictions(production_model, manager, rows)
    snapshot = services.monitoring_snapshot_take(scorecard_key="card_default")
    limit = next(i for i in snapshot.inputs if i["field"] == "limit_bal")
    # All rows now fall in the top bin, whose reference share is known: PSI by hand.
    reference = profile.reference["inputs"]["limit_bal"]["shares"]
    window = [0.0] * len(reference)
    window[-2] = 1.0  # the last numeric bin (the final one counts missing values)
    assert limit["psi"] == pytest.approx(psi(reference, window), rel=1e-6)
    assert limit["band"] == "act"
    assert snapshot.worst_band == "act"
    assert any(a["level"] == "act" and "limit" in a["message"].lower() for a in snapshot.alerts)
    assert snapshot.inputs[0]["field"] == "limit_bal"  # most shifted first


def test_predictions_outside_the_window_are_ignored(
    profile, production_model, manager, training_frame
):
    old = timezone.now() - timedelta(days=90)
    store_predictions(production_model, manager, split_rows(training_frame, "test"), created_at=old)
    snapshot = services.monitoring_snapshot_take(scorecard_key="card_default", window_days=30)
    assert snapshot.predictions == 0
    assert snapshot.score_band == "unknown"
    assert any("no predictions" in a["message"] for a in snapshot.alerts)


def test_realised_outcomes_give_auc_and_bad_rate_by_month(
    profile, production_model, manager, officer
):
    applications = ApplicationFactory.create_batch(6, applicant__owner=officer)
    for i, application in enumerate(applications):
        prediction = prediction_create(application=application, requested_by=officer)
        decision_create(application=application, outcome=prediction.recommendation, by=officer)
        outcome_record(
            application=application, outcome_class=CARD.classes[-1 if i % 2 else 0], by=manager
        )
    snapshot = services.monitoring_snapshot_take(scorecard_key="card_default")
    (month,) = snapshot.performance
    assert month["rows"] == 6
    assert month["bad_rate"] == pytest.approx(0.5)
    assert month["month"] == timezone.now().strftime("%Y-%m")
    assert month["roc_auc"] is None or 0 <= month["roc_auc"] <= 1
    assert Application.objects.filter(status=Application.Status.DECIDED).count() == 6


def test_no_production_model_no_snapshot():
    assert services.monitoring_snapshot_take(scorecard_key="german_credit") is None


def test_periodic_task_snapshots_every_production_model_and_draws_its_charts(
    profile, production_model, monkeypatch
):
    from dashboard import charts, panels, selectors
    from dashboard.tasks import take_monitoring_snapshots

    ids = take_monitoring_snapshots()
    assert MonitoringSnapshot.objects.filter(pk__in=ids).count() == 1
    assert MonitoringSnapshot.objects.get().model_version == production_model

    def no_drawing(**kwargs):
        raise AssertionError("the page had to draw a chart")

    for name in ("lines", "grouped_bars", "horizontal_bars", "heatmap", "stacked_bars"):
        monkeypatch.setattr(charts, name, no_drawing)
    assert panels.monitoring_panels(selectors.snapshot_history(scorecard_key="card_default"))
    assert panels.report_panels(production_model, profile)
    assert panels.fairness_panels(profile)


def test_profile_without_the_training_data_says_so(production_model):
    profile = services.model_version_profile_compute(version=production_model)
    # The fixture's frame (800 rows, seed 1) is nowhere on disk: another frame is used.
    assert not profile.data_reproduced
    assert profile.cost_curve["points"]


def test_dataset_insights_are_stored_once_per_dataset(db):
    frame = synthetic_frame(get_scorecard("german_credit"), n=300, seed=0)
    first = services.dataset_insight_compute(
        scorecard_key="german_credit", frame=frame, description="sample"
    )
    again = services.dataset_insight_compute(
        scorecard_key="german_credit", frame=frame, description="sample"
    )
    assert first.pk == again.pk
    result = first.result
    assert sum(result["class_balance"]["counts"]) == result["rows"]
    assert np.isfinite(result["tests"]["t_test"]["p_value"])
    assert first.data_description == "sample"
