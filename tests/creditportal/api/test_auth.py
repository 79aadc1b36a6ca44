"""Token endpoints (issue, list, revoke), session authentication, 401 for anonymous requests."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from creditportal.api.tokens import api_token_issue
from creditportal.models import ApiToken
from tests.apikit import assert_error, client_for, results

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def log_in(anon_api, user, **extra):
    return anon_api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD, **extra})


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_token_for_username_and_password(anon_api, officer):
    response = log_in(anon_api, officer)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "prefix", "client", "created", "expiry", "user"}
    assert body["prefix"] == body["token"][:15]
    assert body["client"] == "api"
    assert body["user"]["username"] == officer.username
    assert token_client(body["token"]).get("/api/v1/applicants/").status_code == 200


def test_logging_in_again_replaces_that_clients_token(anon_api, officer):
    first = log_in(anon_api, officer, client="nightly batch").json()["token"]
    second = log_in(anon_api, officer, client="nightly batch").json()["token"]
    assert second != first
    assert_error(token_client(first).get("/api/v1/applicants/"), 401, "authentication_failed")
    assert token_client(second).get("/api/v1/applicants/").status_code == 200
    assert ApiToken.objects.filter(user=officer).count() == 1


def test_each_client_has_its_own_token(anon_api, officer):
    laptop = log_in(anon_api, officer, client="laptop").json()["token"]
    server = log_in(anon_api, officer, client="server").json()["token"]
    for secret in (laptop, server):
        assert token_client(secret).get("/api/v1/applicants/").status_code == 200


@pytest.mark.parametrize("client", ["", "   ", "line\nbreak", "bidi\u202eoverride", "x" * 101])
def test_a_bad_client_name_is_refused(anon_api, officer, client):
    assert_error(log_in(anon_api, officer, client=client), 400, "validation_error", ["client"])
    assert not ApiToken.objects.filter(user=officer).exists()


def test_tokens_per_user_are_capped(anon_api, officer, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    log_in(anon_api, officer, client="one")
    log_in(anon_api, officer, client="two")
    error = assert_error(log_in(anon_api, officer, client="three"), 409, "too_many_tokens")
    assert "revoke one" in error["message"]
    # Replacing a client's token is always possible.
    assert log_in(anon_api, officer, client="two").status_code == 200


def test_wrong_password_is_a_validation_error(anon_api, officer):
    response = anon_api.post(TOKEN_URL, {"username": officer.username, "password": "nope"})
    error = assert_error(response, 400, "validation_error", fields=["non_field_errors"])
    assert "Unable to log in" in error["message"]
    assert not ApiToken.objects.filter(user=officer).exists()


def test_missing_fields_are_named(anon_api, db):
    response = anon_api.post(TOKEN_URL, {}, format="json")
    assert_error(response, 400, "validation_error", fields=["username", "password"])


def test_inactive_user_gets_no_token(anon_api, officer):
    officer.is_active = False
    officer.save()
    assert_error(log_in(anon_api, officer), 400, "validation_error")


@override_settings(AXES_FAILURE_LIMIT=2)
def test_repeated_failures_lock_out_through_axes(anon_api, officer):
    for _ in range(2):
        anon_api.post(TOKEN_URL, {"username": officer.username, "password": "wrong"})
    assert_error(log_in(anon_api, officer), 429, "locked_out")
    assert not ApiToken.objects.filter(user=officer).exists()


def test_revoke_the_token_in_use(officer_api, officer):
    other = client_for(officer)
    response = officer_api.delete(TOKEN_URL)
    assert response.status_code == 204
    assert_error(officer_api.get("/api/v1/applicants/"), 401, "authentication_failed")
    assert other.get("/api/v1/applicants/").status_code == 200  # another client's token


def test_revoke_needs_authentication(anon_api, db):
    assert_error(anon_api.delete(TOKEN_URL), 401, "not_authenticated")


def test_revoke_from_a_session_names_the_other_endpoints(officer_client, officer):
    api_token_issue(user=officer, client="script")
    error = assert_error(officer_client.delete(TOKEN_URL), 400, "no_token")
    assert TOKENS_URL in error["message"]
    assert ApiToken.objects.filter(user=officer).exists()


def test_list_shows_own_tokens_never_their_secrets(anon_api, officer, other_officer):
    secret = log_in(anon_api, officer, client="laptop").json()["token"]
    client = token_client(secret)
    api_token_issue(user=officer, client="server")
    api_token_issue(user=other_officer, client="laptop")
    response = client.get(TOKENS_URL)
    rows = results(response)
    assert [row["client"] for row in rows] == ["server", "laptop"]  # newest first
    assert set(rows[0]) == {"prefix", "client", "created", "expiry", "current"}
    assert [row["current"] for row in rows] == [False, True]
    assert rows[1]["prefix"] == secret[:15]
    assert secret not in response.content.decode()


def test_revoke_one_token_by_prefix(anon_api, officer, other_officer):
    laptop = log_in(anon_api, officer, client="laptop").json()
    server = token_client(log_in(anon_api, officer, client="server").json()["token"])
    assert server.delete(f"{TOKENS_URL}{laptop['prefix']}/").status_code == 204
    assert_error(token_client(laptop["token"]).get(TOKENS_URL), 401, "authentication_failed")
    assert server.get(TOKENS_URL).status_code == 200


def test_another_users_token_is_not_found(officer_api, other_officer):
    theirs = api_token_issue(user=other_officer, client="laptop")
    response = officer_api.delete(f"{TOKENS_URL}{theirs.token.token_key}/")
    assert_error(response, 404, "not_found")
    assert token_client(theirs.secret).get(TOKENS_URL).status_code == 200


@pytest.mark.parametrize("prefix", ["nothex-nothex-x", "0" * 16, "%00"])
def test_a_malformed_prefix_is_not_found(officer_api, prefix):
    assert_error(officer_api.delete(f"{TOKENS_URL}{prefix}/"), 404, "not_found")


def test_revoke_all(officer, officer_api):
    other = client_for(officer)
    assert officer_api.delete(TOKENS_URL).status_code == 204
    for client in (officer_api, other):
        assert_error(client.get(TOKENS_URL), 401, "authentication_failed")
    assert not ApiToken.objects.filter(user=officer).exists()


def test_administrator_sees_and_revokes_tokens_in_the_admin(client, officer, db):
    from django.contrib.auth.models import Group

    from creditportal.roles import ADMINISTRATOR
    from tests.factories import UserFactory

    admin = UserFactory(username="admin_a", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    issued = api_token_issue(user=officer, client="laptop")
    client.force_login(admin)
    listing = client.get("/admin/creditportal/apitoken/")
    assert listing.status_code == 200
    assert officer.username in listing.content.decode()
    assert issued.token.token_key in listing.content.decode()
    assert client.get("/admin/creditportal/apitoken/add/").status_code == 403
    response = client.post(
        f"/admin/creditportal/apitoken/{issued.token.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=officer).exists()
    assert_error(token_client(issued.secret).get(TOKENS_URL), 401, "authentication_failed")


def test_drf_clear_text_tokens_are_gone_from_the_admin(admin_client):
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applicants/",
        "/api/v1/applications/",
        "/api/v1/predictions/",
        "/api/v1/decisions/",
        "/api/v1/scorecards/",
        "/api/v1/model-versions/",
        "/api/v1/model-promotions/",
        TOKENS_URL,
    ],
)
def test_anonymous_requests_get_401(anon_api, db, url):
    response = anon_api.get(url)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_post_gets_401(anon_api, db):
    response = anon_api.post("/api/v1/scorecards/card_default/score/", {}, format="json")
    assert_error(response, 401, "not_authenticated")


def test_bad_token_gets_401(anon_api, db):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(anon_api.get("/api/v1/applicants/"), 401, "authentication_failed")


def test_session_authentication_for_the_browsable_api(officer_client, applicant):
    response = officer_client.get("/api/v1/applicants/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert applicant.full_name.encode() in response.content
    assert officer_client.get("/api/v1/applicants/").json()["count"] == 1
