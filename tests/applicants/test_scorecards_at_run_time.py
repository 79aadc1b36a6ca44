"""A scorecard added while the process runs is a product of the applicants' API and pages at
once (no restart), and one removed stops being one: `lender_x` in tests/conftest.py."""

from applicants.filters import ApplicantFilter, ApplicationFilter
from applicants.models import Application
from tests.apikit import assert_error, ids
from tests.factories import ApplicationFactory, valid_inputs
from tests.scorecardkit import activate_current, drop_scorecard

URL = "/api/v1/applications/"


def body(applicant, scorecard: str) -> dict:
    return {
        "applicant": applicant.pk,
        "scorecard": scorecard,
        "requested_amount": "5000.00",
        "term_months": 24,
        "purpose": "Car",
        "inputs": valid_inputs(scorecard),
        "submit": True,
    }


def test_api_takes_an_application_for_an_added_scorecard(
    officer_api, applicant, lender_x, monkeypatch
):
    response = officer_api.post(URL, body(applicant, "lender_x"), format="json")
    assert response.status_code == 201, response.content
    created = Application.objects.get(pk=response.json()["id"])
    assert created.scorecard == "lender_x"
    assert created.status == Application.Status.SUBMITTED
    ApplicationFactory(applicant=applicant)  # card_default
    assert ids(officer_api.get(URL, {"product": "lender_x"})) == {created.pk}

    drop_scorecard("lender_x")
    error = assert_error(
        officer_api.post(URL, body(applicant, "german_credit") | {"scorecard": "lender_x"}),
        400,
        "validation_error",
        ["scorecard"],
    )
    assert error["fields"]["scorecard"] == ['"lender_x" is not a valid choice.']
    assert_error(officer_api.get(URL, {"product": "lender_x"}), 400, fields=["product"])


def test_inputs_of_an_added_scorecard_are_checked_by_its_declaration(
    officer_api, applicant, lender_x
):
    inputs = {**valid_inputs("lender_x"), "duration": "forever"}
    response = officer_api.post(
        URL, body(applicant, "lender_x") | {"inputs": inputs}, format="json"
    )
    assert_error(response, 400, "validation_error", ["inputs.duration"])


def test_list_filters_offer_an_added_product(lender_x, monkeypatch, db):
    for filterset_class in (ApplicantFilter, ApplicationFilter):
        choices = dict(filterset_class().form.fields["product"].choices)
        assert choices["lender_x"] == "Lender X"
    drop_scorecard("lender_x")
    for filterset_class in (ApplicantFilter, ApplicationFilter):
        form = filterset_class(data={"product": "lender_x"}).form
        assert "lender_x" not in dict(form.fields["product"].choices)
        assert not form.is_valid() and "product" in form.errors


def test_officer_opens_an_application_for_an_added_product(
    officer_client, applicant, lender_x, monkeypatch
):
    new = f"/applicants/{applicant.pk}/applications/new/"
    # Offered from its first production model on.
    assert "?product=lender_x" not in officer_client.get(new).content.decode()
    activate_current("lender_x")
    chooser = officer_client.get(new).content.decode()
    assert "?product=lender_x" in chooser and "Lender X" in chooser
    page = officer_client.get(new, {"product": "lender_x"})
    assert page.status_code == 200
    assert 'name="duration"' in page.content.decode()

    drop_scorecard("lender_x")
    assert "?product=lender_x" not in officer_client.get(new).content.decode()
    assert officer_client.get(new, {"product": "lender_x"}).status_code == 404
