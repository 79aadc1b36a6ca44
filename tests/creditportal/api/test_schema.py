"""The OpenAPI schema, the offline docs, and a bounded property-based run of schemathesis
against the live schema: no 5xx, and every response conforms to the schema."""

import itertools
import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from creditportal.api.tokens import api_token_issue
from scoring.services.decisions import decision_create
from tests.factories import ApplicationFactory

# Few examples per operation, no coverage or stateful phases: the whole run stays well under
# a minute. Positive and negative data both: invalid bodies and parameters must be 4xx.
SCHEMATHESIS_CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": 6,
            "mode": "all",
            "deterministic": True,
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_schema_is_served(officer_api, db):
    response = officer_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema == generated_schema()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/applicants/",
        "/api/v1/applications/{id}/score/",
        "/api/v1/predictions/",
        "/api/v1/decisions/",
        "/api/v1/scorecards/{key}/",
        "/api/v1/scorecards/card_default/score/",
        "/api/v1/model-versions/{id}/promote/",
        "/api/v1/model-promotions/",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    # The stateless request body is derived from the scorecard's fields.
    card = components["CardDefaultInputsRequest"]
    assert card["properties"]["limit_bal"]["minimum"] == 10000
    assert "limit_bal" in card["required"] and "marriage" in card["required"]
    prediction = components["Prediction"]["properties"]
    assert {"probabilities", "points", "band", "recommendation", "reasons", "segment"} <= set(
        prediction
    )
    assert set(components["Error"]["properties"]["error"]["properties"]) == {
        "code",
        "message",
        "fields",
    }
    score = paths["/api/v1/scorecards/card_default/score/"]["post"]
    assert set(score["responses"]) >= {"201", "400", "401", "403", "404", "409", "429"}


def test_docs_are_served_offline(officer_client, db):
    response = officer_client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "drf_spectacular_sidecar" in page  # assets from our own static files
    assert "cdn" not in page.lower() and "https://" not in page
    # Its start-up script is a file of this site (the Content-Security-Policy allows no other).
    assert "<script>" not in page.replace(" ", "")


def generated_schema() -> dict:
    """The schema exactly as /api/schema/ serves it (test_schema_is_served checks they match),
    generated without a request so that it can be read while tests are collected."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# Generated requests go to Django's WSGI app in the test's thread, inside each test.
WSGI_APP = WSGIHandler()
schema = schemathesis.openapi.from_dict(generated_schema(), config=SCHEMATHESIS_CONFIG)


@pytest.fixture
def api_data(manager, officer, application, prediction, production_model, monkeypatch):
    """A manager's token (sees every object), rows for half of the generated ids to hit, no
    throttling, and the test's database connection kept open between requests (as Django's
    own test client does)."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    draft = ApplicationFactory(applicant=application.applicant, status="draft", inputs={})
    decision = decision_create(
        application=application, outcome=prediction.recommendation, by=officer
    )
    known_ids = {
        "applicants": application.applicant_id,
        "applications": draft.pk,
        "predictions": prediction.pk,
        "decisions": decision.pk,
        "model-versions": production_model.pk,
        "scorecards": "card_default",
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        token = api_token_issue(user=manager, client="schemathesis")
        yield {
            "headers": {"Authorization": f"Token {token.secret}"},
            "known_ids": known_ids,
            "calls": itertools.count(),
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, api_data):
    # Every other generated id is swapped for an existing row's, so that the success paths
    # are exercised as well as the 404s.
    resource = case.path.split("/")[3]
    parameters = case.path_parameters or {}
    name = next((name for name in ("id", "key") if name in parameters), None)
    if name and resource in api_data["known_ids"] and next(api_data["calls"]) % 2 == 0:
        parameters[name] = str(api_data["known_ids"][resource])
    case.call_and_validate(app=WSGI_APP, headers=api_data["headers"], checks=CHECKS)


def test_every_kind_of_prediction_conforms_to_the_schema(
    manager, officer, prediction, production_model, api_data
):
    """Portal, API and bulk predictions, and a bulk prediction stored before bulk reasons
    carried their value and contribution: each served body matches the schema."""
    from scoring.models import Prediction
    from scoring.services import bulk_scoring
    from scoring.services.predictions import prediction_create_stateless
    from tests.factories import valid_inputs
    from tests.scoring.jobkit import card_default_csv, upload

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(4, invalid={})), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    bulk = Prediction.objects.filter(batch_job=job).first()
    stateless = prediction_create_stateless(
        scorecard_key="card_default",
        inputs=valid_inputs("card_default"),
        requested_by=officer,
        source=Prediction.Source.API,
    )
    fields = [
        f.name for f in Prediction._meta.concrete_fields if f.name not in ("id", "created_at")
    ]
    legacy_values = {name: getattr(bulk, name) for name in fields}
    legacy_values.update(
        row_number=bulk.row_number + 100,
        reasons=[
            {
                "field": r["field"],
                "label": r["label"],
                "direction": r["direction"],
                "sentence": f"{r['label']} {r['direction']} the risk.",
            }
            for r in bulk.reasons
        ],
    )
    legacy = Prediction.objects.create(**legacy_values)
    operation = schema["/api/v1/predictions/{id}/"]["GET"]
    for stored in (prediction, stateless, bulk, legacy):
        case = operation.Case(path_parameters={"id": stored.pk})
        response = case.call_and_validate(app=WSGI_APP, headers=api_data["headers"], checks=CHECKS)
        assert response.status_code == 200
        assert all(
            {"value", "contribution"} <= set(reason) for reason in response.json()["reasons"]
        )
