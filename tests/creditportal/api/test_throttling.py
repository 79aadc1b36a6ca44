"""Throttling per user and per anonymous address (rates lowered in this module only)."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.apikit import assert_error, client_for


@pytest.fixture(autouse=True)
def low_rates(monkeypatch):
    # DRF reads the rates into the class when it is imported; patch them there.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"}
    )


def test_user_rate(officer_api, manager, db):
    for _ in range(3):
        assert officer_api.get("/api/v1/applicants/").status_code == 200
    response = officer_api.get("/api/v1/applicants/")
    error = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert "available in" in error["message"]
    # The limit is per user: another user is not affected.
    assert client_for(manager).get("/api/v1/applicants/").status_code == 200


def test_anonymous_rate_per_address(anon_api, officer):
    # Anonymous clients reach only the token endpoint: elsewhere DRF answers
    # 401 before any throttle, which costs nothing.
    data = {"username": officer.username, "password": "wrong"}
    for _ in range(2):
        assert anon_api.post("/api/v1/auth/token/", data).status_code == 400
    response = anon_api.post("/api/v1/auth/token/", data)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    elsewhere = anon_api.post("/api/v1/auth/token/", data, REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 400
