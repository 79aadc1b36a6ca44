"""The state every background job row holds, whatever the job does.

Its status only moves forward (queued -> running -> succeeded / failed / cancelled); the
machinery in `scoring/jobs/` claims, beats, finishes and recovers rows of any model built on
`Job`, and knows nothing else about them. The scoring app's own job models (training
datasets, training jobs, bulk jobs) are in `scoring/models/jobs.py`.
"""

from django.db import models
from django.utils import timezone


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
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
