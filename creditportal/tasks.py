"""Project-wide Celery tasks."""

from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task(name="creditportal.ping", acks_late=False)
def ping(token: str) -> dict:
    """Answer from a worker, after touching the database, so callers can check the whole path."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone()[0] == 1
    return {"token": token, "database": database_ok, "answered_at": timezone.now().isoformat()}
