"""Stolen and stale credentials: an API token read from the database or the admin is of no
use, a token stops working when it expires, when its owner's password changes, when its
owner is deactivated and when it is revoked, at once and in every web process, and no
Authorization header, however malformed, gets more than a 401."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from creditportal.models import ApiToken
from creditportal.roles import ADMINISTRATOR
from tests.apikit import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
PROBE_URL = "/api/v1/auth/tokens/"  # any authenticated endpoint
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def log_in(user, password: str = PASSWORD, client: str = "script") -> str:
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": password, "client": client}
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def probe(secret: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client.get(PROBE_URL)


def test_the_database_does_not_hold_the_token(officer):
    secret = log_in(officer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM creditportal_apitoken")
        stored = cursor.fetchall()
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        clear_text_tokens = cursor.fetchone()[0]
    assert len(stored) == 1
    cells = [str(cell) for cell in stored[0]]
    assert not any(secret in cell for cell in cells)
    assert not any(secret[15:] in cell for cell in cells)  # beyond the shown prefix
    assert clear_text_tokens == 0
    # The digest cannot be sent back as a token.
    assert_error(probe(ApiToken.objects.get().digest), 401, "authentication_failed")


def test_the_admin_never_shows_a_secret(client, officer):
    secret = log_in(officer)
    token = ApiToken.objects.get(user=officer)
    admin = UserFactory(username="admin_a", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin)
    pages = [
        "/admin/creditportal/apitoken/",
        f"/admin/creditportal/apitoken/?q={officer.username}",
        f"/admin/creditportal/apitoken/{token.pk}/change/",
        f"/admin/creditportal/apitoken/{token.pk}/delete/",
        f"/admin/auth/user/{officer.pk}/delete/",  # lists what would go with the user
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert secret[15:] not in page, url


def test_a_token_expires(officer, settings):
    secret = log_in(officer)
    issued = timezone.now()
    ttl = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    with mock.patch("django.utils.timezone.now", return_value=issued + ttl - timedelta(minutes=1)):
        assert probe(secret).status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=issued + ttl + timedelta(seconds=1)):
        assert_error(probe(secret), 401, "authentication_failed")


def test_the_lifetime_is_the_setting(officer, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(minutes=5)}
    secret = log_in(officer)
    expiry = ApiToken.objects.get(user=officer).expiry
    assert timedelta(minutes=4) < expiry - timezone.now() <= timedelta(minutes=5)
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert_error(probe(secret), 401, "authentication_failed")


def test_an_expired_token_does_not_count_and_is_deleted(officer):
    log_in(officer, client="old")
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    log_in(officer, client="new")
    assert list(ApiToken.objects.values_list("client", flat=True)) == ["new"]


def test_a_password_change_revokes_every_token(officer):
    first = log_in(officer, client="laptop")
    other = log_in(officer, client="server")
    officer.set_password("a-new-long-passphrase")
    officer.save()
    for secret in (first, other):
        assert_error(probe(secret), 401, "authentication_failed")
    assert log_in(officer, "a-new-long-passphrase", client="laptop") != first


def test_a_password_reset_in_the_admin_revokes_every_token(client, officer):
    secret = log_in(officer)
    admin = UserFactory(username="admin_a", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{officer.pk}/password/",
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    assert_error(probe(secret), 401, "authentication_failed")


def test_logging_in_again_never_returns_the_same_token(officer):
    assert log_in(officer) != log_in(officer)


def test_a_deactivated_user_is_refused_at_once_and_stays_refused(officer):
    secret = log_in(officer)
    officer.is_active = False
    officer.save()
    assert_error(probe(secret), 401, "authentication_failed")
    officer.is_active = True
    officer.save()
    assert_error(probe(secret), 401, "authentication_failed")  # revoked, not suspended


def test_other_saves_of_the_user_keep_the_tokens(officer):
    secret = log_in(officer)
    officer.first_name = "Renamed"
    officer.save()
    assert probe(secret).status_code == 200


# Another web process serving the same token shares only the database with this one (and a
# cache, when one is configured, which holds nothing about tokens). The revocation is written
# as that process would write it, straight into the database: nothing runs here to tell
# this process, which has served the token already and keeps permissions for 300 s.


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_token_revoked_elsewhere_is_refused_at_once(officer):
    secret = log_in(officer)
    assert probe(secret).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM creditportal_apitoken")
    assert_error(probe(secret), 401, "authentication_failed")


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_user_deactivated_elsewhere_is_refused_at_once(officer):
    secret = log_in(officer)
    assert probe(secret).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET is_active = %s WHERE id = %s", [False, officer.pk])
    assert_error(probe(secret), 401, "authentication_failed")


@pytest.mark.parametrize(
    "header",
    [
        b"Token \xff\xfe",  # not UTF-8 (knox's own check raised UnicodeDecodeError: a 500)
        b"Token \x00" + b"0" * 63,
        b"Token " + b"0" * 64,  # well-formed, unknown
        b"Token " + b"A" * 64,  # not lower-case hex
        b"Token " + b"0" * 10_000,
        b"Token ' OR 1=1 --",
        b"Token",
        b"Token a b",
        b"Bearer " + b"0" * 64,
    ],
)
def test_a_malformed_header_is_a_401(officer, header):
    response = APIClient().get(PROBE_URL, HTTP_AUTHORIZATION=header.decode("latin-1"))
    assert response.status_code == 401, response.content


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_deletes_the_clear_text_tokens():
    """DRF's tokens were stored in clear and never expired: migrating deletes them (their
    clients log in again) and administrators may manage the new ones."""
    from django.db.migrations.executor import MigrationExecutor
    from rest_framework.authtoken.models import Token  # installed, unused since

    before, after = ("creditportal", "0001_worker_heartbeat"), ("creditportal", "0002_api_tokens")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    Token.objects.create(key="f" * 40, user=UserFactory(username="old_client"))

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    administrator = Group.objects.get(name=ADMINISTRATOR)
    granted = set(administrator.permissions.values_list("codename", flat=True))
    assert {"view_apitoken", "delete_apitoken"} <= granted
