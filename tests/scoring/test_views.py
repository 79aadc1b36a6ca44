import pytest
from django.urls import reverse

from scoring.models import Decision, ModelVersion, Prediction
from scoring.services import prediction_create

pytestmark = pytest.mark.django_db


def test_score_button_shows_result_with_reasons_and_model(
    officer_client, application, production_model
):
    response = officer_client.post(reverse("scoring:application_score", args=[application.pk]))
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("scoring:prediction_detail", args=[prediction.pk])
    page = officer_client.get(response.url).content.decode()
    assert production_model.label in page
    assert "Demo model" in page  # synthetic models are labelled
    for reason in prediction.reasons:
        assert reason["sentence"] in page
    assert prediction.get_recommendation_display() in page
    assert f"<b>{prediction.points}</b>" in page


def test_scoring_invalid_inputs_shows_field_and_rule(officer_client, application, production_model):
    application.inputs = {**application.inputs, "age": 7}
    application.save()
    response = officer_client.post(
        reverse("scoring:application_score", args=[application.pk]), follow=True
    )
    page = response.content.decode()
    assert "Age" in page and "between" in page.lower()
    assert not Prediction.objects.exists()


def test_other_officer_gets_404_on_every_scoring_url(
    client, other_officer, application, production_model, officer
):
    prediction = prediction_create(application=application, requested_by=officer)
    client.force_login(other_officer)
    for method, name in [
        ("post", "scoring:application_score"),
        ("post", "scoring:application_decide"),
    ]:
        response = getattr(client, method)(
            reverse(name, args=[application.pk]), {"outcome": "approve"}
        )
        assert response.status_code == 404, name
    assert client.get(reverse("scoring:prediction_detail", args=[prediction.pk])).status_code == 404
    assert not Decision.objects.exists()


def test_decision_form_override_without_note_is_refused(
    officer_client, application, production_model, officer
):
    prediction = prediction_create(application=application, requested_by=officer)
    other = "approve" if prediction.recommendation != "approve" else "decline"
    url = reverse("scoring:application_decide", args=[application.pk])
    response = officer_client.post(url, {"outcome": other, "note": ""})
    assert response.status_code == 400
    assert "A note is required" in response.content.decode()
    assert not Decision.objects.exists()
    response = officer_client.post(url, {"outcome": other, "note": "Long-standing customer"})
    assert response.status_code == 302
    assert Decision.objects.get().is_override


def test_history_on_application_and_applicant_pages(
    officer_client, application, production_model, officer
):
    first = prediction_create(application=application, requested_by=officer)
    second = prediction_create(application=application, requested_by=officer)
    page = officer_client.get(
        reverse("applicants:application_detail", args=[application.pk])
    ).content.decode()
    assert page.index(f"/predictions/{second.pk}/") < page.index(f"/predictions/{first.pk}/")
    applicant_page = officer_client.get(
        reverse("applicants:detail", args=[application.applicant.pk])
    ).content.decode()
    assert f"/predictions/{first.pk}/" in applicant_page


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
    from scoring.services import model_version_register

    newer = model_version_register(result=trained_card_default_alt)
    client.force_login(manager)
    url = reverse("scoring:model_version_promote", args=[newer.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    assert ModelVersion.objects.get(pk=newer.pk).status == "candidate"
    client.post(url, {"reason": "Better on the test split"})
    assert ModelVersion.objects.get(pk=newer.pk).status == "production"
