import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_and_change_pages_mask_national_id(admin_client, application):
    applicant = application.applicant
    pages = [
        reverse("admin:applicants_applicant_changelist"),
        reverse("admin:applicants_applicant_change", args=[applicant.pk]),
        reverse("admin:applicants_application_changelist"),
        reverse("admin:applicants_application_change", args=[application.pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert applicant.national_id not in response.content.decode(), url
    changelist = admin_client.get(pages[0]).content.decode()
    assert applicant.national_id_masked in changelist


def test_admin_search_and_filters(admin_client, applicant):
    url = reverse("admin:applicants_applicant_changelist")
    response = admin_client.get(url, {"q": applicant.external_reference, "is_archived__exact": 0})
    assert response.status_code == 200
    assert applicant.full_name in response.content.decode()
