"""Fuzz: no input, however hostile, gives a server error, on any endpoint or form.

Two deterministic runs, the same on every machine and in CI:

- the API, from its OpenAPI schema: schemathesis with a fixed seed and no example database,
  positive and negative data, as a loan officer and as a credit manager, checking only that
  nothing answers 5xx (conformance is `tests/creditportal/api/test_schema.py`'s business);
- the portal: every form of the site (one table below), each field in turn given each value of
  a hostile corpus (the one the sweep of issue 13 used, and more) with the other fields valid,
  as an officer and as a manager; and every upload, given hostile files.
"""

import codecs
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from creditportal.api.tokens import api_token_issue
from scoring.services import bulk_scoring, training
from scoring.services.decisions import decision_create
from scoring.services.predictions import prediction_create
from tests.apikit import client_for
from tests.creditportal.api.test_schema import WSGI_APP, generated_schema
from tests.factories import ApplicationFactory, valid_inputs
from tests.scoring.jobkit import card_default_csv, upload

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# --- the API, from its schema ---------------------------------------------------------------

# 25 examples per operation and role: about two and a half minutes for both roles on one core.
FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": 25,
            "mode": "all",
            "deterministic": True,
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
api_schema = schemathesis.openapi.from_dict(generated_schema(), config=FUZZ_CONFIG)


@pytest.fixture(params=["officer", "manager"])
def fuzz_api(request, officer, manager, application, prediction, production_model, monkeypatch):
    """A token of the role, its own rows for half of the generated ids, no throttling, the
    test's connection kept open between requests (as Django's test client does)."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    user = officer if request.param == "officer" else manager
    draft = ApplicationFactory(applicant=application.applicant, status="draft", inputs={})
    known_ids = {
        "applicants": application.applicant_id,
        "applications": draft.pk,
        "predictions": prediction.pk,
        "model-versions": production_model.pk,
        "scorecards": "card_default",
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "headers": {
                "Authorization": f"Token {api_token_issue(user=user, client='fuzz').secret}"
            },
            "known_ids": known_ids,
            "calls": itertools.count(),
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@api_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_api_operation_answers_5xx(case, fuzz_api):
    resource = case.path.split("/")[3]
    parameters = case.path_parameters or {}
    name = next((name for name in ("id", "key") if name in parameters), None)
    if name and resource in fuzz_api["known_ids"] and next(fuzz_api["calls"]) % 2 == 0:
        parameters[name] = str(fuzz_api["known_ids"][resource])
    case.call_and_validate(app=WSGI_APP, headers=fuzz_api["headers"], checks=[not_a_server_error])


# --- the portal's forms ---------------------------------------------------------------------

HOSTILE = {
    "huge integer": "9" * 400,
    "minus zero": "-0",
    "overflowing float": "1e309",
    "NaN": "NaN",
    "infinity": "Infinity",
    "full-width digits": "１２３",
    "Arabic-Indic digits": "١٢٣",
    "nested brackets": "[" * 100_000 + "]" * 100_000,
    "NUL": "a\x00b",
    "carriage return formula": "note\r=cmd|' /C calc'!A0",
    "bidi override": "\u202egnp.exe\u202c",
    "zero-width": "a\u200bb\ufeff",
    "very long": "x" * 100_000,
    "SQL": "1' OR '1'='1'; DROP TABLE auth_user; --",
    "path traversal": "../../../../etc/passwd",
    "JSON true": "true",
    "empty": "",
    "whitespace": " \t\r\n ",
    "first day": "0001-01-01",
    "far future": "2999-12-31",
    "no such date": "2023-02-30",
    "mathtext": "$\\frac{$",
    "template": "{{ settings.SECRET_KEY }}{% debug %}",
    "html": "<script>alert(1)</script>",
    "absolute url": "https://evil.example/",
}
# A body whose bytes are not UTF-8 at all, sent as it is.
NOT_UTF8 = b"%FF%FE%00%C3%28"


@dataclass(frozen=True)
class PortalForm:
    """One form of the portal: where it posts (or, for a filter form, what it GETs), its
    fields, and a valid submission to start from."""

    url: Callable[[dict], str]
    fields: tuple[str, ...]
    valid: Callable[[dict], dict] = lambda ids: {}
    method: str = "post"
    files: tuple[str, ...] = field(default=())


def _url(name: str, key: str | None = None) -> Callable[[dict], str]:
    return lambda ids: reverse(name, args=[ids[key]] if key else [])


def _application_data(ids: dict) -> dict:
    return {
        "product": "card_default",
        "requested_amount": "1000",
        "term_months": "12",
        **{name: str(value) for name, value in valid_inputs("card_default").items()},
    }


# A number, a category and a whole number of the scorecard: the same validator checks all.
SCORECARD_INPUTS = ("limit_bal", "education", "age")

PORTAL_FORMS = {
    "login": PortalForm(
        lambda ids: reverse("login"),
        ("username", "password", "next"),
        lambda ids: {"username": "nobody", "password": "wrong"},
    ),
    "applicant create": PortalForm(
        _url("applicants:create"),
        ("full_name", "external_reference", "date_of_birth", "email", "phone", "national_id"),
        lambda ids: {"full_name": "Ada Lovelace", "external_reference": "FUZZ-1"},
    ),
    "applicant edit": PortalForm(
        _url("applicants:edit", "applicant"),
        ("full_name", "external_reference", "date_of_birth", "email", "phone", "national_id"),
        lambda ids: {"full_name": "Ada Lovelace", "external_reference": "FUZZ-2"},
    ),
    "applicant archive": PortalForm(_url("applicants:archive", "applicant"), ("archived",)),
    "applicant reassign": PortalForm(
        _url("applicants:reassign", "applicant"),
        ("owner",),
        lambda ids: {"owner": str(ids["officer"])},
    ),
    "application create": PortalForm(
        lambda ids: reverse("applicants:application_create", args=[ids["applicant"]]),
        ("product", "requested_amount", "term_months", "purpose", "submit", *SCORECARD_INPUTS),
        _application_data,
    ),
    "application edit": PortalForm(
        _url("applicants:application_edit", "draft"),
        ("requested_amount", "term_months", "purpose", "submit", *SCORECARD_INPUTS),
        _application_data,
    ),
    "application submit": PortalForm(_url("applicants:application_submit", "draft"), ("x",)),
    "score": PortalForm(_url("scoring:application_score", "scored"), ("x",)),
    "decision": PortalForm(
        _url("scoring:application_decide", "scored"),
        ("prediction", "outcome", "note"),
        lambda ids: {"prediction": str(ids["prediction"]), "outcome": "approve", "note": "ok"},
    ),
    "reopen": PortalForm(
        _url("scoring:application_reopen", "decided"), ("reason",), lambda ids: {"reason": "r"}
    ),
    "outcome": PortalForm(
        _url("scoring:application_outcome", "decided"),
        ("outcome_class", "note"),
        lambda ids: {"outcome_class": "default", "note": ""},
    ),
    "promote": PortalForm(
        _url("scoring:model_version_promote", "model_version"),
        ("reason",),
        lambda ids: {"reason": "better"},
    ),
    "batch cancel": PortalForm(_url("scoring:batch_job_cancel", "batch_job"), ("x",)),
    "training job start": PortalForm(
        _url("scoring:training_job_start"),
        ("scorecard", "dataset", "search"),
        lambda ids: {"scorecard": "card_default"},
    ),
    "training job cancel": PortalForm(_url("scoring:training_job_cancel", "training_job"), ("x",)),
    "outcomes export": PortalForm(
        _url("scoring:training_dataset_export"), ("scorecard",), lambda ids: {"scorecard": "x"}
    ),
    "scorecard settings": PortalForm(
        lambda ids: reverse("scoring:scorecard_settings_update", args=["card_default"]),
        training.SETTINGS_FIELDS,
    ),
    "profile compute": PortalForm(_url("dashboard:profile_compute", "model_version"), ("next",)),
    "snapshot": PortalForm(
        lambda ids: reverse("dashboard:snapshot_take", args=["card_default"]), ("next",)
    ),
    "insights compute": PortalForm(
        lambda ids: reverse("dashboard:insights_compute", args=["card_default"]),
        ("dataset", "next"),
    ),
    "batch upload": PortalForm(
        _url("scoring:batch_job_list"),
        ("scorecard",),
        lambda ids: {"scorecard": "card_default", "file": upload(card_default_csv(2))},
    ),
    "training upload": PortalForm(
        _url("scoring:training_dataset_upload"),
        ("scorecard",),
        lambda ids: {"scorecard": "card_default", "file": upload(card_default_csv(2))},
    ),
    # Filter and view forms (GET).
    "applicant filters": PortalForm(
        _url("applicants:list"), ("q", "status", "product", "archived", "page"), method="get"
    ),
    "application filters": PortalForm(
        _url("applicants:application_list"),
        ("q", "status", "product", "owner", "ordering", "page"),
        method="get",
    ),
    "application product": PortalForm(
        lambda ids: reverse("applicants:application_create", args=[ids["applicant"]]),
        ("product",),
        method="get",
    ),
    "dashboard home": PortalForm(_url("dashboard:home"), ("months", "csv"), method="get"),
    "portfolio": PortalForm(_url("dashboard:portfolio"), ("months", "by", "csv"), method="get"),
    "model report": PortalForm(
        _url("dashboard:model_report", "model_version"), ("compare", "csv"), method="get"
    ),
    "fairness": PortalForm(_url("dashboard:fairness", "model_version"), ("csv",), method="get"),
    "monitoring": PortalForm(
        lambda ids: reverse("dashboard:monitoring", args=["card_default"]), ("csv",), method="get"
    ),
    "insights": PortalForm(
        lambda ids: reverse("dashboard:insights", args=["card_default"]),
        ("insight", "feature", "csv"),
        method="get",
    ),
    "batch jobs page": PortalForm(_url("scoring:batch_job_list"), ("page",), method="get"),
    "model versions": PortalForm(_url("scoring:model_version_list"), ("page",), method="get"),
}


@pytest.fixture
def portal_ids(officer, manager, applicant, production_model, task_queue):
    """A row of every kind a form acts on, owned by the officer (managers see them all)."""
    draft = ApplicationFactory(applicant=applicant, status="draft", inputs={})
    scored = ApplicationFactory(applicant=applicant, status="submitted")
    prediction = prediction_create(application=scored, requested_by=officer)
    decided = ApplicationFactory(applicant=applicant, status="submitted")
    decided_prediction = prediction_create(application=decided, requested_by=officer)
    decision_create(application=decided, outcome=decided_prediction.recommendation, by=officer)
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(2)), owner=officer
    )
    training_job = training.training_job_create(scorecard_key="credit_score", by=manager)
    return {
        "officer": officer.pk,
        "applicant": applicant.pk,
        "draft": draft.pk,
        "scored": scored.pk,
        "prediction": prediction.pk,
        "decided": decided.pk,
        "model_version": production_model.pk,
        "batch_job": job.pk,
        "training_job": training_job.pk,
    }


def _client_as(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("form_name", list(PORTAL_FORMS))
def test_no_portal_form_answers_5xx(portal_ids, officer, manager, form_name):
    """Each field with each hostile value, the others valid, as an officer and a manager."""
    form = PORTAL_FORMS[form_name]
    url = form.url(portal_ids)
    failures = []
    for role, user in (("officer", officer), ("manager", manager)):
        client = _client_as(None if form_name == "login" else user)
        for name, (label, value) in itertools.product(form.fields, HOSTILE.items()):
            data = {**form.valid(portal_ids), name: value}
            response = getattr(client, form.method)(url, data)
            if response.status_code >= 500:
                failures.append(f"{role}: {name} = {label}: {response.status_code}")
        if form.method == "post":  # bytes that are not UTF-8, as a browser could send them
            for name in form.fields:
                body = f"{name}=".encode() + NOT_UTF8
                response = client.generic(
                    "POST", url, body, content_type="application/x-www-form-urlencoded"
                )
                if response.status_code >= 500:
                    failures.append(f"{role}: {name} = not UTF-8: {response.status_code}")
    assert not failures, failures


def test_the_table_has_every_portal_form():
    """Every view that takes a POST is in the table (a new form is fuzzed from day one)."""
    from django.urls import get_resolver

    names = set()
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            namespace = getattr(pattern, "namespace", None)
            if getattr(sub, "name", None):
                names.add(f"{namespace}:{sub.name}" if namespace else sub.name)
    posting = {
        "applicants:create",
        "applicants:edit",
        "applicants:archive",
        "applicants:reassign",
        "applicants:application_create",
        "applicants:application_edit",
        "applicants:application_submit",
        "scoring:application_score",
        "scoring:application_decide",
        "scoring:application_reopen",
        "scoring:application_outcome",
        "scoring:model_version_promote",
        "scoring:batch_job_list",
        "scoring:batch_job_cancel",
        "scoring:training_dataset_upload",
        "scoring:training_dataset_export",
        "scoring:training_job_start",
        "scoring:training_job_cancel",
        "scoring:scorecard_settings_update",
        "dashboard:profile_compute",
        "dashboard:snapshot_take",
        "dashboard:insights_compute",
        "login",
    }
    assert posting <= names


# --- uploads --------------------------------------------------------------------------------


def _csv_text() -> str:
    return card_default_csv(3).decode()


HOSTILE_FILES = {
    "not UTF-8": lambda: _csv_text().encode("utf-8") + "Zoë,\xff\xfe\n".encode("latin-1"),
    "latin-1": lambda: _csv_text().replace("1", "é", 1).encode("latin-1"),
    "UTF-16": lambda: _csv_text().encode("utf-16"),
    "UTF-16 without BOM": lambda: _csv_text().encode("utf-16-le"),
    "only a BOM": lambda: codecs.BOM_UTF8,
    "only a UTF-16 BOM": lambda: codecs.BOM_UTF16_LE,
    "empty": lambda: b"",
    "10,000 columns": lambda: (
        (",".join(f"c{i}" for i in range(10_000)) + "\n").encode()
        + (",".join("1" for _ in range(10_000)) + "\n").encode()
    ),
    "NUL bytes": lambda: _csv_text().encode() + b"\x00" * 70_000 + b"\n",
    "binary": lambda: bytes(range(256)) * 64,
    "one long line": lambda: b"a" * 2_000_000,
    "header only": lambda: _csv_text().splitlines()[0].encode() + b"\n",
    "formula cells": lambda: _csv_text().replace("\n", "\n=1+1,", 1).encode(),
    "unbalanced quote": lambda: _csv_text().replace(",", ',"', 1).encode(),
    "nested brackets": lambda: b"[" * 100_000 + b"]" * 100_000,
}

UPLOADS = {
    "portal batch": ("portal", "scoring:batch_job_list"),
    "portal training": ("portal", "scoring:training_dataset_upload"),
    "API batch": ("api", "/api/v1/batch-jobs/"),
    "API training": ("api", "/api/v1/training-datasets/"),
}


HOSTILE_NAMES = ("../../etc/passwd", "a\x00b.csv", "\u202ecsv.exe", "x" * 300 + ".csv", ".csv")


def _post_file(kind: str, target: str, user, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"scorecard": "card_default", "file": SimpleUploadedFile(name, content, "text/csv")}
    if kind == "portal":
        return _client_as(user).post(reverse(target), data)
    return _api_client_of(user).post(target, data, format="multipart")


def _api_client_of(user):
    """One API client per user for the whole test (a user holds a limited number of tokens)."""
    if user.pk not in _API_CLIENTS:
        _API_CLIENTS[user.pk] = client_for(user)
    return _API_CLIENTS[user.pk]


_API_CLIENTS: dict = {}


@pytest.mark.parametrize("where", list(UPLOADS))
def test_no_upload_answers_5xx(officer, manager, production_model, task_queue, where):
    """Each hostile file, and a valid file under each hostile name, as both roles."""
    kind, target = UPLOADS[where]
    _API_CLIENTS.clear()
    failures = []
    for role, user in (("officer", officer), ("manager", manager)):
        for label, make in HOSTILE_FILES.items():
            response = _post_file(kind, target, user, "applicants.csv", make())
            if response.status_code >= 500:
                failures.append(f"{role}: {label}: {response.status_code}")
        for name in HOSTILE_NAMES:
            response = _post_file(kind, target, user, name, card_default_csv(2))
            if response.status_code >= 500:
                failures.append(f"{role}: named {name[:20]!r}: {response.status_code}")
    assert not failures, failures
