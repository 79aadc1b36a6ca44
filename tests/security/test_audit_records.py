"""Audit records are never rewritten: corrections are new records, decisions name the score
they were made on, and the admin cannot change what a score or a decision rests on."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applicants.models import Application
from applicants.services import (
    applicant_reassign,
    applicant_update,
    application_create,
    application_update,
)
from creditportal.errors import ApplicationError
from creditportal.roles import ADMINISTRATOR
from scoring.models import ApplicationOutcome, Decision
from scoring.selectors import outcome_of
from scoring.services.decisions import decision_create, outcome_record
from scoring.services.predictions import prediction_create
from tests.apikit import assert_error
from tests.factories import ManagerFactory, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLICATION_DATA = {"requested_amount": Decimal("5000"), "term_months": 12, "purpose": "Car"}


@pytest.fixture
def decided(application, officer, production_model):
    prediction = prediction_create(application=application, requested_by=officer)
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    application.refresh_from_db()
    return application


def test_a_corrected_outcome_keeps_the_first_record_as_it_was(decided, manager):
    first = outcome_record(application=decided, outcome_class="default", note="90 days", by=manager)
    again = outcome_record(application=decided, outcome_class="default", note="90 days", by=manager)
    assert again.pk == first.pk  # said twice, recorded once
    corrected = outcome_record(
        application=decided, outcome_class="no_default", note="paid late", by=manager
    )
    assert corrected.corrects_id == first.pk
    first.refresh_from_db()
    assert (first.outcome_class, first.note) == ("default", "90 days")
    assert outcome_of(application=decided).pk == corrected.pk
    assert ApplicationOutcome.objects.filter(application=decided).count() == 2


def test_an_outcome_cannot_be_changed_or_deleted(decided, manager):
    outcome = outcome_record(application=decided, outcome_class="default", by=manager)
    outcome.outcome_class = "no_default"
    with pytest.raises(PermissionError):
        outcome.save()
    with pytest.raises(PermissionError):
        outcome.delete()
    with pytest.raises(PermissionError):
        ApplicationOutcome.objects.filter(pk=outcome.pk).update(outcome_class="no_default")


def test_the_application_page_shows_the_corrected_records(decided, manager, client):
    outcome_record(application=decided, outcome_class="default", note="first note", by=manager)
    outcome_record(application=decided, outcome_class="no_default", by=manager)
    client.force_login(manager)
    page = client.get(reverse("applicants:application_detail", args=[decided.pk]))
    text = page.content.decode()
    assert "Earlier records, kept as they were (1)" in text and "first note" in text


def test_a_decision_on_a_score_that_is_no_longer_the_latest_is_refused(
    application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    newer = prediction_create(application=application, requested_by=officer)
    with pytest.raises(ApplicationError) as raised:
        decision_create(
            application=application,
            outcome=seen.recommendation,
            note="override",
            by=officer,
            prediction_id=seen.pk,
        )
    assert raised.value.extra["code"] == "stale_prediction"
    assert not Decision.objects.exists()
    decision = decision_create(
        application=application,
        outcome=newer.recommendation,
        by=officer,
        prediction_id=newer.pk,
    )
    assert decision.prediction_id == newer.pk


def test_the_portal_says_a_newer_score_exists(
    officer_client, application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    prediction_create(application=application, requested_by=officer)
    url = reverse("scoring:application_decide", args=[application.pk])
    response = officer_client.post(
        url, {"prediction": seen.pk, "outcome": seen.recommendation, "note": "x"}, follow=True
    )
    assert "A newer score exists" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_api_answers_409_for_a_stale_prediction(
    officer_api, application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    prediction_create(application=application, requested_by=officer)
    body = {"application": application.pk, "prediction": seen.pk, "outcome": "approve", "note": "x"}
    assert_error(
        officer_api.post("/api/v1/decisions/", body, format="json"), 409, "stale_prediction"
    )


def test_a_prediction_of_another_application_is_a_field_error(
    officer_api, application, other_application, officer, other_officer, production_model
):
    prediction_create(application=application, requested_by=officer)
    foreign = prediction_create(application=other_application, requested_by=other_officer)
    body = {
        "application": application.pk,
        "prediction": foreign.pk,
        "outcome": "approve",
        "note": "x",
    }
    response = officer_api.post("/api/v1/decisions/", body, format="json")
    assert_error(response, 400, "validation_error", fields=["prediction"])


def test_the_admin_cannot_rewrite_a_decided_application(decided, client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    admin_user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin_user)
    url = reverse("admin:applicants_application_change", args=[decided.pk])
    page = client.get(url).content.decode()
    for name in ("inputs", "requested_amount", "scorecard", "status", "applicant"):
        assert f'name="{name}"' not in page, name
    before = Application.objects.values().get(pk=decided.pk)
    client.post(
        url,
        {
            "applicant": decided.applicant_id,
            "scorecard": "german_credit",
            "requested_amount": "1",
            "term_months": "1",
            "status": "submitted",
            "inputs": "{}",
            "created_by": decided.created_by_id,
        },
    )
    after = Application.objects.values().get(pk=decided.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


# --- change history: every change to an applicant or application, by whom ------------------


def edit_application(client, application, **changes):
    inputs = {**application.inputs, **changes.pop("inputs", {})}
    data = {
        "requested_amount": str(application.requested_amount),
        "term_months": str(application.term_months),
        "purpose": application.purpose,
        **changes,
        **{name: value for name, value in inputs.items()},
    }
    response = client.post(reverse("applicants:application_edit", args=[application.pk]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    return response


def test_every_change_to_an_application_is_kept_with_who_made_it(officer_client, application):
    officer = application.created_by
    edit_application(officer_client, application, requested_amount="12000")
    newest, created = Application.history.filter(id=application.pk)
    assert (created.history_type, created.requested_amount) == ("+", 10000)  # kept as it was
    assert (newest.history_type, newest.requested_amount) == ("~", 12000)
    assert newest.history_user == officer


def test_the_application_page_shows_what_changed_when_and_by_whom(officer_client, application):
    officer = application.created_by
    limit = application.inputs["limit_bal"]
    edit_application(
        officer_client, application, requested_amount="12000", inputs={"limit_bal": limit + 1000}
    )
    page = officer_client.get(reverse("applicants:application_detail", args=[application.pk]))
    text = page.content.decode()
    assert "Change history" in text and officer.get_full_name() in text
    assert "Requested amount" in text and "10,000.00 → 12,000.00" in text
    assert "Scorecard inputs" in text and "Credit limit" in text
    assert "Education" not in text.split("Change history")[1]  # unchanged inputs not listed


def test_a_national_id_change_is_shown_as_changed_never_as_a_value(officer_client, applicant):
    url = reverse("applicants:edit", args=[applicant.pk])
    data = {"full_name": applicant.full_name, "external_reference": applicant.external_reference}
    officer_client.post(url, {**data, "phone": applicant.phone, "national_id": "QQ 987654 Z"})
    page = officer_client.get(reverse("applicants:detail", args=[applicant.pk])).content.decode()
    history = page.split("Change history")[1]
    assert "National ID" in history and "changed" in history
    assert "987654" not in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM applicants_historicalapplicant")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert "987654" not in stored and applicant.national_id not in stored


def test_services_without_a_request_name_the_user_too(officer, manager, applicant):
    application = application_create(
        applicant=applicant,
        by=officer,
        scorecard_key="card_default",
        data=APPLICATION_DATA,
        inputs={},
    )
    assert application.history.get().history_user == officer
    other = OfficerFactory()
    applicant_reassign(applicant=applicant, new_owner=other, by=manager)
    assert applicant.history.first().history_user == manager


def test_history_records_cannot_be_changed_in_the_admin(officer_client, application, client):
    edit_application(officer_client, application, requested_amount="12000")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    record = Application.history.first()
    changelist = reverse("admin:applicants_historicalapplication_changelist")
    assert client.get(changelist).status_code == 200
    change = reverse("admin:applicants_historicalapplication_change", args=[record.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"requested_amount": "1"}).status_code == 403
    delete = reverse("admin:applicants_historicalapplication_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:applicants_historicalapplication_add")).status_code == 403
    record.refresh_from_db()
    assert record.requested_amount == 12000


def test_the_page_costs_the_same_queries_however_long_the_history(
    officer_client, application, django_assert_max_num_queries
):
    url = reverse("applicants:application_detail", args=[application.pk])
    with CaptureQueriesContext(connection) as first:
        assert officer_client.get(url).status_code == 200
    for step in range(1, 31):
        application_update(
            application=application,
            data={"requested_amount": 10000 + step, "purpose": f"step {step}"},
            inputs=application.inputs,
        )
        applicant_update(applicant=application.applicant, data={"full_name": f"Name {step}"})
    manager, officer = ManagerFactory(), application.applicant.owner
    applicant_reassign(applicant=application.applicant, new_owner=OfficerFactory(), by=manager)
    applicant_reassign(applicant=application.applicant, new_owner=officer, by=manager)
    with django_assert_max_num_queries(len(first) + 1):  # + the users named in owner changes
        page = officer_client.get(url)
    assert page.status_code == 200
    assert "earlier ones are kept" in page.content.decode()  # the page shows the newest, says so


def test_the_page_says_older_changes_exist_when_one_record_alone_has_more(
    officer_client, application
):
    for step in range(1, 56):  # more than the page shows, all of the application's
        application_update(
            application=application, data={"purpose": f"step {step}"}, inputs=application.inputs
        )
    page = officer_client.get(reverse("applicants:application_detail", args=[application.pk]))
    assert "earlier ones are kept" in page.content.decode()
