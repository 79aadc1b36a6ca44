"""Celery tasks of the dashboard: each takes keys or ids and calls a service."""

from celery import shared_task

from creditportal.queue import TASK_OPTIONS
from scoring.models import ModelVersion, TrainingDataset

from . import panels, services
from .models import MonitoringSnapshot


@shared_task(name="dashboard.take_monitoring_snapshots", **TASK_OPTIONS)
def take_monitoring_snapshots() -> list[int]:
    """Periodic (Celery beat): a monitoring snapshot of every production model.

    Their charts (and the production versions' report and fairness charts) are drawn into
    the shared charts cache at once, so the pages need not draw them.
    """
    ids = services.monitoring_snapshots_take_all()
    _draw_monitoring_charts(ids)
    return ids


def _draw_monitoring_charts(snapshot_ids: list[int]) -> None:
    for snapshot in MonitoringSnapshot.objects.filter(pk__in=snapshot_ids).select_related(
        "model_version__dashboard_profile"
    ):
        panels.draw_for_snapshots(snapshot.scorecard)
        panels.draw_for_profile(snapshot.model_version.dashboard_profile)


@shared_task(name="dashboard.take_monitoring_snapshot", **TASK_OPTIONS)
def take_monitoring_snapshot(scorecard_key: str) -> int | None:
    snapshot = services.monitoring_snapshot_take(scorecard_key=scorecard_key)
    if snapshot is None:
        return None
    _draw_monitoring_charts([snapshot.pk])
    return snapshot.pk


@shared_task(name="dashboard.compute_model_version_profile", **TASK_OPTIONS)
def compute_model_version_profile(version_id: int) -> None:
    version = ModelVersion.objects.get(pk=version_id)
    panels.draw_for_profile(services.model_version_profile_compute(version=version))


@shared_task(name="dashboard.compute_dataset_insight", **TASK_OPTIONS)
def compute_dataset_insight(scorecard_key: str, dataset_id: int | None = None) -> int:
    dataset = None if dataset_id is None else TrainingDataset.objects.get(pk=dataset_id)
    insight = services.dataset_insight_compute(scorecard_key=scorecard_key, dataset=dataset)
    panels.draw_for_insight(insight)
    return insight.pk


@shared_task(name="dashboard.roll_up_predictions", **TASK_OPTIONS)
def roll_up_predictions() -> int:
    """Periodic (Celery beat): aggregate each ended day's predictions for the portfolio, and
    draw the default portfolio view's charts (the last 12 months) into the charts cache."""
    added = services.predictions_roll_up()
    panels.portfolio_panels(months=12, weekly=False)
    return added
