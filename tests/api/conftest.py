"""Fixtures of the API tests: token-authenticated clients per role, a scored application."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from creditportal.api import api_token_issue
from scoring.services import prediction_create


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Throttle counters live in the cache: each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


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


def assert_error(response, status: int, code: str | None = None, fields=None) -> dict:
    """The one error format: {"error": {"code", "message", "fields"}}, nothing internal."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    for name in fields or ():
        assert name in error["fields"], error
        assert all(isinstance(m, str) and m for m in error["fields"][name])
    text = response.content.decode()
    assert "Traceback" not in text and ".py" not in text and "site-packages" not in text
    return error


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in results(response)}
