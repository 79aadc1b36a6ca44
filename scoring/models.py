"""The model registry, predictions (audit records), decisions and realised outcomes."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from applicants.models import Application


class Recommendation(models.TextChoices):
    APPROVE = "approve", "Approve"
    REFER = "refer", "Refer"
    DECLINE = "decline", "Decline"


def artifact_upload_to(instance: "ModelVersion", filename: str) -> str:
    return f"models/{instance.scorecard}/v{instance.version}/{filename}"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        CANDIDATE = "candidate", "Candidate"
        PRODUCTION = "production", "Production"
        ARCHIVED = "archived", "Archived"
        FAILED = "failed", "Failed"

    scorecard = models.CharField(max_length=64)
    version = models.PositiveIntegerField(help_text="Increases by one per scorecard.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    algorithm = models.CharField(max_length=100, default="RandomForestClassifier")
    hyperparameters = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True, help_text="The model's input fields.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Headline test metrics.")
    report = models.JSONField(default=dict, blank=True, help_text="Full validation report.")
    policy = models.JSONField(default=dict, blank=True, help_text="Decision thresholds.")
    score_scaling = models.JSONField(default=dict, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    artifact = models.FileField(upload_to=artifact_upload_to, max_length=300, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    training_data_sha256 = models.CharField(max_length=64, blank=True)
    training_data_description = models.CharField(max_length=300, blank=True)
    is_synthetic = models.BooleanField(
        default=False, help_text="Demo model trained on synthetic data, not on real records."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the model trained automatically at first start-up.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["scorecard", "-version"]
        permissions = [("promote_modelversion", "Can promote or roll back a model version")]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "version"], name="model_version_unique_per_scorecard"
            ),
            models.UniqueConstraint(
                fields=["scorecard"],
                condition=Q(status="production"),
                name="one_production_model_per_scorecard",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.version}{' (demo)' if self.is_synthetic else ''}"

    @property
    def label(self) -> str:
        suffix = " — demo, synthetic data" if self.is_synthetic else ""
        return f"{self.scorecard} v{self.version}{suffix}"


class ModelPromotion(models.Model):
    """One promotion (or roll-back) of a model version to production. Never deleted."""

    scorecard = models.CharField(max_length=64)
    from_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the automatic promotion of the first model at start-up.",
    )
    promoted_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()

    class Meta:
        ordering = ["-promoted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scorecard}: {self.from_version or '—'} → {self.to_version}"


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
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["application", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk__gte=0, risk__lte=1), name="prediction_risk_is_probability"
            )
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


class ApplicationOutcome(models.Model):
    """What really happened after the decision (e.g. repaid or defaulted), recorded later."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="realised_outcome"
    )
    outcome_class = models.CharField(
        max_length=32, help_text="One of the scorecard's classes, e.g. default / no_default."
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Outcome of application #{self.application_id}: {self.outcome_class}"
