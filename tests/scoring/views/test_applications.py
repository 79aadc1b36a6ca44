"""Scoring pages: score, result with reasons, decide; another officer gets 404."""

from django.urls import reverse

from scoring.models import Decision, Prediction
from scoring.services.predictions import prediction_create


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
    seen = {"prediction": prediction.pk}
    response = officer_client.post(url, {**seen, "outcome": other, "note": ""})
    assert response.status_code == 400
    assert "A note is required" in response.content.decode()
    assert not Decision.objects.exists()
    response = officer_client.post(
        url, {**seen, "outcome": other, "note": "Long-standing customer"}
    )
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
