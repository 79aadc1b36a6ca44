"""Type confusion: values that Python would take for numbers or categories and a bank's
reviewer would not. JSON `true` was accepted as the code 1 of a category, full-width and
Arabic-Indic digits were read as numbers (Python's float() reads them), and unknown fields
of the API were dropped without a word. One validator (`ml.schema`) decides for the portal,
the API and bulk files alike."""

import io

import pandas as pd
import pytest
from django.urls import reverse

from ml.cleaning import validate_frame
from ml.schema import FieldKind, validate_inputs
from ml.scorecards import SCORECARDS
from tests.apikit import assert_error
from tests.factories import valid_inputs

SCORE_URL = "/api/v1/scorecards/card_default/score/"

NOT_NUMBERS = {
    "１２３": "0-9",  # full-width
    "١٢٣": "0-9",  # Arabic-Indic
    "۱۲۳": "0-9",  # Extended Arabic-Indic (Persian)
    "१२३": "0-9",  # Devanagari
    "Infinity": "finite",
    "-inf": "finite",
    "1_000": "number",
    "0x10": "number",
}
ALL_FIELDS = [
    pytest.param(card, field, id=f"{card.key}.{field.name}")
    for card in SCORECARDS.values()
    for field in card.fields
]


def _error(card, field, raw) -> str:
    result = validate_inputs(card, {field.name: raw}, partial=True)
    assert field.name in result.errors, (field.name, raw, result.values[field.name])
    assert result.values[field.name] is None
    return result.errors[field.name][0]


@pytest.mark.parametrize(("card", "field"), ALL_FIELDS)
def test_json_true_and_false_are_only_yes_or_no(card, field):
    for raw in (True, False):
        if field.kind == FieldKind.BOOLEAN:
            assert validate_inputs(card, {field.name: raw}, partial=True).is_valid
        else:
            _error(card, field, raw)


@pytest.mark.parametrize(("card", "field"), ALL_FIELDS)
def test_lists_and_objects_are_not_values_of_a_single_field(card, field):
    values = [{"a": 1}, [True], [1]]
    if field.kind != FieldKind.MULTI_CATEGORICAL:
        values += [["1"], []]
    for raw in values:
        _error(card, field, raw)


NUMBER_FIELDS = [
    p for p in ALL_FIELDS if p.values[1].kind in (FieldKind.NUMERIC, FieldKind.INTEGER)
]


@pytest.mark.parametrize(("card", "field"), NUMBER_FIELDS)
@pytest.mark.parametrize(("raw", "rule"), NOT_NUMBERS.items())
def test_numbers_are_written_with_the_digits_0_to_9(card, field, raw, rule):
    message = _error(card, field, raw)
    assert rule in message, message


@pytest.mark.parametrize(("card", "field"), NUMBER_FIELDS)
@pytest.mark.parametrize("raw", ["1e309", "9" * 400, 10**400, -(10**400)])
def test_numbers_too_large_for_a_float_are_range_errors(card, field, raw):
    assert "too large" in _error(card, field, raw) or "smaller" in _error(card, field, raw)


def test_minus_zero_is_zero():
    card = SCORECARDS["card_default"]
    value = validate_inputs(card, {"pay_amt1": "-0"}, partial=True).values["pay_amt1"]
    assert value == 0 and str(value) == "0"
    value = validate_inputs(
        SCORECARDS["credit_score"], {"changed_credit_limit": -0.0}, partial=True
    )
    assert str(value.values["changed_credit_limit"]) == "0.0"


def test_a_refused_value_is_not_echoed_in_full():
    card = SCORECARDS["card_default"]
    message = validate_inputs(card, {"education": "x" * 100_000}, partial=True).errors["education"]
    assert len(message[0]) < 300


def test_bulk_rows_follow_the_same_rule():
    card = SCORECARDS["card_default"]
    rows = [{**valid_inputs("card_default"), "limit_bal": raw} for raw in ("１２３４５", "50000")]
    frame = pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False)), dtype=str)
    _, errors = validate_frame(card, frame)
    assert list(errors) == [1]
    assert "0-9" in errors[1]["limit_bal"][0]


def test_unknown_inputs_are_named():
    card = SCORECARDS["card_default"]
    result = validate_inputs(card, {**valid_inputs("card_default"), "limit_balance": 5})
    assert result.errors == {"limit_balance": ["Unknown field."]}


# --- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "raw", "rule"),
    [
        ("limit_bal", "５００００", "0-9"),
        ("limit_bal", "٥٠٠٠٠", "0-9"),
        ("limit_bal", True, "number"),
        ("limit_bal", "Infinity", "finite"),
        ("education", True, "Must be one of"),
        ("sex", False, "Must be one of"),
    ],
)
def test_the_api_refuses_them_by_name(officer_api, production_model, name, raw, rule):
    response = officer_api.post(
        SCORE_URL, {**valid_inputs("card_default"), name: raw}, format="json"
    )
    error = assert_error(response, 400, "validation_error", fields=[name])
    assert rule in error["fields"][name][0]


@pytest.mark.django_db
def test_the_api_names_unknown_inputs(officer_api, production_model):
    body = {**valid_inputs("card_default"), "limitbal": 1, "owner": 3}
    error = assert_error(officer_api.post(SCORE_URL, body, format="json"), 400, "validation_error")
    assert error["fields"] == {"limitbal": ["Unknown field."], "owner": ["Unknown field."]}


@pytest.mark.django_db
def test_an_applications_unknown_inputs_are_named_under_inputs(officer_api, applicant):
    body = {
        "applicant": applicant.pk,
        "scorecard": "card_default",
        "requested_amount": "1000",
        "term_months": 12,
        "inputs": {"limit_bal": 50000, "limitbal": 1},
    }
    error = assert_error(officer_api.post("/api/v1/applications/", body, format="json"), 400)
    assert error["fields"] == {"inputs.limitbal": ["Unknown field."]}


# --- the portal -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("raw", "rule"), [("５００００", "0-9"), ("Infinity", "finite")])
def test_the_portal_form_shows_the_rule_next_to_the_field(officer_client, applicant, raw, rule):
    url = reverse("applicants:application_create", args=[applicant.pk])
    data = {"product": "card_default", "requested_amount": "1000", "term_months": "12"}
    response = officer_client.post(url, {**data, "limit_bal": raw})
    assert response.status_code == 200
    errors = response.context["inputs_form"].errors
    assert rule in errors["limit_bal"][0]
    assert rule in response.content.decode().split('id="id_limit_bal"')[1].split("</div>")[0] or (
        errors["limit_bal"][0].split(" (got")[0] in response.content.decode()
    )


# --- unknown fields of every write operation ------------------------------------------------

UNKNOWN = "zzz_unknown"
# Every POST/PUT/PATCH of the API (test_the_table_lists_every_write_operation keeps it whole),
# with the body format it takes.
WRITE_OPERATIONS = {
    ("POST", "/api/v1/applicants/"): "json",
    ("PUT", "/api/v1/applicants/{id}/"): "json",
    ("PATCH", "/api/v1/applicants/{id}/"): "json",
    ("POST", "/api/v1/applicants/{id}/archive/"): "json",
    ("POST", "/api/v1/applicants/{id}/reassign/"): "json",
    ("POST", "/api/v1/applications/"): "json",
    ("PUT", "/api/v1/applications/{id}/"): "json",
    ("PATCH", "/api/v1/applications/{id}/"): "json",
    ("POST", "/api/v1/applications/{id}/outcome/"): "json",
    ("POST", "/api/v1/applications/{id}/reopen/"): "json",
    ("POST", "/api/v1/applications/{id}/score/"): "json",
    ("POST", "/api/v1/applications/{id}/submit/"): "json",
    ("POST", "/api/v1/auth/token/"): "json",
    ("POST", "/api/v1/batch-jobs/"): "multipart",
    ("POST", "/api/v1/batch-jobs/{id}/cancel/"): "json",
    ("POST", "/api/v1/decisions/"): "json",
    ("POST", "/api/v1/declarations/"): "json",
    ("POST", "/api/v1/model-versions/{id}/promote/"): "json",
    ("POST", "/api/v1/scorecard-drafts/"): "multipart",
    ("POST", "/api/v1/scorecard-drafts/{id}/save/"): "json",
    ("POST", "/api/v1/scorecard-drafts/{id}/train/"): "json",
    ("POST", "/api/v1/scorecards/card_default/score/"): "json",
    ("POST", "/api/v1/scorecards/credit_score/score/"): "json",
    ("POST", "/api/v1/scorecards/german_credit/score/"): "json",
    ("POST", "/api/v1/training-datasets/"): "multipart",
    ("POST", "/api/v1/training-datasets/export-outcomes/"): "json",
    ("POST", "/api/v1/training-jobs/"): "json",
    ("POST", "/api/v1/training-jobs/{id}/cancel/"): "json",
}


def test_the_table_lists_every_write_operation():
    from tests.creditportal.api.test_schema import generated_schema

    operations = {
        (method.upper(), path)
        for path, item in generated_schema()["paths"].items()
        for method in item
        if method in ("post", "put", "patch")
    }
    assert operations == set(WRITE_OPERATIONS)


@pytest.fixture
def object_ids(manager, application, production_model, task_queue):
    from scoring.services import builder, bulk_scoring, training
    from tests.scoring.jobkit import card_default_csv, upload

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(2)), owner=manager
    )
    training_job = training.training_job_create(scorecard_key="card_default", by=manager)
    draft = builder.scorecard_draft_create(
        upload=upload(card_default_csv(2), "loans.csv"), by=manager
    )
    return {
        "scorecard-drafts": draft.pk,
        "applicants": application.applicant_id,
        "applications": application.pk,
        "batch-jobs": job.pk,
        "training-jobs": training_job.pk,
        "model-versions": production_model.pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), list(WRITE_OPERATIONS))
@pytest.mark.parametrize("extra", [{UNKNOWN: 1}, {"id": 7, "status": "decided", "owner": 1}])
def test_every_write_operation_names_unknown_fields(manager_api, object_ids, method, path, extra):
    """Read-only attributes of a resource (`id`, `status`, `owner`) are not inputs either."""
    from rest_framework.test import APIClient

    resource = path.split("/")[3]
    url = path.replace("{id}", str(object_ids.get(resource, 0)))
    client = APIClient() if path.endswith("/token/") else manager_api
    body_format = WRITE_OPERATIONS[(method, path)]
    body = (
        {key: str(value) for key, value in extra.items()} if body_format == "multipart" else extra
    )
    response = getattr(client, method.lower())(url, body, format=body_format)
    unknown = [name for name in extra if not (path.endswith("/reassign/") and name == "owner")]
    error = assert_error(response, 400, "validation_error", fields=unknown)
    for name in unknown:
        assert error["fields"][name] == ["Unknown field."], error


def test_the_schema_says_bodies_take_no_other_keys():
    from tests.creditportal.api.test_schema import generated_schema

    schema = generated_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                component = schema["components"]["schemas"][name]
                assert component["additionalProperties"] is False, (method, path)
