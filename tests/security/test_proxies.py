"""Who is asking: a client cannot dodge the throttle or the login lockout by sending a new
X-Forwarded-For each time, and behind a real proxy each client is counted apart."""

import pytest
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle

from tests.apikit import assert_error

TOKEN_URL = "/api/v1/auth/token/"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "3/minute"}
    )


def wrong_password(anon_api, officer, forwarded: str, address: str = "10.1.1.1"):
    return anon_api.post(
        TOKEN_URL,
        {"username": officer.username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR=forwarded,
        REMOTE_ADDR=address,
    )


def test_a_new_forwarded_header_each_time_is_still_throttled(anon_api, officer):
    answers = [wrong_password(anon_api, officer, f"203.0.113.{n}").status_code for n in range(6)]
    assert answers[:3] == [400, 400, 400] and answers[3:] == [429, 429, 429]


@override_settings(CREDITPORTAL_TRUSTED_PROXIES=1)
def test_behind_a_proxy_each_client_is_throttled_apart(anon_api, officer):
    proxy = "10.0.0.2"
    for _ in range(3):  # spoofed left-hand entries change nothing: the proxy wrote the last
        assert wrong_password(anon_api, officer, "1.2.3.4, 198.51.100.7", proxy).status_code == 400
    assert_error(
        wrong_password(anon_api, officer, "5.6.7.8, 198.51.100.7", proxy), 429, "throttled"
    )
    # Another client behind the same proxy has its own count.
    assert wrong_password(anon_api, officer, "198.51.100.8", proxy).status_code == 400


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_lockout_ignores_a_forged_forwarded_header(anon_api, officer):
    for n in range(2):
        wrong_password(anon_api, officer, f"203.0.113.{n}")
    response = wrong_password(anon_api, officer, "203.0.113.99")
    assert_error(response, 429)
    assert response.json()["error"]["code"] in {"locked_out", "throttled"}


@override_settings(AXES_FAILURE_LIMIT=2, CREDITPORTAL_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_lockout_is_per_client(anon_api, officer, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100/minute", "user": "100/minute"}
    )
    proxy = "10.0.0.2"
    for _ in range(2):
        wrong_password(anon_api, officer, "198.51.100.7", proxy)
    assert_error(wrong_password(anon_api, officer, "198.51.100.7", proxy), 429, "locked_out")
    assert wrong_password(anon_api, officer, "198.51.100.8", proxy).status_code == 400


@override_settings(CREDITPORTAL_TRUSTED_PROXIES=1)
@pytest.mark.parametrize("forwarded", ["not-an-address", "198.51.100.7:5555", "' OR 1=1 --"])
def test_a_forwarded_value_that_is_not_an_address_is_not_believed(anon_api, officer, forwarded):
    from django.test import RequestFactory

    from creditportal.network import client_ip

    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"
    assert wrong_password(anon_api, officer, forwarded, "10.0.0.2").status_code == 400
