"""One error format for every 4xx/5xx: the exception handler and the API's own 404."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework.test import APIRequestFactory

from creditportal.api.exceptions import api_exception_handler, flatten_errors
from creditportal.errors import ApplicationError
from tests.apikit import assert_error


def _handle(exc):
    request = APIRequestFactory().get("/api/v1/")
    return api_exception_handler(exc, {"request": request, "view": None})


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (
            DjangoValidationError({"age": ["Too young."], "__all__": ["Bad."]}),
            400,
            "validation_error",
        ),
        (DjangoValidationError("Just wrong."), 400, "validation_error"),
        (ApplicationError("Already decided."), 409, "conflict"),
        (
            ApplicationError("No model.", extra={"code": "no_production_model"}),
            409,
            "no_production_model",
        ),
        (PermissionDenied("Managers only."), 403, "permission_denied"),
        (PermissionDenied(), 403, "permission_denied"),
        (Http404("No such applicant."), 404, "not_found"),
        (RuntimeError("secret internal detail at /srv/app.py"), 500, "server_error"),
    ],
)
def test_handler_maps_every_exception_to_one_body(exc, status, code):
    response = _handle(exc)
    assert response.status_code == status
    error = response.data["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert "secret" not in error["message"]


def test_django_validation_error_fields():
    response = _handle(DjangoValidationError({"age": ["Too young."], "__all__": ["Bad."]}))
    assert response.data["error"]["fields"] == {"age": ["Too young."], "non_field_errors": ["Bad."]}
    response = _handle(DjangoValidationError("Just wrong."))
    assert response.data["error"] == {
        "code": "validation_error",
        "message": "Just wrong.",
        "fields": {"non_field_errors": ["Just wrong."]},
    }


def test_application_error_message_is_kept():
    response = _handle(ApplicationError("This application has already been decided."))
    assert response.data["error"]["message"] == "This application has already been decided."


def test_nested_errors_are_flattened_with_dots():
    assert flatten_errors({"inputs": {"age": ["Too young."]}, "tags": [{"name": ["Blank."]}]}) == {
        "inputs.age": ["Too young."],
        "tags.0.name": ["Blank."],
    }


def test_unknown_api_url_is_a_json_404(officer_api):
    assert_error(officer_api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error(officer_api.get("/api/v2/applicants/"), 404, "not_found")
    assert_error(officer_api.post("/api/v1/scorecards/unknown/score/", {}), 404, "not_found")


def test_method_not_allowed(officer_api, applicant):
    assert_error(
        officer_api.delete(f"/api/v1/applicants/{applicant.pk}/"), 405, "method_not_allowed"
    )


def test_malformed_json_is_a_parse_error(officer_api, db):
    response = officer_api.post(
        "/api/v1/applicants/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_unsupported_media_type(officer_api, db):
    response = officer_api.post("/api/v1/applicants/", data="a=b", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_invalid_page_is_a_404(officer_api, applicant):
    assert_error(officer_api.get("/api/v1/applicants/?page=99"), 404, "not_found")


def test_unexpected_error_is_a_logged_500_without_details(
    officer_api, applicant, monkeypatch, caplog
):
    from applicants import selectors

    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(selectors, "applicant_get_for_user", explode)
    response = officer_api.get(f"/api/v1/applicants/{applicant.pk}/")
    error = assert_error(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert error["fields"] == {}
    assert "hunter2" in caplog.text
