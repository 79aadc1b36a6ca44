"""Whether any background worker is running, as the pages, the API and /health/ say it.

Each Celery worker writes its heartbeat row when it starts and then every
WORKER_HEARTBEAT_SECONDS from a thread of its main process, and deletes it when it stops.
A worker counts as running while its row is younger than three beats: one missed beat (a
busy database) is not a dead worker, a killed one is noticed within a minute and a half.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)

NO_WORKER = (
    "No background worker is running: queued work waits until one starts "
    "(an administrator starts the workers; see docs/deployment.md)."
)


def workers_running(*, now=None) -> list[WorkerHeartbeat]:
    """The workers whose heartbeat is recent."""
    now = now or timezone.now()
    fresh_since = now - timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=fresh_since))


def heartbeat_write(name: str, *, started_at=None) -> None:
    """Write `name`'s heartbeat now, and forget workers silent for a day (killed ones leave
    their row; container names are new at every start)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"seen_at": now},
        create_defaults={"started_at": started_at or now, "seen_at": now},
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


_stop = threading.Event()
_beating: threading.Thread | None = None


def heartbeat_start(name: str) -> None:
    """Write `name`'s heartbeat now and every WORKER_HEARTBEAT_SECONDS, from a thread."""
    started_at = timezone.now()
    _stop.clear()

    global _beating

    def beat() -> None:
        while not _stop.is_set():
            try:
                close_old_connections()
                heartbeat_write(name, started_at=started_at)
            except Exception as error:  # never let the thread die: the next beat tries again
                log.warning("Worker heartbeat not written: %s", error)
            finally:
                connection.close()
            _stop.wait(settings.WORKER_HEARTBEAT_SECONDS)

    _beating = threading.Thread(target=beat, name="worker-heartbeat", daemon=True)
    _beating.start()


def heartbeat_stop(name: str) -> None:
    """Stop the beats and remove `name`'s row: a worker stopped on purpose is gone at once."""
    _stop.set()
    if _beating is not None:
        _beating.join(timeout=10)  # a beat being written must not bring the row back
    try:
        WorkerHeartbeat.objects.filter(name=name).delete()
    except DatabaseError:
        pass
    finally:
        connection.close()
