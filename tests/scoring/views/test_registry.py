"""Model pages: read by every role, promotion by credit managers."""

from django.urls import reverse

from scoring.models import ModelVersion


def test_model_pages_read_by_everyone_with_a_role_promote_by_managers(
    officer_client, client, manager, production_model, no_role_user
):
    pages = [
        reverse("scoring:model_version_list"),
        reverse("scoring:model_version_detail", args=[production_model.pk]),
        reverse("scoring:promotion_history"),
    ]
    for url in pages:
        response = officer_client.get(url)
        assert response.status_code == 200, url
        assert "demo" in response.content.decode().lower()
        assert "Promote to production" not in response.content.decode()
    promote = reverse("scoring:model_version_promote", args=[production_model.pk])
    assert officer_client.post(promote, {"reason": "mine"}).status_code == 403
    client.force_login(no_role_user)
    assert client.get(pages[0]).status_code == 403
    client.force_login(manager)
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_manager_promotes_from_the_report_page(
    client, manager, production_model, trained_card_default_alt
):
    from scoring.services.registry import model_version_register

    newer = model_version_register(result=trained_card_default_alt)
    client.force_login(manager)
    url = reverse("scoring:model_version_promote", args=[newer.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    assert ModelVersion.objects.get(pk=newer.pk).status == "candidate"
    client.post(url, {"reason": "Better on the test split"})
    assert ModelVersion.objects.get(pk=newer.pk).status == "production"
