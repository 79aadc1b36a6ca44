"""Fixtures shared by the whole suite: users in each role, applicants, a Celery worker."""

import dataclasses
import shutil
import tempfile
from pathlib import Path

import celery.app.task
import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import get_resolver
from rest_framework.test import APIClient

from applicants import scorecards
from creditportal.api.auth import forget_known_permissions
from creditportal.celery import app as celery_app
from ml.scorecards import get_scorecard, set_resolver
from ml.synthetic import synthetic_frame
from ml.train import train_scorecard
from scoring.services.predictions import prediction_create
from scoring.services.registry import model_version_promote_initial, model_version_register
from scoring.serving import forget_loaded_models
from tests.apikit import client_for
from tests.factories import (
    ApplicantFactory,
    ApplicationFactory,
    ManagerFactory,
    OfficerFactory,
    UserFactory,
    ensure_roles,
)

# Tests never share the developer's embedded broker folder: the Celery app reads its
# configuration from Django settings on first use, which has not happened yet here.
assert not celery_app.configured, "Celery was configured before the test settings were applied"
_TEST_BROKER_DIR = Path(tempfile.mkdtemp(prefix="creditportal-test-broker-"))
if not settings.REDIS_URL:
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_TEST_BROKER_DIR / "queue"),
        "data_folder_out": str(_TEST_BROKER_DIR / "queue"),
        "control_folder": str(_TEST_BROKER_DIR / "control"),
        "store_processed": False,
    }
    settings.CELERY_RESULT_BACKEND = f"file://{_TEST_BROKER_DIR / 'results'}"


# Test users need no real password hashing (PBKDF2 costs ~0.3 s a user).
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_TEST_BROKER_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Bulk jobs run in the test process score their chunks inline (a fault injected with
    # scoring.jobs.pipeline.inject_fault fires there); tests of the scoring processes ask
    # for them, and worker
    # subprocesses (the kill test, benchmarks) keep the machine's default.
    settings.BATCH_SCORING_PROCESSES = 1


@pytest.fixture(autouse=True)
def _role_groups_after_a_flush(request):
    """Transactional tests empty every table when they end, the role groups included (they
    come from data migrations); the next transactional test gets them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_roles()


@pytest.fixture
def officer(db):
    return OfficerFactory(username="officer_a")


@pytest.fixture
def other_officer(db):
    return OfficerFactory(username="officer_b")


@pytest.fixture
def manager(db):
    return ManagerFactory(username="manager_m")


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="nobody")


@pytest.fixture
def applicant(officer):
    return ApplicantFactory(owner=officer)


@pytest.fixture
def application(applicant):
    return ApplicationFactory(applicant=applicant)


@pytest.fixture
def other_applicant(other_officer):
    return ApplicantFactory(owner=other_officer)


@pytest.fixture
def other_application(other_applicant):
    return ApplicationFactory(applicant=other_applicant)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def purge_broker() -> None:
    """Drop messages earlier tests queued (a transactional test's on_commit really publishes),
    so a worker started now only sees the messages of its own test."""
    from creditportal.celery import ensure_broker_folders

    ensure_broker_folders()
    celery_app.control.purge()


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker consuming from the configured broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    purge_broker()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING") as w:
        yield w


# --- models: a small forest trained once per session on synthetic data ----------------------

SMALL_FOREST = {"n_estimators": 25, "min_samples_leaf": 5}


def _train(scorecard_key: str, seed: int):
    return _train_scorecard(get_scorecard(scorecard_key), seed)


def _train_scorecard(scorecard, seed: int):
    frame = synthetic_frame(scorecard, n=800, seed=seed)
    return train_scorecard(
        scorecard,
        frame,
        search=False,
        params=SMALL_FOREST,
        random_state=seed,
        synthetic=True,
        baselines=False,
        permutation=False,
    )


@pytest.fixture(scope="session")
def trained_card_default():
    return _train("card_default", seed=1)


@pytest.fixture(scope="session")
def trained_card_default_alt():
    return _train("card_default", seed=2)


# --- a scorecard added while the process runs -------------------------------------------------


@pytest.fixture(scope="session")
def lender_x_declaration():
    """A lender's own scorecard, "lender_x": german_credit's fields under another key."""
    return dataclasses.replace(get_scorecard("german_credit"), key="lender_x", label="Lender X")


@pytest.fixture(scope="session")
def trained_lender_x(lender_x_declaration):
    return _train_scorecard(lender_x_declaration, seed=3)


@pytest.fixture
def lender_x(db, lender_x_declaration):
    """ "lender_x" becomes a scorecard now, after start-up: no restart, no URLconf reloaded.
    Stored as a manager would (a declaration in the database); the URLconf is loaded first,
    as in a process that has served requests."""
    get_resolver().url_patterns  # noqa: B018 (imports every URL module, the API router's too)
    scorecards.declaration_store(document=lender_x_declaration.to_document())
    return get_scorecard("lender_x")


@pytest.fixture
def lender_x_model(db, lender_x, trained_lender_x):
    """A production model of lender_x, registered and promoted like any other."""
    version = model_version_register(result=trained_lender_x, training_data_description="test")
    model_version_promote_initial(version=version)
    version.refresh_from_db()
    return version


@pytest.fixture(autouse=True)
def _fresh_permissions_memo():
    """Each test's database reuses the ids (and permissions versions) of the one before."""
    forget_known_permissions()


def _resolve_without_database(key):
    try:
        return scorecards.resolve(key)
    except RuntimeError:  # pytest-django: "Database access not allowed"
        return None


def _catalogue_without_database():
    try:
        return scorecards.catalogue()
    except RuntimeError:
        return None


# A test (or a module being collected) that may not touch the database reads the shipped
# declarations, as a process whose database is not set up does. Set at import, before any
# test module is collected.
set_resolver(_resolve_without_database, catalogue=_catalogue_without_database)


@pytest.fixture(autouse=True)
def _fresh_scorecards():
    """Each test's database starts without the products an earlier test stored."""
    scorecards.forget()


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    forget_loaded_models()
    yield
    forget_loaded_models()


@pytest.fixture
def candidate(db, trained_card_default):
    return model_version_register(result=trained_card_default, training_data_description="test")


@pytest.fixture
def production_model(candidate):
    model_version_promote_initial(version=candidate)
    candidate.refresh_from_db()
    return candidate


# --- the task queue: publishing is the boundary tests patch ------------------------------------


class TaskQueue:
    """What the code under test published (task name, arguments), instead of a broker; or,
    after `down()`, the broker's refusal."""

    def __init__(self):
        self.published: list[tuple[str, tuple]] = []
        self.error: Exception | None = None

    def down(self) -> None:
        from kombu.exceptions import OperationalError

        self.error = OperationalError("Error 111 connecting to broker. Connection refused.")

    def up(self) -> None:
        self.error = None

    def args_of(self, task_name: str) -> list[tuple]:
        return [args for name, args in self.published if name == task_name]


@pytest.fixture(autouse=True)
def task_queue(request, monkeypatch):
    """Every test publishes into a TaskQueue, except the ones that run a real worker
    (marker `celery`), whose messages go to the real broker."""
    if request.node.get_closest_marker("celery"):
        yield None
        return
    queue = TaskQueue()

    def apply_async(task, args=None, kwargs=None, **options):
        if queue.error is not None:
            raise queue.error
        queue.published.append((task.name, tuple(args or ())))

    monkeypatch.setattr(celery.app.task.Task, "apply_async", apply_async)
    yield queue


# --- API clients ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached token users live in the cache: each test starts empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def officer_api(officer):
    return client_for(officer)


@pytest.fixture
def other_officer_api(other_officer):
    return client_for(other_officer)


@pytest.fixture
def manager_api(manager):
    return client_for(manager)


@pytest.fixture
def no_role_api(no_role_user):
    return client_for(no_role_user)


@pytest.fixture
def prediction(application, officer, production_model):
    return prediction_create(application=application, requested_by=officer)


@pytest.fixture
def other_prediction(other_application, other_officer, production_model):
    return prediction_create(application=other_application, requested_by=other_officer)
