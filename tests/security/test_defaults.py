"""Secure by default: a deployment that sets nothing is a safe one, and every page says so in
its headers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]
# A deployment's environment: nothing that `make test` or a test of this run has set.
BARE_ENVIRONMENT = {
    **{name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ},
    "CREDITPORTAL_ENV_FILE": os.devnull,  # nor a developer's .env
}
# The other secret a deployment must set (national ids at rest), a Fernet key for tests only.
FIELD_KEYS = {"CREDITPORTAL_FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWRlcGxveW1lbnQta2V5LTMyYnl0ZSE="}
SETTINGS_SHOWN = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_IDLE_SECONDS",
    "MIDDLEWARE",
)


def run_django(code: str, **environment) -> subprocess.CompletedProcess:
    """`code` in a fresh Python with the settings of a deployment that set only
    `environment` (nothing the Makefile or this test run set for development)."""
    env = {**BARE_ENVIRONMENT, **environment, "DJANGO_SETTINGS_MODULE": "creditportal.settings"}
    prelude = "import django; django.setup(); from django.conf import settings; "
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_deployment_without_a_secret_key_refuses_to_start():
    started = run_django("print('started')")
    assert started.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in started.stderr and "started" not in started.stdout


def test_a_deployment_that_sets_only_its_key_is_production():
    shown = run_django(
        f"import json; print(json.dumps({{n: getattr(settings, n) for n in {SETTINGS_SHOWN}}}))",
        DJANGO_SECRET_KEY="k" * 20 + "-a-long-random-secret-key-for-this-test-only",
        **FIELD_KEYS,
    )
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_IDLE_SECONDS"] <= 3600
    assert "creditportal.middleware.IdleSessionTimeout" in values["MIDDLEWARE"]


def test_djangos_deployment_checks_are_clean_under_production_settings():
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={
            **BARE_ENVIRONMENT,
            "DJANGO_SECRET_KEY": "s3cr3t-" + "x7Yq2" * 10,
            "DJANGO_ALLOWED_HOSTS": "credit.example.com",
            **FIELD_KEYS,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.django_db
def test_pages_carry_the_security_headers(officer_client, applicant):
    response = officer_client.get(reverse("applicants:detail", args=[applicant.pk]))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]  # an applicant's personal data
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_api_bodies_are_not_stored_either(officer_api, applicant):
    response = officer_api.get(f"/api/v1/applicants/{applicant.pk}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_schema_and_docs_are_for_signed_in_clients(officer_client, url):
    from django.test import Client

    assert Client().get(url).status_code in (401, 403)
    assert officer_client.get(url).status_code == 200


def set_last_activity(client, seconds_ago: float) -> None:
    import time

    session = client.session
    session["last_activity"] = time.time() - seconds_ago
    session.save()


@pytest.mark.django_db
def test_an_idle_session_ends(officer_client, applicant, settings):
    page = reverse("applicants:detail", args=[applicant.pk])
    set_last_activity(officer_client, settings.SESSION_IDLE_SECONDS + 5)
    response = officer_client.get(page)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_an_active_session_still_ends_at_its_age(officer_client, applicant, settings):
    import time

    page = reverse("applicants:detail", args=[applicant.pk])
    assert officer_client.get(page).status_code == 200
    session = officer_client.session
    session["signed_in_at"] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    set_last_activity(officer_client, 1)  # busy a second ago
    response = officer_client.get(page)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_a_pages_own_polling_does_not_keep_a_session_alive(
    officer_client, officer, production_model, settings
):
    from scoring.services import bulk_scoring
    from tests.scoring.jobkit import card_default_csv, upload

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    progress = reverse("scoring:batch_job_progress", args=[job.pk])
    set_last_activity(officer_client, 120)
    before = officer_client.session["last_activity"]
    assert officer_client.get(progress, HTTP_X_BACKGROUND_POLL="1").status_code == 200
    assert officer_client.session["last_activity"] == before
    officer_client.get(reverse("scoring:batch_job_detail", args=[job.pk]))  # someone at work
    assert officer_client.session["last_activity"] > before


@pytest.mark.django_db
def test_the_token_answer_is_not_stored(officer):
    from rest_framework.test import APIClient

    password = "correct-horse-battery"  # tests.factories.UserFactory's
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": officer.username, "password": password}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
