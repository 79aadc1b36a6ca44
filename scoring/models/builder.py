"""The scorecard builder: a credit manager's labelled file, profiled by a worker into a
proposed declaration that the manager reviews, saves and trains."""

from django.conf import settings
from django.db import models

from scoring.jobs.models import Job

from .jobs import TrainingDataset, TrainingJob


def builder_upload_to(instance: "ScorecardDraft", filename: str) -> str:
    return f"builder/{filename}"


class ScorecardDraft(Job):
    """One run of the builder. The profiling is a job (queued → running → succeeded); the
    proposal is then edited on the review page and saved as a declaration."""

    file = models.FileField(upload_to=builder_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_target = models.CharField(
        max_length=255, blank=True, help_text="The outcome column the manager chose, if any."
    )
    stage = models.CharField(max_length=32, blank=True)
    progress = models.FloatField(default=0.0)
    profile = models.JSONField(default=dict, blank=True, help_text="What each column holds.")
    proposal = models.JSONField(
        default=dict, blank=True, help_text="The declaration the profile suggests."
    )
    declaration = models.ForeignKey(
        "applicants.ScorecardDeclaration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The declaration saved from this draft.",
    )
    dataset = models.ForeignKey(
        TrainingDataset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    training_job = models.ForeignKey(
        TrainingJob, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Scorecard draft #{self.pk} ({self.original_name})"
