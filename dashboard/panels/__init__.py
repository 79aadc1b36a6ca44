"""The dashboard's panels: each chart (an SVG drawn by `charts`) with its numbers beside it,
one module per page.

Pure functions of stored figures, used by the views to render pages and by the Celery tasks
to draw the charts into the shared cache as soon as the figures are computed.
"""

from __future__ import annotations

from .. import selectors
from .base import Panel
from .fairness import fairness_panels
from .insights import insight_panels
from .monitoring import monitoring_panels
from .portfolio import portfolio_panels
from .report import report_panels

__all__ = [
    "Panel",
    "draw_for_insight",
    "draw_for_profile",
    "draw_for_snapshots",
    "fairness_panels",
    "insight_panels",
    "monitoring_panels",
    "portfolio_panels",
    "report_panels",
]


def draw_for_profile(profile) -> None:
    """Draw a version's report and fairness charts into the cache (after its profile)."""
    report_panels(profile.model_version, profile)
    fairness_panels(profile)


def draw_for_snapshots(scorecard_key: str) -> None:
    monitoring_panels(selectors.snapshot_history(scorecard_key=scorecard_key))


def draw_for_insight(insight) -> None:
    insight_panels(insight.result)
