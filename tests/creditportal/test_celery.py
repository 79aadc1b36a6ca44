"""Tasks really travel through the configured broker to a worker: the embedded filesystem
broker by default, Redis when REDIS_URL is set (CI runs the suite both ways)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from creditportal.celery import app as celery_app
from creditportal.tasks import ping

pytestmark = pytest.mark.celery

REPO = Path(__file__).resolve().parents[2]


def test_round_trip_through_an_in_process_worker(celery_worker_thread):
    token = uuid.uuid4().hex
    answer = ping.delay(token).get(timeout=30)
    assert answer["token"] == token
    assert answer["database"] is True


def test_round_trip_through_a_separate_worker_process(transactional_db, tmp_path):
    """The same command `make run` starts: `celery -A creditportal worker`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "creditportal.settings"}
    if not settings.REDIS_URL:
        options = celery_app.conf.broker_transport_options
        env["CELERY_BROKER_DIR"] = str(Path(options["data_folder_in"]).parent)
    if connection.vendor == "sqlite":
        env["CREDITPORTAL_VAR_DIR"] = str(tmp_path)  # the worker's own SQLite file
    else:
        database = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "creditportal",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        token = uuid.uuid4().hex
        answer = ping.delay(token).get(timeout=60)
        assert answer["token"] == token
        assert answer["database"] is True
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output.decode()[-2000:]
