import pytest
from django.urls import reverse
from django.utils.html import escape

from applicants.models import Applicant, Application
from ml.scorecards import SHIPPED
from tests.factories import ApplicantFactory, ApplicationFactory, OfficerFactory, valid_inputs

pytestmark = pytest.mark.django_db


def applicant_urls(pk):
    return [
        ("get", reverse("applicants:detail", args=[pk])),
        ("get", reverse("applicants:edit", args=[pk])),
        ("post", reverse("applicants:edit", args=[pk])),
        ("post", reverse("applicants:archive", args=[pk])),
        ("get", reverse("applicants:application_create", args=[pk])),
        ("get", reverse("applicants:application_create", args=[pk]) + "?product=card_default"),
        ("post", reverse("applicants:application_create", args=[pk])),
    ]


def application_urls(pk):
    return [
        ("get", reverse("applicants:application_detail", args=[pk])),
        ("get", reverse("applicants:application_edit", args=[pk])),
        ("post", reverse("applicants:application_edit", args=[pk])),
        ("post", reverse("applicants:application_submit", args=[pk])),
    ]


def test_every_applicant_url_is_404_for_another_officer(officer_client, other_applicant):
    for method, url in applicant_urls(other_applicant.pk):
        response = getattr(officer_client, method)(url, {"product": "card_default"})
        assert response.status_code == 404, (method, url)
    assert Applicant.objects.get(pk=other_applicant.pk).is_archived is False


def test_every_application_url_is_404_for_another_officer(officer_client, other_application):
    before = Application.objects.get(pk=other_application.pk)
    for method, url in application_urls(other_application.pk):
        response = getattr(officer_client, method)(url, {"term_months": 1})
        assert response.status_code == 404, (method, url)
    after = Application.objects.get(pk=other_application.pk)
    assert (after.term_months, after.status) == (before.term_months, before.status)


def test_manager_reaches_every_url(manager_client, other_application):
    applicant = other_application.applicant
    for url in [
        reverse("applicants:detail", args=[applicant.pk]),
        reverse("applicants:edit", args=[applicant.pk]),
        reverse("applicants:reassign", args=[applicant.pk]),
        reverse("applicants:application_detail", args=[other_application.pk]),
        reverse("applicants:application_edit", args=[other_application.pk]),
    ]:
        assert manager_client.get(url).status_code == 200, url


def test_officer_cannot_open_reassign(officer_client, applicant):
    response = officer_client.get(reverse("applicants:reassign", args=[applicant.pk]))
    assert response.status_code == 403


def test_reassign_on_other_officers_applicant_is_404_even_for_tampered_post(
    officer_client, officer, other_applicant
):
    url = reverse("applicants:reassign", args=[other_applicant.pk])
    assert officer_client.post(url, {"owner": officer.pk}).status_code in (403, 404)
    assert Applicant.objects.get(pk=other_applicant.pk).owner != officer


def test_manager_reassigns(manager_client, applicant, other_officer):
    url = reverse("applicants:reassign", args=[applicant.pk])
    response = manager_client.post(url, {"owner": other_officer.pk})
    assert response.status_code == 302
    assert Applicant.objects.get(pk=applicant.pk).owner == other_officer


def test_list_shows_only_own_applicants(officer_client, applicant, other_applicant):
    response = officer_client.get(reverse("applicants:list"))
    assert applicant.full_name in response.content.decode()
    assert other_applicant.full_name not in response.content.decode()


def test_list_paginates(officer_client, officer):
    ApplicantFactory.create_batch(30, owner=officer)
    first = officer_client.get(reverse("applicants:list"))
    second = officer_client.get(reverse("applicants:list"), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_create_applicant_owner_is_always_the_creator(officer_client, officer, other_officer):
    response = officer_client.post(
        reverse("applicants:create"),
        {"full_name": "Tamper Test", "external_reference": "T-1", "owner": other_officer.pk},
    )
    assert response.status_code == 302
    assert Applicant.objects.get(external_reference="T-1").owner == officer


def test_create_applicant_form_errors_name_field_and_rule(officer_client):
    response = officer_client.post(
        reverse("applicants:create"), {"full_name": "", "external_reference": "R", "email": "bad"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Full name</a>: This field is required." in page
    assert "Email</a>: Enter a valid email address." in page
    assert not Applicant.objects.exists()


def test_national_id_is_masked_on_pages(officer_client, applicant):
    page = officer_client.get(reverse("applicants:detail", args=[applicant.pk])).content.decode()
    assert applicant.national_id not in page
    assert applicant.national_id[-4:] in page
    edit = officer_client.get(reverse("applicants:edit", args=[applicant.pk])).content.decode()
    assert applicant.national_id not in edit


def test_application_create_flow(officer_client, applicant):
    url = reverse("applicants:application_create", args=[applicant.pk])
    chooser = officer_client.get(url)
    assert "card_default" in chooser.content.decode()
    form_page = officer_client.get(url, {"product": "german_credit"})
    assert "Checking account" in form_page.content.decode() or form_page.status_code == 200
    data = {
        "product": "german_credit",
        "requested_amount": "4000",
        "term_months": "18",
        "purpose": "Furniture",
        "submit": "1",
        **valid_inputs("german_credit"),
    }
    response = officer_client.post(url, data)
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.status == Application.Status.SUBMITTED
    assert application.scorecard == "german_credit"


def test_application_create_with_invalid_inputs_names_field_and_rule(officer_client, applicant):
    url = reverse("applicants:application_create", args=[applicant.pk])
    inputs = {**valid_inputs("card_default"), "limit_bal": "-10", "age": "abc"}
    data = {
        "product": "card_default",
        "requested_amount": "4000",
        "term_months": "18",
        "submit": "1",
        **inputs,
    }
    response = officer_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["inputs_form"].errors
    assert set(errors) == {"limit_bal", "age"}
    assert "between" in errors["limit_bal"][0].lower()
    assert not Application.objects.exists()


def test_the_form_refuses_the_implausible_values_bulk_scoring_flags(officer_client, applicant):
    """Issue 14: the officer's form refuses a value out of range or an unknown choice (a
    person is there to correct it); only bulk rows score them as missing."""
    url = reverse("applicants:application_create", args=[applicant.pk])
    inputs = {**valid_inputs("card_default"), "limit_bal": "5700000", "education": "doctorate"}
    data = {
        "product": "card_default",
        "requested_amount": "4000",
        "term_months": "18",
        "submit": "1",
        **inputs,
    }
    response = officer_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["inputs_form"].errors
    assert set(errors) == {"limit_bal", "education"}
    assert "(got 5700000)" in errors["limit_bal"][0]
    assert not Application.objects.exists()


def test_application_create_unknown_product_is_404(officer_client, applicant):
    url = reverse("applicants:application_create", args=[applicant.pk])
    assert officer_client.get(url, {"product": "nope"}).status_code == 404


def test_credit_score_form_accepts_loan_types(officer_client, applicant):
    url = reverse("applicants:application_create", args=[applicant.pk])
    inputs = valid_inputs("credit_score")
    inputs["type_of_loan"] = ["Auto Loan", "Personal Loan"]
    data = {"product": "credit_score", "requested_amount": "1", "term_months": "1", "submit": "1"}
    response = officer_client.post(url, {**data, **inputs})
    assert response.status_code == 302, response.context["inputs_form"].errors
    assert Application.objects.get().inputs["type_of_loan"] == ["Auto Loan", "Personal Loan"]


def test_application_detail_shows_inputs(officer_client, application):
    page = officer_client.get(
        reverse("applicants:application_detail", args=[application.pk])
    ).content.decode()
    assert "Credit limit" in page or "limit" in page.lower()
    assert "protected" in page


def test_decided_application_edit_redirects_with_message(officer_client, applicant):
    application = ApplicationFactory(applicant=applicant, status=Application.Status.DECIDED)
    response = officer_client.get(
        reverse("applicants:application_edit", args=[application.pk]), follow=True
    )
    assert "can no longer be changed" in response.content.decode()


def test_archive_hides_from_default_list(officer_client, applicant):
    officer_client.post(reverse("applicants:archive", args=[applicant.pk]), {"archived": "1"})
    assert Applicant.objects.get(pk=applicant.pk).is_archived
    page = officer_client.get(reverse("applicants:list")).content.decode()
    assert applicant.full_name not in page


def test_application_list_for_officer_and_manager(client, officer, manager, other_application):
    client.force_login(officer)
    assert (
        other_application.applicant.full_name
        not in client.get(reverse("applicants:application_list")).content.decode()
    )
    client.force_login(manager)
    assert (
        other_application.applicant.full_name
        in client.get(reverse("applicants:application_list")).content.decode()
    )


def test_the_applicant_page_shows_its_change_history(manager_client, applicant, officer):
    other = OfficerFactory(first_name="Grace", last_name="Hopper")
    manager_client.post(reverse("applicants:reassign", args=[applicant.pk]), {"owner": other.pk})
    page = manager_client.get(reverse("applicants:detail", args=[applicant.pk])).content.decode()
    history = page.split("Change history")[1]
    assert f"{officer.get_full_name()} → Grace Hopper" in history  # owner: old → new, by name
    assert "Owner" in history and "Changed" in history


def test_provenance_is_said_on_the_product_chooser_and_never_on_the_form(officer_client, applicant):
    url = reverse("applicants:application_create", args=[applicant.pk])
    chooser = officer_client.get(url).content.decode()
    for scorecard in SHIPPED.values():
        assert escape(scorecard.provenance) in chooser
        form = officer_client.get(url, {"product": scorecard.key}).content.decode()
        assert escape(scorecard.provenance) not in form
        for word in ("2005", "NT$", "Taiwan", "Kaggle", "Statlog", "Deutsche Mark", "UCI"):
            assert word not in form, (scorecard.key, word)
    card = officer_client.get(url, {"product": "card_default"}).content.decode()
    assert "Repayment status, last month" in card
    assert "Bill amount, 2 months ago" in card
