"""Token authentication, session authentication, 401 for anonymous requests."""

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.apikit import assert_error

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def test_token_for_username_and_password(anon_api, officer):
    response = anon_api.post(TOKEN_URL, {"username": officer.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == Token.objects.get(user=officer).key
    assert body["user"]["username"] == officer.username
    again = anon_api.post(TOKEN_URL, {"username": officer.username, "password": PASSWORD})
    assert again.json()["token"] == body["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/v1/applicants/").status_code == 200


def test_wrong_password_is_a_validation_error(anon_api, officer):
    response = anon_api.post(TOKEN_URL, {"username": officer.username, "password": "nope"})
    error = assert_error(response, 400, "validation_error", fields=["non_field_errors"])
    assert "Unable to log in" in error["message"]
    assert not Token.objects.filter(user=officer).exists()


def test_missing_fields_are_named(anon_api, db):
    response = anon_api.post(TOKEN_URL, {}, format="json")
    assert_error(response, 400, "validation_error", fields=["username", "password"])


def test_inactive_user_gets_no_token(anon_api, officer):
    officer.is_active = False
    officer.save()
    response = anon_api.post(TOKEN_URL, {"username": officer.username, "password": PASSWORD})
    assert_error(response, 400, "validation_error")


@override_settings(AXES_FAILURE_LIMIT=2)
def test_repeated_failures_lock_out_through_axes(anon_api, officer):
    for _ in range(2):
        anon_api.post(TOKEN_URL, {"username": officer.username, "password": "wrong"})
    response = anon_api.post(TOKEN_URL, {"username": officer.username, "password": PASSWORD})
    assert_error(response, 429, "locked_out")
    assert not Token.objects.filter(user=officer).exists()


def test_revoke_own_token(officer_api, officer):
    response = officer_api.delete(TOKEN_URL)
    assert response.status_code == 204
    assert not Token.objects.filter(user=officer).exists()
    assert_error(officer_api.get("/api/v1/applicants/"), 401, "authentication_failed")


def test_revoke_needs_authentication(anon_api, db):
    assert_error(anon_api.delete(TOKEN_URL), 401, "not_authenticated")


def test_administrator_revokes_tokens_in_the_admin(client, officer, db):
    from django.contrib.auth.models import Group

    from creditportal.api.auth import api_token_issue
    from creditportal.roles import ADMINISTRATOR
    from tests.factories import UserFactory

    admin = UserFactory(username="admin_a", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    api_token_issue(user=officer)
    client.force_login(admin)
    listing = client.get("/admin/authtoken/tokenproxy/")
    assert listing.status_code == 200
    assert officer.username in listing.content.decode()
    # The admin names a token by its user's id (rest_framework.authtoken.models.TokenProxy).
    response = client.post(f"/admin/authtoken/tokenproxy/{officer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=officer).exists()


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
