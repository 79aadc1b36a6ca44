"""Background work of the scoring app: training datasets, retraining jobs, bulk scoring jobs
(their state machine is `scoring.jobs.models.Job`) and a scorecard's job settings."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ml.flags import flag_summary
from scoring.jobs.models import Job, JobStatus

from .registry import ModelVersion


def training_data_upload_to(instance: "TrainingDataset", filename: str) -> str:
    return f"training/{instance.scorecard}/{filename}"


def batch_upload_to(instance: "BatchScoringJob", filename: str) -> str:
    return f"batch/{instance.scorecard}/{filename}"


class TrainingDataset(models.Model):
    """A labelled CSV a model can be trained on, validated and described when it was stored."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        OUTCOMES = "outcomes", "Realised outcomes export"

    class Status(models.TextChoices):
        VALIDATING = "validating", "Being validated"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"

    scorecard = models.CharField(max_length=64)
    file = models.FileField(upload_to=training_data_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    rows_read = models.PositiveIntegerField()
    rows_kept = models.PositiveIntegerField(help_text="Labelled rows left after cleaning.")
    class_counts = models.JSONField(default=dict, blank=True)
    cleaning_report = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # A large upload is cleaned by a worker (its counts and report are filled in then); a
    # small one, and an outcomes export, are ready at once.
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.READY, db_index=True
    )
    error = models.TextField(blank=True, help_text="Why a rejected upload was refused.")
    validation_attempts = models.PositiveSmallIntegerField(default=0)
    validation_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.scorecard}, {self.rows_kept:,} rows)"


class ScorecardJobSettings(models.Model):
    """A credit manager's settings for one scorecard: auto-promotion and periodic retraining."""

    class Metric(models.TextChoices):
        ROC_AUC = "roc_auc", "ROC-AUC (higher is better)"
        MACRO_F1 = "macro_f1", "Macro F1 (higher is better)"
        EXPECTED_COST = "expected_cost_policy", "Expected cost per applicant (lower is better)"
        BRIER = "brier", "Brier score (lower is better)"

    LOWER_IS_BETTER = ("expected_cost_policy", "brier")

    scorecard = models.CharField(max_length=64, unique=True)
    auto_promote = models.BooleanField(
        default=False,
        help_text="Promote a retrained candidate automatically when it beats production.",
    )
    auto_promote_metric = models.CharField(
        max_length=32, choices=Metric.choices, default=Metric.ROC_AUC
    )
    auto_promote_min_gain = models.FloatField(
        default=0.0, help_text="How much better than production the candidate must be."
    )
    retrain_every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: no periodic retraining (the default)."
    )
    retrain_dataset = models.ForeignKey(
        TrainingDataset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the newest dataset of the scorecard, else its public extract.",
    )
    retrain_search = models.BooleanField(default=False)
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "scorecard job settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(retrain_every_days__isnull=True) | Q(retrain_every_days__gte=1),
                name="retrain_every_days_positive",
            )
        ]

    def __str__(self) -> str:
        return f"Job settings of {self.scorecard}"


class TrainingJob(Job):
    class Trigger(models.TextChoices):
        MANUAL = "manual", "Started by a manager"
        SCHEDULE = "schedule", "Periodic retraining"

    scorecard = models.CharField(max_length=64)
    dataset = models.ForeignKey(
        TrainingDataset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
        help_text="Empty: the scorecard's public extract (or its synthetic demo sample).",
    )
    declaration = models.ForeignKey(
        "applicants.ScorecardDeclaration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The declaration to train on (the scorecard's latest when the job was made).",
    )
    search = models.BooleanField(default=False, help_text="Run the hyperparameter search.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stage = models.CharField(max_length=32, blank=True)
    progress = models.FloatField(default=0.0)
    log = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comparison = models.JSONField(default=dict, blank=True)
    auto_promotion = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=1), name="training_progress_fraction"
            ),
            models.UniqueConstraint(
                fields=["scorecard"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_training_job_per_scorecard",
            ),
        ]

    def __str__(self) -> str:
        return f"Training job #{self.pk} ({self.scorecard})"


class BatchScoringJob(Job):
    scorecard = models.CharField(max_length=64)
    input_file = models.FileField(upload_to=batch_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Pinned when the job starts, so a resumed job scores with the same model.",
    )
    chunk_rows = models.PositiveIntegerField(
        default=20_000, help_text="Rows per committed chunk, fixed for the job's lifetime."
    )
    chunk_bytes = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="A chunk also ends after about this many bytes of input, fixed for the "
        "job's lifetime like chunk_rows, so a resumed job splits its file where the first "
        "attempt did. Empty for jobs created before it was kept: chunks of rows only.",
    )
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(
        default=0, help_text="Data rows committed so far (the last committed row number)."
    )
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    rows_flagged = models.PositiveIntegerField(
        default=0, help_text="Rows scored with 1 or more implausible values set missing."
    )
    flag_counts = models.JSONField(
        default=dict, blank=True, help_text="Values set missing, by field and rule."
    )
    rows_per_second = models.FloatField(null=True, blank=True)
    result_file = models.FileField(upload_to=batch_upload_to, max_length=300, blank=True)
    files_deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the uploaded file and the result were deleted under the retention "
        "policy (BATCH_FILE_RETENTION_DAYS); counts, predictions and row errors are kept.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_batchscoringjobs", "Can see and download every user's bulk scoring jobs")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_valid__lte=models.F("rows_done"))
                & Q(rows_invalid__lte=models.F("rows_done")),
                name="batch_counts_within_rows_done",
            ),
            models.CheckConstraint(
                condition=Q(rows_flagged__lte=models.F("rows_valid")),
                name="batch_flagged_rows_are_scored_rows",
            ),
        ]

    def __str__(self) -> str:
        return f"Bulk scoring job #{self.pk} ({self.scorecard})"

    @property
    def percent(self) -> float:
        if self.status == JobStatus.SUCCEEDED:
            return 100.0
        if not self.rows_total:
            return 0.0
        return min(100.0, 100.0 * self.rows_done / self.rows_total)

    @property
    def flag_summary(self) -> str:
        """ "312 rows scored with 1 or more values set missing: annual_income out of range
        120, …"; "" when none was."""
        return flag_summary(self.rows_flagged, self.flag_counts)

    @property
    def eta_seconds(self) -> float | None:
        if self.is_finished or not self.rows_total or not self.rows_per_second:
            return None
        return max(0.0, (self.rows_total - self.rows_done) / self.rows_per_second)


class BatchRowError(models.Model):
    """One invalid value (or an unusable row) of a bulk scoring file."""

    job = models.ForeignKey(BatchScoringJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(help_text="1-based data row (the header is row 0).")
    field = models.CharField(max_length=100)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "row_number", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "row_number", "field"], name="batch_row_error_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number} {self.field}: {self.message}"
