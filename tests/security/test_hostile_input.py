"""Hostile input never gets a server error: each request below once answered 500."""

import json

import pytest
from django.urls import reverse

from tests.apikit import assert_error
from tests.factories import ApplicationFactory, OfficerFactory, valid_inputs

pytestmark = pytest.mark.django_db

SCORE_URL = "/api/v1/scorecards/card_default/score/"
HUGE = int("9" * 400)


def test_an_integer_of_hundreds_of_digits_is_a_range_error(officer_api, production_model):
    inputs = {**valid_inputs("card_default"), "limit_bal": HUGE}
    response = officer_api.post(SCORE_URL, inputs, format="json")
    error = assert_error(response, 400, "validation_error", fields=["limit_bal"])
    assert "too large" in error["fields"]["limit_bal"][0]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/predictions/?application={}",
        "/api/v1/predictions/?applicant={}",
        "/api/v1/predictions/?model_version={}",
        "/api/v1/decisions/?application={}",
        "/api/v1/applicants/?owner={}",
        "/api/v1/applications/?owner={}",
    ],
)
@pytest.mark.parametrize("value", [str(2**63), "9" * 30, "-1"])
def test_ids_beyond_the_database_range_are_refused_by_name(manager_api, url, value):
    response = manager_api.get(url.format(value))
    name = url.split("?")[1].split("=")[0]
    assert_error(response, 400, "validation_error", fields=[name])


@pytest.mark.parametrize("path", ["applicants:detail", "applicants:application_detail"])
def test_portal_ids_beyond_the_database_range_are_not_found(officer_client, path):
    url = reverse(path, args=[1]).replace("/1/", f"/{'9' * 30}/")
    assert officer_client.get(url).status_code == 404


def test_a_body_nested_a_hundred_thousand_deep_is_a_parse_error(officer_api, production_model):
    body = "[" * 100_000 + "]" * 100_000
    response = officer_api.post(SCORE_URL, body, content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize(
    "body",
    [
        '{"\\ud800": 1}',  # an unknown key the error would name
        '{"full_name": "Ann \\udfff", "external_reference": "R-1"}',
        '{"limit_bal": "\\ud83d"}',
    ],
)
@pytest.mark.parametrize("url", [SCORE_URL, "/api/v1/applicants/"])
def test_a_lone_surrogate_escape_is_a_parse_error(officer_api, production_model, url, body):
    response = officer_api.post(url, body, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_body_over_the_upload_limit_is_413(officer_api, production_model, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = json.dumps({**valid_inputs("card_default"), "pad": "x" * 3_000_000})
    response = officer_api.post(SCORE_URL, body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


def test_a_dashboard_form_with_a_next_that_names_nothing_goes_back_to_the_report(
    manager_client, production_model
):
    url = reverse("dashboard:profile_compute", args=[production_model.pk])
    response = manager_client.post(url, {"next": "foo"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:model_report", args=[production_model.pk])


def test_a_dollar_sign_in_an_officers_name_does_not_break_the_charts(
    manager_client, production_model
):
    """Matplotlib once read `$...$` in a label as mathematics and failed on `$\\frac{$`: the
    portfolio page was a 500 for every manager."""
    from scoring.services.decisions import decision_create
    from scoring.services.predictions import prediction_create

    officer = OfficerFactory(first_name="$\\frac{$", last_name="$x^$")
    application = ApplicationFactory(applicant__owner=officer)
    prediction_create(application=application, requested_by=officer)
    decision_create(application=application, outcome="decline", note="n", by=officer)
    response = manager_client.get(reverse("dashboard:portfolio"))
    assert response.status_code == 200
    assert "$\\frac{$" in response.content.decode()


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_user_name_longer_than_any_is_a_field_error_not_a_login_attempt(client, url):
    from axes.models import AccessAttempt

    response = client.post(url, {"username": "u" * 400, "password": "whatever"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # nothing authenticated, nothing recorded
