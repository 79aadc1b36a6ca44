"""Helpers of the API tests: a token-authenticated client, the one error format, list pages."""

import itertools

from rest_framework.test import APIClient

from creditportal.api.tokens import api_token_issue

_clients = itertools.count(1)


def client_for(user) -> APIClient:
    """A client with a token of its own (issuing for a client name replaces its token)."""
    client = APIClient()
    issued = api_token_issue(user=user, client=f"test client {next(_clients)}")
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    return client


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
