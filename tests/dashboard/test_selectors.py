"""Portfolio figures: aggregated in SQL, from the daily roll-up plus today's live rows."""

from datetime import timedelta

import pytest
from django.db.models import Avg, Count
from django.utils import timezone

from dashboard import selectors, services
from dashboard.models import PredictionDailyStats
from scoring.models import Prediction
from scoring.services.decisions import decision_create
from scoring.services.predictions import prediction_create
from tests.dashboard.conftest import split_rows, store_predictions
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread_predictions(production_model, manager, training_frame):
    """Test-split rows scored 40, 10 and 0 days ago."""
    rows = split_rows(training_frame, "test")
    now = timezone.now()
    store_predictions(
        production_model, manager, rows.iloc[:50], created_at=now - timedelta(days=40)
    )
    store_predictions(
        production_model, manager, rows.iloc[50:120], created_at=now - timedelta(days=10)
    )
    store_predictions(production_model, manager, rows.iloc[120:])
    return Prediction.objects.count()


def _expected():
    return {
        (row["recommendation"]): row["n"]
        for row in Prediction.objects.values("recommendation").annotate(n=Count("id")).order_by()
    }


def test_roll_up_plus_live_rows_equal_a_direct_count(spread_predictions):
    before = selectors.portfolio_predictions(months=3)
    added = services.predictions_roll_up()
    assert added > 0
    assert PredictionDailyStats.objects.filter(day=timezone.localdate()).count() == 0
    rolled = sum(PredictionDailyStats.objects.values_list("predictions", flat=True))
    assert (
        rolled
        == spread_predictions
        - Prediction.objects.filter(
            created_at__gte=selectors.start_of_day(timezone.localdate())
        ).count()
    )
    after = selectors.portfolio_predictions(months=3)
    for figures in (before, after):
        totals = {}
        for row in figures["by_recommendation"]:
            totals[row["recommendation"]] = totals.get(row["recommendation"], 0) + row["n"]
        assert totals == _expected()
        (summary,) = figures["summary"]
        assert summary["n"] == spread_predictions
        direct = Prediction.objects.aggregate(points=Avg("points"), risk=Avg("risk"))
        assert summary["mean_points"] == pytest.approx(direct["points"])
        assert summary["mean_risk"] == pytest.approx(direct["risk"])
        assert sum(r["n"] for r in figures["score_distribution"]) == spread_predictions
        for row in figures["score_distribution"]:
            assert row["bucket"] % selectors.SCORE_BUCKET == 0
    strip = [{k: v for k, v in r.items() if k != "sum_risk"} for r in before["by_recommendation"]]
    assert strip == [
        {k: v for k, v in r.items() if k != "sum_risk"} for r in after["by_recommendation"]
    ]
    assert services.predictions_roll_up() == 0  # ended days are rolled up once


def test_the_period_filter_leaves_old_scorings_out(spread_predictions):
    services.predictions_roll_up()
    one_month = selectors.portfolio_predictions(months=1)
    assert sum(r["n"] for r in one_month["by_recommendation"]) == spread_predictions - 50


def test_weekly_periods(spread_predictions):
    weekly = selectors.portfolio_predictions(months=3, weekly=True)
    assert len({r["period"] for r in weekly["by_recommendation"]}) == 3


def test_officer_rates_and_decisions_against_recommendations(production_model, officer):
    applications = ApplicationFactory.create_batch(3, applicant__owner=officer)
    recommendations = []
    for i, application in enumerate(applications):
        prediction = prediction_create(application=application, requested_by=officer)
        recommendations.append(prediction.recommendation)
        if i == 0:
            other = "decline" if prediction.recommendation != "decline" else "approve"
            decision_create(application=application, outcome=other, note="Known", by=officer)
        else:
            decision_create(application=application, outcome=prediction.recommendation, by=officer)
    (row,) = selectors.decisions_by_officer(months=12)
    assert row["n"] == 3
    assert row["overrides"] == 1
    matrix = selectors.decisions_vs_recommendations(months=12)
    assert sum(r["n"] for r in matrix) == 3
    assert sum(r["n"] for r in matrix if r["prediction__recommendation"] == r["outcome"]) == 2


def test_roll_up_task_draws_the_default_portfolio(spread_predictions, monkeypatch):
    from dashboard import charts, panels
    from dashboard.tasks import roll_up_predictions

    assert roll_up_predictions() > 0

    def no_drawing(**kwargs):
        raise AssertionError("the page had to draw a chart")

    for name in ("stacked_bars", "grouped_bars", "heatmap"):
        monkeypatch.setattr(charts, name, no_drawing)
    assert len(panels.portfolio_panels(months=12, weekly=False)) == 5
