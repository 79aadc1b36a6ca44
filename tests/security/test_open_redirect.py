"""Open redirects: a form's `next` never sends a signed-in user to another site."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
    ],
)
def test_dashboard_next_to_another_site_goes_back_to_the_report(
    manager_client, production_model, target
):
    url = reverse("dashboard:profile_compute", args=[production_model.pk])
    response = manager_client.post(url, {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:model_report", args=[production_model.pk])


def test_dashboard_next_to_a_page_of_this_site_is_followed(manager_client, production_model):
    fairness = reverse("dashboard:fairness", args=[production_model.pk])
    url = reverse("dashboard:profile_compute", args=[production_model.pk])
    response = manager_client.post(url, {"next": fairness})
    assert response["Location"] == fairness
