"""Reads of the dashboard. Portfolio figures are aggregated in the database, never in loops."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dt_time

from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate, TruncMonth, TruncWeek
from django.http import Http404
from django.utils import timezone

from applicants.models import Application
from ml.scorecards import SCORECARDS
from scoring import selectors as scoring_selectors
from scoring.models import Decision, ModelVersion, Prediction, Recommendation, TrainingDataset

from .models import DatasetInsight, ModelVersionProfile, MonitoringSnapshot, PredictionDailyStats

SCORE_BUCKET = 25  # points per bar of the score distribution
RECOMMENDATIONS = [choice.value for choice in Recommendation]


def _since(months: int):
    return timezone.now() - timedelta(days=31 * months)


def applications_by_status_over_time(*, months: int, weekly: bool = False) -> list[dict]:
    """[{period, status, n}] of applications created in the last `months` months."""
    trunc = TruncWeek if weekly else TruncMonth
    return list(
        Application.objects.filter(created_at__gte=_since(months))
        .annotate(period=trunc("created_at"))
        .values("period", "status")
        .annotate(n=Count("id"))
        .order_by("period", "status")
    )


def start_of_day(day):
    """The first instant of a date in the current time zone."""
    return timezone.make_aware(datetime.combine(day, dt_time.min))


def rolled_up_until():
    """The last day held in PredictionDailyStats, or None."""
    return PredictionDailyStats.objects.aggregate(last=Max("day"))["last"]


def prediction_groups(predictions: QuerySet[Prediction], *, by_day: bool) -> list[dict]:
    """Count, points and risk sums by (day,) scorecard, recommendation and points bucket (SQL)."""
    bucket = Cast(F("points") / SCORE_BUCKET, IntegerField()) * SCORE_BUCKET
    keys = ["scorecard", "recommendation", "bucket"]
    if by_day:
        predictions = predictions.annotate(day=TruncDate("created_at"))
        keys = ["day", *keys]
    return list(
        predictions.annotate(bucket=bucket)
        .values(*keys)
        .annotate(n=Count("id"), sum_points=Sum("points"), sum_risk=Sum("risk"))
        .order_by(*keys)
    )


def _portfolio_groups(*, months: int, weekly: bool) -> list[dict]:
    """[{period, scorecard, recommendation, bucket, n, sum_points, sum_risk}] since `months` ago.

    Ended days come from the roll-up table; the days after it (normally just today) are
    aggregated live from the predictions, through the index on `created_at`.
    """
    since = _since(months)
    trunc = TruncWeek if weekly else TruncMonth
    stored = (
        PredictionDailyStats.objects.filter(day__gte=since.date())
        .annotate(period=trunc("day"), bucket=F("points_bucket"))
        .values("period", "scorecard", "recommendation", "bucket")
        .annotate(n=Sum("predictions"), sum_points=Sum("sum_points"), sum_risk=Sum("sum_risk"))
        .order_by()
    )
    last = rolled_up_until()
    live = Prediction.objects.filter(created_at__gte=since)
    if last is not None:
        live = live.filter(created_at__gte=start_of_day(last + timedelta(days=1)))
        stored = stored.filter(day__lte=last)
    live_rows = (
        live.annotate(period=trunc("created_at"))
        .annotate(bucket=Cast(F("points") / SCORE_BUCKET, IntegerField()) * SCORE_BUCKET)
        .values("period", "scorecard", "recommendation", "bucket")
        .annotate(n=Count("id"), sum_points=Sum("points"), sum_risk=Sum("risk"))
        .order_by()
    )
    rows = []
    for row in [*stored, *live_rows]:
        period = row["period"]
        rows.append({**row, "period": period.date() if hasattr(period, "date") else period})
    return rows


def _merge(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Sum already-aggregated rows (a few hundred at most) over `keys`."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        into = merged.setdefault(
            key, {**{k: row[k] for k in keys}, "n": 0, "sum_points": 0, "sum_risk": 0.0}
        )
        into["n"] += row["n"]
        into["sum_points"] += row["sum_points"] or 0
        into["sum_risk"] += row["sum_risk"] or 0.0
    return [merged[k] for k in sorted(merged)]


def portfolio_predictions(*, months: int, weekly: bool = False) -> dict[str, list[dict]]:
    """Scorings by period and recommendation, the score distribution and a summary."""
    rows = _portfolio_groups(months=months, weekly=weekly)
    summary = _merge(rows, ("scorecard",))
    for row in summary:
        row["mean_points"] = row["sum_points"] / row["n"] if row["n"] else None
        row["mean_risk"] = row["sum_risk"] / row["n"] if row["n"] else None
    return {
        "by_recommendation": _merge(rows, ("period", "recommendation")),
        "score_distribution": _merge(rows, ("scorecard", "bucket")),
        "summary": summary,
    }


def decisions_by_officer(*, months: int) -> list[dict]:
    """Per officer: active decisions, approvals, overrides (rates computed by the caller)."""
    return list(
        Decision.objects.filter(reopened_at__isnull=True, decided_at__gte=_since(months))
        .values("decided_by__username", "decided_by__first_name", "decided_by__last_name")
        .annotate(
            n=Count("id"),
            approved=Count("id", filter=Q(outcome=Recommendation.APPROVE)),
            overrides=Count("id", filter=Q(is_override=True)),
        )
        .order_by("-n", "decided_by__username")
    )


def decisions_vs_recommendations(*, months: int) -> list[dict]:
    return list(
        Decision.objects.filter(reopened_at__isnull=True, decided_at__gte=_since(months))
        .values("prediction__recommendation", "outcome")
        .annotate(n=Count("id"))
        .order_by("prediction__recommendation", "outcome")
    )


def production_version_list() -> QuerySet[ModelVersion]:
    """Every scorecard's production version, by scorecard, without the heavy report."""
    return scoring_selectors.production_versions().defer("report", "manifest").order_by("scorecard")


def model_version_get(*, version_id: int) -> ModelVersion:
    try:
        return ModelVersion.objects.get(pk=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None


def model_version_choices() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.only("pk", "scorecard", "version", "status", "is_synthetic")


def profile_of(*, version: ModelVersion) -> ModelVersionProfile | None:
    return ModelVersionProfile.objects.filter(model_version=version).first()


def latest_snapshots() -> list[MonitoringSnapshot]:
    """The newest snapshot of each scorecard (one query per scorecard, three at most)."""
    snapshots = []
    for key in SCORECARDS:
        snapshot = (
            MonitoringSnapshot.objects.filter(scorecard=key).select_related("model_version").first()
        )
        if snapshot is not None:
            snapshots.append(snapshot)
    return snapshots


def snapshot_history(*, scorecard_key: str, limit: int = 60) -> list[MonitoringSnapshot]:
    """The scorecard's latest snapshots, oldest first (for the PSI-over-time chart)."""
    rows = MonitoringSnapshot.objects.filter(scorecard=scorecard_key).select_related(
        "model_version"
    )[:limit]
    return list(reversed(rows))


def dashboard_alerts() -> list[dict]:
    """Alerts of each scorecard's newest snapshot, the most serious first."""
    alerts = []
    for snapshot in latest_snapshots():
        for alert in snapshot.alerts:
            alerts.append({**alert, "scorecard": snapshot.scorecard, "at": snapshot.computed_at})
    order = {"act": 0, "watch": 1, "info": 2}
    return sorted(alerts, key=lambda a: order.get(a["level"], 3))


def insight_list(*, scorecard_key: str) -> list[DatasetInsight]:
    """Stored insights of a scorecard's datasets, newest first."""
    return list(DatasetInsight.objects.filter(scorecard=scorecard_key).defer("result")[:20])


def dataset_list(*, scorecard_key: str) -> list[TrainingDataset]:
    return list(TrainingDataset.objects.filter(scorecard=scorecard_key)[:50])
