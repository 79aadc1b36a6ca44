import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PORTAL_URLS = [
    reverse("applicants:list"),
    reverse("applicants:create"),
    reverse("applicants:detail", args=[1]),
    reverse("applicants:edit", args=[1]),
    reverse("applicants:reassign", args=[1]),
    reverse("applicants:application_create", args=[1]),
    reverse("applicants:application_list"),
    reverse("applicants:application_detail", args=[1]),
    reverse("applicants:application_edit", args=[1]),
]


@pytest.mark.parametrize("url", PORTAL_URLS)
def test_every_portal_page_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_and_login(client, officer):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(
        reverse("login"), {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response.url == reverse("applicants:list")


def test_logout_needs_post_and_ends_session(officer_client):
    response = officer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert officer_client.get(reverse("applicants:list")).status_code == 302


def test_login_is_throttled_after_five_failures(client, officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": officer.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


def test_health(client):
    body = client.get(reverse("health")).json()  # tests/security/test_faults.py has the rest
    assert body["database"] == "ok" and body["status"] in {"ok", "degraded"}
