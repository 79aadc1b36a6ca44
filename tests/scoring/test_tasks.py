"""Jobs through a real Celery worker on the configured broker (embedded, or Redis in CI)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from creditportal.celery import app as celery_app
from scoring.models import BatchRowError, JobStatus, Prediction, TrainingJob
from scoring.services import bulk_scoring, datasets, training
from tests.conftest import purge_broker
from tests.scoring.jobkit import INVALID, card_default_csv, upload

pytestmark = [
    pytest.mark.celery,
    # Transactional: a worker must see committed rows.
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]


def wait_for(job, *, timeout: float = 60):
    if connection.vendor == "sqlite":
        # The test database is SQLite in memory with a shared cache, where a reader takes
        # table locks that make the worker thread's writes fail; polling must not do that.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{job} still {job.status} after {timeout} s")


def test_bulk_job_through_a_worker(celery_worker_thread, officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 50
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(180)), owner=officer
    )
    wait_for(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.rows_total, job.rows_valid, job.rows_invalid) == (180, 177, 3)
    assert Prediction.objects.filter(batch_job=job).count() == 177
    assert BatchRowError.objects.filter(job=job).count() == 3
    assert job.result_file and job.rows_per_second > 0


def test_training_job_through_a_worker(celery_worker_thread, manager, production_model, settings):
    settings.TRAINING_JOB_OPTIONS = {
        "params": {"n_estimators": 20, "min_samples_leaf": 5},
        "baselines": False,
        "permutation": False,
    }
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(400, seed=5, invalid={})),
        by=manager,
    )
    job = training.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)
    wait_for(job, timeout=120)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.model_version.status == "candidate"
    assert job.comparison["production"] is not None
    assert TrainingJob.objects.get().attempts == 1


def test_large_training_upload_validated_by_a_worker(celery_worker_thread, manager, settings):
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(300, seed=5, invalid={})),
        by=manager,
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    deadline = time.monotonic() + 60
    while dataset.status == "validating" and time.monotonic() < deadline:
        time.sleep(0.2)
        dataset.refresh_from_db()
    assert (dataset.status, dataset.rows_kept, dataset.error) == ("ready", 300, "")


# --- the kill test: SIGKILL a worker process mid-job, start another ---------------------------

SEED = """
from tests.scoring.killkit import seed
print("JOB", seed({rows}))
"""


def _worker_env(tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "creditportal.settings",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "CREDITPORTAL_BATCH_CHUNK_ROWS": "1000",
        "CREDITPORTAL_BATCH_SCORING_PROCESSES": "2",
        "CREDITPORTAL_JOB_STALE_SECONDS": "600",  # recovery must come from the dead pid
        "PYTHONUNBUFFERED": "1",
    }
    if not settings.REDIS_URL:
        options = celery_app.conf.broker_transport_options
        env["CELERY_BROKER_DIR"] = str(Path(options["data_folder_in"]).parent)
    if connection.vendor == "sqlite":
        env["CREDITPORTAL_VAR_DIR"] = str(tmp_path)  # a file database both workers share
        env.pop("DATABASE_URL", None)
    else:
        database = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        )
    return env


class JobTable:
    """Reads the worker's database: the SQLite file, or the test database on PostgreSQL."""

    def __init__(self, tmp_path: Path):
        self.sqlite = tmp_path / "db.sqlite3" if connection.vendor == "sqlite" else None

    def one(self, sql: str, *params):
        if self.sqlite:
            with sqlite3.connect(self.sqlite, timeout=20) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchone()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def job(self, job_id: int) -> dict:
        columns = ("status", "rows_done", "rows_total", "rows_valid", "rows_invalid", "attempts")
        row = self.one(
            f"SELECT {', '.join(columns)}, error FROM scoring_batchscoringjob WHERE id = %s",
            job_id,
        )
        return dict(zip((*columns, "error"), row, strict=True))


def _start_worker(env: dict, log: Path, *pool: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "creditportal", "worker", *(pool or ["-P", "solo"])]
        + ["--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group of its own, as under a service manager
    )


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whichever process adopted it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _seed_job(tmp_path: Path, env: dict, rows: int) -> int:
    """A database the worker subprocesses share, with a queued bulk job of `rows` rows."""
    purge_broker()  # before seeding: the seed publishes this test's own job
    run = {"cwd": REPO, "env": env, "capture_output": True, "text": True, "timeout": 120}
    if connection.vendor == "sqlite":
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
        assert migrated.returncode == 0, migrated.stderr[-2000:]
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED.format(rows=rows)], **run
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    return int(seeded.stdout.split("JOB", 1)[1].split()[0])


def _wait_until_finished(table: "JobTable", job_id: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = table.job(job_id)
        if state["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    return state


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_worker_pools_score_a_bulk_job_in_scoring_processes(tmp_path, pool):
    """Production runs Celery's default prefork pool, whose processes multiprocessing takes
    for daemons, and `make run` the threads pool, where a job's thread forks: both must
    start a job's scoring processes."""
    rows = 3_000
    env = _worker_env(tmp_path)
    job_id = _seed_job(tmp_path, env, rows)
    log = tmp_path / "workers.log"
    worker = _start_worker(env, log, "-P", pool, "--concurrency", "2")
    try:
        state = _wait_until_finished(JobTable(tmp_path), job_id, timeout=90)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert state["status"] == "succeeded", (state, log.read_text()[-3000:])
    assert (state["rows_valid"], state["rows_invalid"]) == (rows - len(INVALID), len(INVALID))


def test_sigterm_to_the_workers_group_lets_the_job_finish(tmp_path):
    """A service manager stopping the worker sends SIGTERM to every process of its group:
    the worker finishes its job (Celery's warm shutdown), so its scorers must too."""
    rows = 12_000
    env = _worker_env(tmp_path)
    job_id = _seed_job(tmp_path, env, rows)
    table = JobTable(tmp_path)
    log = tmp_path / "workers.log"
    worker = _start_worker(env, log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and table.job(job_id)["rows_done"] < 2000:
            time.sleep(0.05)
        assert len(_children(worker.pid)) == 2
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    state = table.job(job_id)
    assert state["status"] == "succeeded", (state, log.read_text()[-3000:])
    assert (state["rows_valid"], state["rows_invalid"]) == (rows - len(INVALID), len(INVALID))
    assert state["attempts"] == 1


def test_killed_worker_job_resumes_without_losing_or_duplicating_predictions(tmp_path):
    rows, invalid_rows = 24_000, len(INVALID)
    env = _worker_env(tmp_path)
    job_id = _seed_job(tmp_path, env, rows)
    table = JobTable(tmp_path)
    log = tmp_path / "workers.log"

    first = _start_worker(env, log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = table.job(job_id)
            if state["rows_done"] >= 3000 or state["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        scorers = _children(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = table.job(job_id)
    assert killed_at["status"] == "running", (killed_at, log.read_text()[-3000:])
    # The job's two scoring processes do not outlive their worker.
    assert len(scorers) == 2, scorers
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_running, scorers)):
        time.sleep(0.1)
    assert not any(map(_running, scorers)), scorers
    assert 3000 <= killed_at["rows_done"] < rows, killed_at
    assert killed_at["attempts"] == 1

    second = _start_worker(env, log)
    try:
        state = _wait_until_finished(table, job_id, timeout=90)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert state["status"] == "succeeded", (state, log.read_text()[-3000:])
    assert state["attempts"] == 2
    assert (state["rows_total"], state["rows_valid"], state["rows_invalid"]) == (
        rows,
        rows - invalid_rows,
        invalid_rows,
    )
    count, distinct = table.one(
        "SELECT COUNT(*), COUNT(DISTINCT row_number) FROM scoring_prediction "
        "WHERE batch_job_id = %s",
        job_id,
    )
    assert count == distinct == rows - invalid_rows
    (errors,) = table.one(
        "SELECT COUNT(DISTINCT row_number) FROM scoring_batchrowerror WHERE job_id = %s", job_id
    )
    assert errors == invalid_rows
    print(f"killed at row {killed_at['rows_done']} of {rows}; resumed to {count} predictions")
