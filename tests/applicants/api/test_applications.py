"""/api/v1/applications/: inputs validated by the scorecard schema, errors naming fields."""

from applicants.models import Application
from tests.apikit import assert_error, ids, results
from tests.factories import ApplicationFactory, valid_inputs

URL = "/api/v1/applications/"


def detail(application) -> str:
    return f"{URL}{application.pk}/"


def body(applicant, **overrides) -> dict:
    return {
        "applicant": applicant.pk,
        "scorecard": "card_default",
        "requested_amount": "15000.00",
        "term_months": 36,
        "purpose": "Card",
        "inputs": valid_inputs("card_default"),
        "submit": True,
        **overrides,
    }


def test_officer_lists_only_their_own(officer_api, manager_api, application, other_application):
    assert ids(officer_api.get(URL)) == {application.pk}
    assert ids(manager_api.get(URL)) == {application.pk, other_application.pk}


def test_filters(officer_api, applicant):
    draft = ApplicationFactory(applicant=applicant, status=Application.Status.DRAFT)
    ApplicationFactory(applicant=applicant, scorecard="german_credit")
    assert ids(officer_api.get(URL, {"status": "draft"})) == {draft.pk}
    products = {r["scorecard"] for r in results(officer_api.get(URL, {"product": "german_credit"}))}
    assert products == {"german_credit"}
    assert_error(officer_api.get(URL, {"product": "mortgage"}), 400, fields=["product"])


def test_retrieve_and_404(officer_api, application, other_application):
    row = officer_api.get(detail(application)).json()
    assert row["inputs"] == application.inputs
    assert row["applicant"]["id"] == application.applicant_id
    assert_error(officer_api.get(detail(other_application)), 404, "not_found")


def test_create_submitted(officer_api, applicant, officer):
    response = officer_api.post(URL, body(applicant))
    assert response.status_code == 201, response.content
    application = Application.objects.get(pk=response.json()["id"])
    assert application.status == Application.Status.SUBMITTED
    assert application.created_by == officer
    assert response.json()["requested_amount"] == "15000.00"


def test_create_draft_may_leave_inputs_out(officer_api, applicant):
    response = officer_api.post(URL, body(applicant, inputs={"age": 30}, submit=False))
    assert response.status_code == 201
    assert response.json()["status"] == "draft"


def test_invalid_inputs_are_named_one_by_one(officer_api, applicant):
    inputs = {**valid_inputs("card_default"), "limit_bal": 5, "education": "kindergarten"}
    del inputs["age"]
    response = officer_api.post(URL, body(applicant, inputs=inputs))
    error = assert_error(
        response, 400, "validation_error", ["inputs.limit_bal", "inputs.education", "inputs.age"]
    )
    assert "between" in error["fields"]["inputs.limit_bal"][0]
    assert error["fields"]["inputs.age"] == ["This field is required."]
    assert not Application.objects.filter(applicant=applicant).exists()


def test_application_fields_are_validated_before_the_service(officer_api, applicant):
    response = officer_api.post(
        URL, body(applicant, requested_amount="-1", term_months=999, scorecard="mortgage")
    )
    assert_error(response, 400, fields=["requested_amount", "term_months", "scorecard"])


def test_cannot_create_for_anothers_applicant(officer_api, other_applicant):
    response = officer_api.post(URL, body(other_applicant))
    assert_error(response, 400, "validation_error", ["applicant"])
    assert not Application.objects.filter(applicant=other_applicant).exists()


def test_archived_applicant_is_a_conflict(officer_api, applicant):
    applicant.is_archived = True
    applicant.save()
    assert_error(officer_api.post(URL, body(applicant)), 409, "conflict")


def test_patch_merges_inputs_and_null_removes(officer_api, applicant):
    application = ApplicationFactory(applicant=applicant, status=Application.Status.DRAFT)
    response = officer_api.patch(detail(application), {"inputs": {"age": 44}})
    assert response.status_code == 200, response.content
    application.refresh_from_db()
    assert application.inputs["age"] == 44 and "limit_bal" in application.inputs
    officer_api.patch(detail(application), {"inputs": {"age": None}})
    application.refresh_from_db()
    assert "age" not in application.inputs


def test_put_replaces_and_validates(officer_api, application):
    response = officer_api.put(
        detail(application),
        {"requested_amount": "2000", "term_months": 12, "inputs": {"age": 30}},
    )
    # A submitted application keeps needing every required input.
    assert_error(response, 400, "validation_error", ["inputs.limit_bal"])
    ok = officer_api.put(
        detail(application),
        {"requested_amount": "2000", "term_months": 12, "inputs": valid_inputs("card_default", 1)},
    )
    assert ok.status_code == 200 and ok.json()["requested_amount"] == "2000.00"


def test_update_anothers_is_404(officer_api, other_application):
    assert_error(officer_api.patch(detail(other_application), {"term_months": 12}), 404)


def test_decided_application_cannot_change(officer_api, application):
    application.status = Application.Status.DECIDED
    application.save()
    assert_error(officer_api.patch(detail(application), {"term_months": 12}), 409, "conflict")


def test_submit(officer_api, applicant, other_officer_api):
    draft = ApplicationFactory(applicant=applicant, status=Application.Status.DRAFT)
    assert_error(other_officer_api.post(f"{detail(draft)}submit/"), 404)
    response = officer_api.post(f"{detail(draft)}submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert_error(officer_api.post(f"{detail(draft)}submit/"), 409, "conflict")


def test_submit_incomplete_draft_names_inputs(officer_api, applicant):
    draft = ApplicationFactory(applicant=applicant, status=Application.Status.DRAFT, inputs={})
    assert_error(officer_api.post(f"{detail(draft)}submit/"), 400, fields=["inputs.limit_bal"])


def test_german_purpose_input_is_not_confused_with_the_application_purpose(officer_api, applicant):
    inputs = {**valid_inputs("german_credit"), "purpose": "space travel"}
    response = officer_api.post(
        URL, body(applicant, scorecard="german_credit", inputs=inputs, purpose="Car")
    )
    error = assert_error(response, 400, "validation_error", ["inputs.purpose"])
    assert "purpose" not in error["fields"]


def test_no_role_user_is_forbidden(no_role_api, application):
    assert_error(no_role_api.get(URL), 403)
    assert_error(no_role_api.get(detail(application)), 403)
