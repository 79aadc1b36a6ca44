"""The model registry: every trained version of a scorecard's model, and its promotions."""

from django.conf import settings
from django.db import models
from django.db.models import Q


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
    declaration = models.ForeignKey(
        "applicants.ScorecardDeclaration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="model_versions",
        help_text="The declaration (fields, target, costs) this model was trained on.",
    )

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
