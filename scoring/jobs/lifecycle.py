"""How a job row moves from queued to finished, for any model built on `Job`.

- A job is a row; its state (status, progress, counts, error) lives on the row. Status only
  moves forward: queued -> running -> succeeded / failed / cancelled. A finished job is never
  touched again, so a duplicate or late message is harmless.
- `queue` publishes the job's task once its row is committed; a broker that cannot take it
  fails the job with the reason and raises `JobQueueUnavailable` (HTTP 503).
- A worker *claims* a job by writing a token ("host:pid:random") into `worker`. Every write
  of a running job is conditional on that token (`beat`, `finish`), so a worker that lost
  the job (it was recovered after its heartbeat went stale) stops at its next step instead
  of writing twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from creditportal.errors import ApplicationError, JobQueueUnavailable
from creditportal.queue import publish
from creditportal.workers import NO_WORKER, workers_running

from .models import FINISHED_JOB_STATUSES, Job, JobStatus

log = logging.getLogger(__name__)

# Errors worth retrying: the database or the broker was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class JobCancelled(Exception):
    """Raised by a job's body when its cancellation was asked for: the job ends cancelled."""


class JobLost(Exception):
    """Another worker took the job over (it was recovered as orphaned): stop quietly."""


class ProcessDied(Exception):
    """A process working for the job stopped unexpectedly (killed, or out of memory)."""


def waiting_note(job: Job, *, any_worker: Callable[[], bool] | None = None) -> str:
    """For a queued job, "no worker is running" when none is (else nothing): said on the
    job's page and in the API, instead of a bar that never moves.

    `any_worker` answers whether a worker is running; a list of jobs passes one that asks
    the database once for the whole list (`WorkersRunningOnce`), not once per queued job.
    """
    if job.status != JobStatus.QUEUED:
        return ""
    running = any_worker() if any_worker is not None else bool(workers_running())
    return "" if running else NO_WORKER


class WorkersRunningOnce:
    """Whether a worker is running, asked of the database at the first call only: one answer
    for every job of one list or one request."""

    def __init__(self) -> None:
        self._answer: bool | None = None

    def __call__(self) -> bool:
        if self._answer is None:
            self._answer = bool(workers_running())
        return self._answer


def refuse_inside_transaction() -> None:
    """RuntimeError inside a transaction (test cases' own excepted), so that a job row is
    always committed before its message is published.

    A worker must never look for a row that is not committed yet, and a broker failure must
    be known before the request is answered: job rows are written in a durable transaction
    and published after it. A view that submits jobs inside its request transaction (one
    that forgot `submits_jobs` / `SubmitsJobs`) gets this RuntimeError from Django.
    """
    with transaction.atomic(durable=True):
        pass


def queue(job: Job, task: Task) -> None:
    """Publish `task(job.pk)` now; if the broker cannot take it, fail the job with the reason
    and raise JobQueueUnavailable, so that no job is left queued without a message."""
    refuse_inside_transaction()
    try:
        publish(task, job.pk, what="the job", outcome="Nothing was processed")
    except JobQueueUnavailable as error:
        finish(type(job), job.pk, status=JobStatus.FAILED, error=f"{error} ({error.__cause__})")
        raise


def new_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_orphaned(job: Job, *, now=None) -> bool:
    """A running job whose worker is gone: released, dead on this host, or silent too long."""
    if job.status != JobStatus.RUNNING:
        return False
    if not job.worker:
        return True
    host, _, rest = job.worker.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
        return True
    now = now or timezone.now()
    stale = timedelta(seconds=settings.JOB_STALE_SECONDS)
    return job.heartbeat_at is None or job.heartbeat_at < now - stale


def too_many_attempts(job: Job) -> str:
    return (
        f"The job's worker stopped {job.attempts} times before it could finish; "
        "it was not tried again."
    )


@transaction.atomic
def claim(model: type[Job], job_id: int, token: str) -> Job | None:
    """Mark the job running for this worker, or return None if it must not run here."""
    job = model.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        log.warning("%s #%s does not exist; message dropped.", model.__name__, job_id)
        return None
    if job.status in FINISHED_JOB_STATUSES:
        return None
    if job.cancel_requested:
        finish(model, job.pk, status=JobStatus.CANCELLED)
        return None
    if job.status == JobStatus.RUNNING and not is_orphaned(job):
        log.info("%s is held by %s; duplicate message skipped.", job, job.worker)
        return None
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        finish(model, job.pk, status=JobStatus.FAILED, error=too_many_attempts(job))
        return None
    now = timezone.now()
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.worker = token
    job.heartbeat_at = now
    job.started_at = job.started_at or now
    job.save(update_fields=["status", "attempts", "worker", "heartbeat_at", "started_at"])
    return job


def beat(model: type[Job], job_pk: int, token: str, **fields) -> None:
    """Write progress (and the heartbeat) of a job this worker holds; JobLost if it does not."""
    updated = model.objects.filter(pk=job_pk, worker=token, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    )
    if not updated:
        raise JobLost()


def cancel_requested(model: type[Job], job_pk: int) -> bool:
    return model.objects.filter(pk=job_pk, cancel_requested=True).exists()


def stop_if_cancelled(model: type[Job], job_pk: int) -> None:
    if cancel_requested(model, job_pk):
        raise JobCancelled()


def finish(
    model: type[Job],
    job_pk: int,
    *,
    status: str,
    token: str | None = None,
    error: str = "",
    **fields,
) -> int:
    """Move an unfinished job to a final status (once); with `token`, only if still held."""
    queryset = model.objects.filter(pk=job_pk).exclude(status__in=FINISHED_JOB_STATUSES)
    if token is not None:
        queryset = queryset.filter(worker=token)
    return queryset.update(
        status=status, finished_at=timezone.now(), worker="", error=error[:4000], **fields
    )


def release(model: type[Job], job_pk: int, token: str) -> None:
    """Give a running job back (before a retry), so the next attempt may claim it at once."""
    try:
        model.objects.filter(pk=job_pk, worker=token, status=JobStatus.RUNNING).update(worker="")
    except DatabaseError:
        log.warning("Could not release %s #%s; recovery will find it.", model.__name__, job_pk)


def failure_message(error: BaseException, readable: tuple[type[BaseException], ...] = ()) -> str:
    """What a person reads of a failed job. `readable` errors are already written for people."""
    if isinstance(error, SoftTimeLimitExceeded):
        return (
            f"The job took longer than the time limit ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s) "
            "and was stopped."
        )
    if isinstance(error, (ApplicationError, ProcessDied, *readable)):
        return str(error)
    return f"Unexpected error ({type(error).__name__}): {error}"


def run(
    model: type[Job],
    job_id: int,
    body: Callable[[Job, str], None],
    *,
    readable: tuple[type[BaseException], ...] = (),
) -> None:
    """The worker's side of a job: claim it, run `body(job, token)`, and apply the failure
    rules every job shares (cancelled, lost, transient errors retried, others recorded)."""
    token = new_token()
    job = claim(model, job_id, token)
    if job is None:
        return
    try:
        body(job, token)
    except JobCancelled:
        finish(model, job.pk, status=JobStatus.CANCELLED, token=token)
    except JobLost:
        log.warning("%s was taken over by another worker; this run stops.", job)
    except TRANSIENT_ERRORS:
        release(model, job.pk, token)
        raise
    except Exception as error:
        log.exception("%s failed", job)
        message = failure_message(error, readable)
        finish(model, job.pk, status=JobStatus.FAILED, token=token, error=message)


def cancel(*, job: Job, by) -> Job:
    """Cancel a queued job at once, or ask a running one to stop after its current step."""
    model = type(job)
    with transaction.atomic():
        job = model.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            raise ApplicationError(f"This job has already {job.get_status_display().lower()}.")
        if job.status == JobStatus.QUEUED:
            finish(model, job.pk, status=JobStatus.CANCELLED, cancel_requested=True)
        else:
            model.objects.filter(pk=job.pk).update(cancel_requested=True)
    log.info("%s cancelled by %s", job, by)
    job.refresh_from_db()
    return job


class Heartbeat:
    """Beats for a long step that reports no progress (fitting a big forest) in a thread."""

    def __init__(self, model: type[Job], job_pk: int, token: str, every: float = 30.0):
        self.model, self.job_pk, self.token, self.every = model, job_pk, token, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{job_pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                self.model.objects.filter(
                    pk=self.job_pk, worker=self.token, status=JobStatus.RUNNING
                ).update(heartbeat_at=timezone.now())
        except DatabaseError:
            log.warning("Heartbeat of %s #%s failed.", self.model.__name__, self.job_pk)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
