"""Stored results of the dashboard's heavier computations, so pages only read rows.

A model version's profile (reference distributions, cost curve, fairness) is computed once
from its reproduced training data; monitoring snapshots are computed periodically (Celery
beat); data insights once per training dataset. Each row holds plain JSON for its charts.
"""

from django.db import models

from scoring.models import ModelVersion, TrainingDataset


class ModelVersionProfile(models.Model):
    """What the dashboard knows about one model version from its own training data."""

    model_version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="dashboard_profile"
    )
    data_description = models.CharField(max_length=300)
    data_sha256 = models.CharField(max_length=64)
    data_reproduced = models.BooleanField(
        help_text="The data read again hashes to the version's training-data sha256, so the "
        "test split is exactly the one the report was measured on."
    )
    rows = models.JSONField(default=dict, help_text="Rows of each side of the split.")
    reference = models.JSONField(
        default=dict, help_text="Score and input distributions on the train split (for PSI)."
    )
    cost_curve = models.JSONField(default=dict, help_text="Expected cost across cut-offs (test).")
    fairness = models.JSONField(default=dict, help_text="Approval and risk by group (test).")
    computed_at = models.DateTimeField(auto_now=True)
    seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"Profile of {self.model_version}"


class MonitoringSnapshot(models.Model):
    """Stability and performance of a scorecard's production model over one window."""

    class Band(models.TextChoices):
        STABLE = "stable", "Stable (PSI < 0.10)"
        WATCH = "watch", "Watch (PSI 0.10–0.25)"
        ACT = "act", "Act (PSI ≥ 0.25)"
        UNKNOWN = "unknown", "No predictions in the window"

    scorecard = models.CharField(max_length=64)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring_snapshots"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    predictions = models.PositiveIntegerField(help_text="Predictions of the version in the window.")
    psi_score = models.FloatField(null=True, blank=True)
    score_band = models.CharField(max_length=16, choices=Band.choices)
    worst_band = models.CharField(max_length=16, choices=Band.choices)
    score_distribution = models.JSONField(
        default=dict, blank=True, help_text="Bin labels, reference and window shares of the score."
    )
    inputs = models.JSONField(
        default=list, blank=True, help_text="PSI and band of each input field."
    )
    performance = models.JSONField(
        default=list,
        blank=True,
        help_text="Per month with realised outcomes: rows, bad rate, ROC-AUC.",
    )
    alerts = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["scorecard", "-computed_at"])]
        permissions = [("view_dashboard", "Can see the dashboard, model reports and monitoring")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="monitoring_window_not_empty",
            )
        ]

    def __str__(self) -> str:
        return f"Monitoring of {self.model_version} at {self.computed_at:%Y-%m-%d %H:%M}"


class DatasetInsight(models.Model):
    """Descriptive statistics and tests of one training dataset."""

    scorecard = models.CharField(max_length=64)
    dataset = models.ForeignKey(
        TrainingDataset,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the scorecard's public extract (or its synthetic demo sample).",
    )
    data_description = models.CharField(max_length=300)
    data_sha256 = models.CharField(max_length=64)
    synthetic = models.BooleanField(default=False)
    result = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "data_sha256"], name="one_insight_per_dataset"
            )
        ]

    def __str__(self) -> str:
        return f"Insights of {self.data_description}"


class PredictionDailyStats(models.Model):
    """Predictions of one closed day, aggregated: the portfolio pages read these, not rows.

    Predictions are immutable and stamped when stored, so a day that has ended never changes;
    a periodic task adds each ended day once. Pages add the days not rolled up yet (today)
    live from the indexed `created_at`.
    """

    day = models.DateField()
    scorecard = models.CharField(max_length=64)
    recommendation = models.CharField(max_length=16)
    points_bucket = models.IntegerField(help_text="Lowest points of the bucket (25 points wide).")
    predictions = models.PositiveIntegerField()
    sum_points = models.BigIntegerField()
    sum_risk = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "scorecard", "recommendation", "points_bucket"],
                name="one_rollup_row_per_day_and_group",
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.scorecard} {self.recommendation} {self.points_bucket}+"
