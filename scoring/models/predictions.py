"""Predictions (audit records), decisions on them and realised outcomes."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from applicants.models import Application

from .registry import ModelVersion


class Recommendation(models.TextChoices):
    APPROVE = "approve", "Approve"
    REFER = "refer", "Refer"
    DECLINE = "decline", "Decline"


class ImmutableQuerySet(models.QuerySet):
    """Audit rows are written once: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are immutable.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are immutable.")


class Prediction(models.Model):
    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        API = "api", "API"
        BATCH = "batch", "Batch"

    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predictions",
        help_text="Empty for stateless scoring through the API.",
        db_index=False,  # (application, -created_at) below serves lookups by application
    )
    scorecard = models.CharField(max_length=64)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    inputs = models.JSONField(help_text="The exact inputs scored.")
    predicted_class = models.CharField(max_length=32)
    probabilities = models.JSONField()
    risk = models.FloatField(help_text="Probability of the worst class.")
    points = models.IntegerField()
    band = models.CharField(max_length=16)
    band_label = models.CharField(max_length=100, blank=True)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices)
    reasons = models.JSONField(default=list)
    segment = models.JSONField(default=dict)
    flags = models.JSONField(
        default=list,
        blank=True,
        help_text="Values of a bulk row that were read but implausible (out of range, an "
        'unknown choice) and scored as missing: [{"field", "rule", "value"}] (see ml/flags.py).',
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    batch_job = models.ForeignKey(
        "BatchScoringJob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predictions",
        help_text="The bulk scoring job that made this prediction, with its file row number.",
        db_index=False,  # the unique (batch_job, row_number) index serves lookups by job
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An application's predictions, newest first. Partial: batch and stateless API
            # predictions (no application) are most rows and are never looked up this way.
            models.Index(
                fields=["application", "-created_at"],
                condition=Q(application__isnull=False),
                name="prediction_application_latest",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk__gte=0, risk__lte=1), name="prediction_risk_is_probability"
            ),
            # One prediction per row of a bulk file: a resumed job can never duplicate one.
            models.UniqueConstraint(
                fields=["batch_job", "row_number"],
                condition=Q(batch_job__isnull=False),
                name="one_prediction_per_batch_row",
            ),
            models.CheckConstraint(
                condition=Q(batch_job__isnull=True) | Q(row_number__isnull=False),
                name="batch_prediction_has_row_number",
            ),
        ]

    def __str__(self) -> str:
        return f"Prediction #{self.pk} ({self.scorecard}, {self.recommendation})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Predictions are immutable once stored.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Predictions are immutable once stored.")


class Decision(models.Model):
    """An officer's decision on a scored application.

    One active decision per application (a database constraint). A credit manager may reopen
    a decided application: the decision is kept, marked reopened with who, when and why.
    """

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    prediction = models.ForeignKey(Prediction, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=16, choices=Recommendation.choices)
    note = models.TextField(blank=True)
    is_override = models.BooleanField(
        default=False, help_text="The decision differs from the model's recommendation."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reopen_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        permissions = [("reopen_decision", "Can reopen a decided application")]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(reopened_at__isnull=True),
                name="one_active_decision_per_application",
            ),
            models.CheckConstraint(
                condition=~Q(is_override=True, note=""), name="override_needs_a_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} application #{self.application_id}"


class OutcomeQuerySet(ImmutableQuerySet):
    def current(self) -> "OutcomeQuerySet":
        """Each application's outcome as it stands: the records no later record corrects."""
        return self.filter(corrected_by__isnull=True)


class ApplicationOutcome(models.Model):
    """What really happened after the decision (e.g. repaid or defaulted), recorded later.

    Never changed once stored: a correction is a new record naming the one it corrects
    (`corrects`), so the history of what was believed when stays. An application's outcome
    is the record no other corrects; at most one record per application corrects nothing,
    and a record is corrected at most once (database constraints), so two managers
    correcting at the same moment cannot both win.
    """

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="outcomes")
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
        help_text="The earlier record this one corrects.",
    )
    outcome_class = models.CharField(
        max_length=32, help_text="One of the scorecard's classes, e.g. default / no_default."
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(corrects__isnull=True),
                name="one_first_outcome_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcome of application #{self.application_id}: {self.outcome_class}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Outcomes are kept as recorded: record a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Outcomes are kept as recorded: record a correction instead.")
