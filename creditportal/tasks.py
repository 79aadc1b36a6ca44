"""Project-wide Celery tasks."""

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.db import connection
from django.utils import timezone

from . import workers


@shared_task(name="creditportal.ping", acks_late=False)
def ping(token: str) -> dict:
    """Answer from a worker, after touching the database, so callers can check the whole path."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone()[0] == 1
    return {"token": token, "database": database_ok, "answered_at": timezone.now().isoformat()}


@worker_ready.connect
def start_worker_heartbeat(sender=None, **kwargs) -> None:
    workers.heartbeat_start(getattr(sender, "hostname", None) or "worker")


@worker_shutdown.connect
def stop_worker_heartbeat(sender=None, **kwargs) -> None:
    workers.heartbeat_stop(getattr(sender, "hostname", None) or "worker")
