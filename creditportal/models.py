"""Project-wide records: the background workers' heartbeats."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A Celery worker that is running: written by the worker itself every
    WORKER_HEARTBEAT_SECONDS (creditportal/workers.py), deleted when it stops. A worker killed
    without stopping leaves a row that simply grows old."""

    name = models.CharField(max_length=255, unique=True, help_text="The worker's node name.")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
