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


# --- background jobs: training data, retraining, bulk scoring ---------------------------------


def training_data_upload_to(instance: "TrainingDataset", filename: str) -> str:
    return f"training/{instance.scorecard}/{filename}"


def batch_upload_to(instance: "BatchScoringJob", filename: str) -> str:
    return f"batch/{instance.scorecard}/{filename}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """What every background job row holds: its state lives here, not in the result backend.

    `worker` names the process that holds the job ("host:pid:token"); it is cleared when the
    job is released for a retry or recovered after its worker died. `heartbeat_at` moves on
    at every committed step, so a job whose worker vanished can be told from a slow one.
    """

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()


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
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(
        default=0, help_text="Data rows committed so far (the last committed row number)."
    )
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
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
            )
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
