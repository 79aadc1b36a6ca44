"""Authentication: a credit manager's or an administrator's password alone no longer opens the
portal, the dashboard, the Django admin or an API token when two-factor is required (issue 13,
item 10: "no second factor for privileged users"). Codes are computed from the device's key
with django-otp's own TOTP, as an authenticator app would."""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from creditportal.roles import CREDIT_MANAGER
from creditportal.two_factor import (
    backup_codes_create,
    two_factor_reset,
    two_factor_setup_confirm,
    two_factor_setup_start,
)
from tests.apikit import assert_error
from tests.factories import ManagerFactory, OfficerFactory, UserFactory
from tests.security.test_defaults import FIELD_KEYS, run_django

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def required(settings):
    settings.CREDITPORTAL_REQUIRE_2FA = True


@pytest.fixture
def administrator(db):
    return UserFactory(username="admin_a", is_staff=True, is_superuser=True)


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or `steps_ahead` periods later: a code is
    accepted once, and the device allows one step of clock drift)."""
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


def give_code(client, code: str, next_url: str = "", backup: bool = False):
    field = "backup-code" if backup else "totp-code"
    return client.post(reverse("two_factor:verify"), {field: code, "next": next_url})


def wrong_code(device: TOTPDevice) -> str:
    right = {code_of(device, step) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


# --- the portal, with the setting on ----------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "applicants:list",
        "applicants:application_list",
        "dashboard:home",
        "scoring:model_version_list",
        "scoring:training_overview",
        "two_factor:account",
    ],
)
def test_a_managers_password_alone_reaches_no_page(client, required, manager, url_name):
    device_for(manager)
    sign_in(client, manager)
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor:verify')}?next={url.replace('/', '%2F')}"


def test_an_administrators_password_alone_does_not_open_the_admin(client, required, administrator):
    device_for(administrator)
    sign_in(client, administrator)
    for url in (reverse("admin:index"), reverse("admin:auth_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor:verify"))


def test_a_wrong_code_is_refused_and_the_right_one_lets_the_manager_in(client, required, manager):
    device = device_for(manager)
    sign_in(client, manager)
    dashboard = reverse("dashboard:home")

    refused = give_code(client, wrong_code(device), dashboard)
    assert refused.status_code == 200
    assert "That code is wrong" in refused.content.decode()
    assert client.get(dashboard).status_code == 302
    # django-otp throttles the device: right after a failure even the right code is refused.
    throttled = give_code(client, code_of(device), dashboard)
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get(dashboard).status_code == 302

    TOTPDevice.objects.filter(pk=device.pk).update(  # the clock: the delay has passed
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=5)
    )
    accepted = give_code(client, code_of(device), dashboard)
    assert accepted.status_code == 302 and accepted["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    assert client.get(reverse("applicants:list")).status_code == 200


def test_a_code_is_accepted_once_only(client, required, manager):
    device = device_for(manager)
    code = code_of(device)
    sign_in(client, manager)
    assert give_code(client, code).status_code == 302
    other = type(client)()
    sign_in(other, manager)
    again = give_code(other, code)
    assert again.status_code == 200 and "was used already" in again.content.decode()


def test_wrong_codes_grow_the_delay_whoever_sends_them(client, required, manager):
    device = device_for(manager)
    sign_in(client, manager)
    for _ in range(3):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
        give_code(client, wrong_code(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 3
    response = give_code(client, code_of(device))
    assert re.search(r"wait [34] s", response.content.decode())  # 2**(3-1) s after the third


@pytest.mark.parametrize(
    "hostile",
    ["١٢٣٤٥٦", "１２３４５６", "12345", "1234567", "12 34 5x", "' OR 1=1 --", "9" * 40, "\x00"],
)
def test_hostile_codes_are_refused_with_a_message(client, required, manager, hostile):
    device_for(manager)
    sign_in(client, manager)
    response = give_code(client, hostile)
    assert response.status_code == 200
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_the_session_keeps_the_verification_and_logout_ends_it(client, required, manager):
    device = device_for(manager)
    sign_in(client, manager)
    assert client.post(reverse("logout")).status_code == 302  # allowed before the code
    sign_in(client, manager)
    give_code(client, code_of(device))
    for _ in range(3):
        assert client.get(reverse("applicants:list")).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, manager)
    assert client.get(reverse("applicants:list")).status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_verify_page_never_redirects_to_another_site(client, required, manager, target):
    device = device_for(manager)
    sign_in(client, manager)
    response = give_code(client, code_of(device), target)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_health_answers_a_half_signed_in_manager(client, required, manager):
    device_for(manager)
    sign_in(client, manager)
    assert client.get(reverse("health")).status_code in (200, 503)


# --- setting up an authenticator --------------------------------------------------------------


def test_a_manager_without_a_device_sets_one_up_before_anything_else(client, required, manager):
    response = sign_in(client, manager)
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("two_factor:setup")
    )
    page = client.get(reverse("two_factor:setup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert page.context["secret"].replace(" ", "") in html.replace(" ", "")
    assert client.get(reverse("dashboard:home"))["Location"].startswith(reverse("two_factor:setup"))

    refused = client.post(reverse("two_factor:setup"), {"totp-code": wrong_code(device)})
    assert refused.status_code == 200 and "That code is wrong" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    done = client.post(
        reverse("two_factor:setup"), {"totp-code": code_of(device), "next": "/dashboard/"}
    )
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", c) for c in codes)
    assert done.context["continue_url"] == "/dashboard/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("dashboard:home")).status_code == 200

    # Next time: the code, not the setup page; a backup code works once.
    other = type(client)()
    sign_in(other, manager)
    assert other.get(reverse("dashboard:home"))["Location"].startswith(reverse("two_factor:verify"))
    assert give_code(other, codes[0].upper(), backup=True).status_code == 302
    assert other.get(reverse("dashboard:home")).status_code == 200
    third = type(client)()
    sign_in(third, manager)
    assert give_code(third, codes[0], backup=True).status_code == 200
    assert StaticToken.objects.filter(device__user=manager).count() == 9


def test_each_setup_gets_its_own_secret(client, required, manager):
    """Who signed in with the password first cannot hand the real user a secret they saw."""
    sign_in(client, manager)
    first = client.get(reverse("two_factor:setup")).context["secret"]
    other = type(client)()
    sign_in(other, manager)
    second = other.get(reverse("two_factor:setup")).context["secret"]
    assert first != second
    assert TOTPDevice.objects.filter(user=manager).count() == 1
    expired = client.post(reverse("two_factor:setup"), {"totp-code": "123456"})
    assert "This setup had expired" in expired.content.decode()


def test_a_password_alone_cannot_replace_an_authenticator(client, required, manager):
    device = device_for(manager)
    sign_in(client, manager)
    for method in (client.get, client.post):
        response = method(reverse("two_factor:setup"), {"totp-code": "123456"})
        assert response.status_code == 302
        assert response["Location"] == reverse("two_factor:verify")
    assert list(TOTPDevice.objects.filter(user=manager)) == [device]


# --- who is asked ------------------------------------------------------------------------------


def test_an_officer_is_not_asked(client, required, officer):
    sign_in(client, officer)
    assert client.get(reverse("applicants:list")).status_code == 200
    assert not TOTPDevice.objects.filter(user=officer).exists()


def test_an_officer_who_turned_it_on_is_always_asked(client, officer):
    device = device_for(officer)
    sign_in(client, officer)
    assert client.get(reverse("applicants:list"))["Location"].startswith(
        reverse("two_factor:verify")
    )
    give_code(client, code_of(device))
    assert client.get(reverse("applicants:list")).status_code == 200
    # ...and may turn it off again, with a current code.
    client.post(reverse("two_factor:disable"), {"totp-code": code_of(device, steps_ahead=1)})
    assert not TOTPDevice.objects.filter(user=officer).exists()


def test_a_manager_may_not_turn_it_off_when_required(client, required, manager):
    device = device_for(manager)
    sign_in(client, manager)
    give_code(client, code_of(device))
    client.post(reverse("two_factor:disable"), {"totp-code": code_of(device, steps_ahead=1)})
    assert TOTPDevice.objects.filter(user=manager).exists()


def test_with_the_setting_off_the_demo_login_works_as_before(client, settings, manager):
    settings.CREDITPORTAL_REQUIRE_2FA = False
    sign_in(client, manager)
    assert client.get(reverse("dashboard:home")).status_code == 200
    assert client.get(reverse("applicants:list")).status_code == 200


def test_development_is_off_and_production_is_on_by_default():
    key = "k" * 20 + "-a-long-random-secret-key-for-this-test-only"
    shown = "print(settings.CREDITPORTAL_REQUIRE_2FA)"
    for environment, expected in (
        ({"DJANGO_SECRET_KEY": key, **FIELD_KEYS}, "True"),
        ({"DJANGO_DEBUG": "true"}, "False"),  # make run, make test: the demo
        ({"DJANGO_DEBUG": "true", "CREDITPORTAL_REQUIRE_2FA": "true"}, "True"),
    ):
        started = run_django(shown, **environment)
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == expected, environment
    assert not django_settings.CREDITPORTAL_REQUIRE_2FA  # this run's, set by DJANGO_DEBUG


# --- the API -------------------------------------------------------------------------------


def test_a_manager_gets_no_token_with_the_password_alone(required, manager):
    device = device_for(manager)
    api = APIClient()
    missing = api.post(TOKEN_URL, {"username": manager.username, "password": PASSWORD})
    assert_error(missing, 400, "validation_error", fields=["otp"])
    wrong = api.post(
        TOKEN_URL,
        {"username": manager.username, "password": PASSWORD, "otp": wrong_code(device)},
    )
    assert_error(wrong, 400, "validation_error", fields=["otp"])
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    right = api.post(
        TOKEN_URL, {"username": manager.username, "password": PASSWORD, "otp": code_of(device)}
    )
    assert right.status_code == 200 and right.json()["token"]


def test_a_manager_without_a_device_gets_no_token_either(required, manager):
    response = APIClient().post(
        TOKEN_URL, {"username": manager.username, "password": PASSWORD, "otp": "123456"}
    )
    assert_error(response, 400, "validation_error", fields=["otp"])


def test_a_wrong_password_says_nothing_about_the_second_factor(required, manager):
    device_for(manager)
    response = APIClient().post(TOKEN_URL, {"username": manager.username, "password": "nope"})
    error = assert_error(response, 400, "validation_error")
    assert "otp" not in error["fields"]


def test_an_officer_gets_a_token_with_the_password(required, officer):
    response = APIClient().post(TOKEN_URL, {"username": officer.username, "password": PASSWORD})
    assert response.status_code == 200


def test_with_the_setting_off_a_manager_gets_a_token_with_the_password(settings, manager):
    settings.CREDITPORTAL_REQUIRE_2FA = False
    response = APIClient().post(TOKEN_URL, {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 200


def token_of(user, **extra) -> str:
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": PASSWORD, **extra}
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api_with(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_a_token_got_with_the_password_alone_stops_when_its_user_becomes_a_manager(
    required, officer
):
    api = api_with(token_of(officer))
    assert api.get("/api/v1/applicants/").status_code == 200
    officer.groups.add(Group.objects.get(name=CREDIT_MANAGER))
    response = api.get("/api/v1/applicants/")
    assert response.status_code == 401
    assert "otp" in response.json()["error"]["message"]


def test_a_managers_token_from_before_the_setting_stops_when_it_is_turned_on(settings, manager):
    settings.CREDITPORTAL_REQUIRE_2FA = False
    api = api_with(token_of(manager))
    assert api.get("/api/v1/applicants/").status_code == 200
    settings.CREDITPORTAL_REQUIRE_2FA = True
    assert api.get("/api/v1/applicants/").status_code == 401


def test_a_managers_token_got_with_a_code_keeps_working(required, manager):
    device = device_for(manager)
    api = api_with(token_of(manager, otp=code_of(device)))
    assert api.get("/api/v1/applicants/").status_code == 200


def test_turning_two_factor_on_ends_the_tokens_got_with_the_password_alone(officer):
    api = api_with(token_of(officer))
    device = two_factor_setup_start(user=officer)
    two_factor_setup_confirm(user=officer, device=device, code=code_of(device))
    assert api.get("/api/v1/applicants/").status_code == 401


def test_a_reset_ends_every_token_of_the_user(required, manager):
    device = device_for(manager)
    api = api_with(token_of(manager, otp=code_of(device)))
    two_factor_reset(user=manager)
    assert api.get("/api/v1/applicants/").status_code == 401


def test_a_half_signed_in_session_is_nobody_to_the_api(client, required, manager):
    device_for(manager)
    sign_in(client, manager)
    response = client.get("/api/v1/applicants/")
    assert response.status_code == 401


# --- recovery -------------------------------------------------------------------------------


def test_an_administrator_resets_a_managers_two_factor(client, required, administrator):
    admin_device = device_for(administrator)
    manager = ManagerFactory(username="lost_phone")
    device_for(manager)
    backup_codes_create(user=manager)
    sign_in(client, administrator)
    give_code(client, code_of(admin_device))
    changelist = reverse("admin:auth_user_changelist")
    assert client.get(changelist).status_code == 200
    response = client.post(
        changelist, {"action": "reset_two_factor", "_selected_action": [manager.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()

    theirs = type(client)()
    sign_in(theirs, manager)
    assert theirs.get(reverse("applicants:list"))["Location"].startswith(
        reverse("two_factor:setup")
    )


def test_an_officer_cannot_reset_anyone(client, required):
    officer = OfficerFactory(username="curious", is_staff=True)
    manager = ManagerFactory(username="target")
    device_for(manager)
    device_for(officer)  # staff: asked for a code like an administrator
    sign_in(client, officer)
    give_code(client, code_of(TOTPDevice.objects.get(user=officer)))
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [manager.pk]},
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=manager).exists()
    assert get_user_model().objects.filter(pk=manager.pk).exists()


def test_the_last_administrator_is_reset_on_the_server(administrator):
    from django.core.management import call_command

    device_for(administrator)
    call_command("reset_two_factor", administrator.username)
    assert not TOTPDevice.objects.filter(user=administrator).exists()


def test_a_verified_manager_moves_to_another_phone(client, required, manager):
    old = device_for(manager)
    sign_in(client, manager)
    give_code(client, code_of(old))
    assert client.get(reverse("two_factor:setup")).status_code == 200
    new = TOTPDevice.objects.get(user=manager, confirmed=False)
    done = client.post(reverse("two_factor:setup"), {"totp-code": code_of(new)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert list(TOTPDevice.objects.filter(user=manager)) == [new]
    assert client.get(reverse("dashboard:home")).status_code == 200  # the new device's session


def test_anyone_may_turn_it_on_from_the_account_page(officer_client, officer):
    page = officer_client.get(reverse("two_factor:account"))
    assert page.status_code == 200
    assert reverse("two_factor:setup") in page.content.decode()
    assert officer_client.get(reverse("two_factor:setup")).status_code == 200
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    officer_client.post(reverse("two_factor:setup"), {"totp-code": code_of(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert (
        "Backup codes left: 10"
        in officer_client.get(reverse("two_factor:account")).content.decode()
    )
