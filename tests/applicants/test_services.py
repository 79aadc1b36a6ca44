from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from applicants import services
from applicants.models import Applicant, Application
from creditportal.errors import ApplicationError
from tests.factories import ApplicantFactory, ApplicationFactory, valid_inputs

pytestmark = pytest.mark.django_db

APPLICANT_DATA = {
    "full_name": "Grace Hopper",
    "external_reference": "CUST-1",
    "date_of_birth": date(1980, 12, 9),
    "email": "grace@example.com",
    "phone": "+1 555 0100",
    "national_id": "123-45-6789",
}
REQUEST = {"requested_amount": Decimal("2500.00"), "term_months": 12, "purpose": "Car"}


def test_applicant_create_stores_identity_and_masks_national_id(officer):
    applicant = services.applicant_create(owner=officer, data=APPLICANT_DATA)
    applicant.refresh_from_db()
    assert applicant.owner == officer
    assert applicant.national_id == "123-45-6789"
    assert applicant.national_id_masked == "•••••••6789"


def test_applicant_create_refuses_duplicate_reference(officer, other_officer):
    services.applicant_create(owner=officer, data=APPLICANT_DATA)
    with pytest.raises(ValidationError) as error:
        services.applicant_create(owner=other_officer, data=APPLICANT_DATA)
    assert "external_reference" in error.value.message_dict
    assert Applicant.objects.count() == 1


def test_applicant_create_refuses_bad_email_and_saves_nothing(officer):
    with pytest.raises(ValidationError) as error:
        services.applicant_create(owner=officer, data={**APPLICANT_DATA, "email": "not-an-email"})
    assert "email" in error.value.message_dict
    assert not Applicant.objects.exists()


def test_applicant_update_keeps_national_id_when_blank(applicant):
    stored = applicant.national_id
    services.applicant_update(
        applicant=applicant, data={"full_name": "New Name", "national_id": ""}
    )
    applicant.refresh_from_db()
    assert applicant.full_name == "New Name"
    assert applicant.national_id == stored


def test_applicant_archive_and_restore(applicant):
    services.applicant_set_archived(applicant=applicant, archived=True)
    assert Applicant.objects.get(pk=applicant.pk).is_archived
    services.applicant_set_archived(applicant=applicant, archived=False)
    assert not Applicant.objects.get(pk=applicant.pk).is_archived


def test_reassign_by_manager(applicant, manager, other_officer):
    services.applicant_reassign(applicant=applicant, new_owner=other_officer, by=manager)
    assert Applicant.objects.get(pk=applicant.pk).owner == other_officer


def test_reassign_refused_for_officer(applicant, officer, other_officer):
    with pytest.raises(ApplicationError):
        services.applicant_reassign(applicant=applicant, new_owner=other_officer, by=officer)
    assert Applicant.objects.get(pk=applicant.pk).owner == officer


def test_reassign_refuses_user_without_role(applicant, manager, no_role_user):
    with pytest.raises(ValidationError) as error:
        services.applicant_reassign(applicant=applicant, new_owner=no_role_user, by=manager)
    assert "owner" in error.value.message_dict


def test_application_submit_with_valid_inputs(applicant, officer):
    application = services.application_create(
        applicant=applicant,
        by=officer,
        scorecard_key="card_default",
        data=REQUEST,
        inputs=valid_inputs("card_default"),
        submit=True,
    )
    assert application.status == Application.Status.SUBMITTED
    assert application.inputs["limit_bal"] == valid_inputs("card_default")["limit_bal"]


@pytest.mark.parametrize("scorecard_key", ["card_default", "german_credit", "credit_score"])
def test_every_scorecard_accepts_its_own_valid_inputs(applicant, officer, scorecard_key):
    application = services.application_create(
        applicant=applicant,
        by=officer,
        scorecard_key=scorecard_key,
        data=REQUEST,
        inputs=valid_inputs(scorecard_key),
        submit=True,
    )
    assert application.status == Application.Status.SUBMITTED


def test_invalid_input_names_field_and_rule_and_saves_nothing(applicant, officer):
    inputs = {**valid_inputs("card_default"), "limit_bal": -5, "education": "99"}
    with pytest.raises(ValidationError) as error:
        services.application_create(
            applicant=applicant,
            by=officer,
            scorecard_key="card_default",
            data=REQUEST,
            inputs=inputs,
            submit=True,
        )
    messages = error.value.message_dict
    assert set(messages) == {"limit_bal", "education"}
    assert "between" in messages["limit_bal"][0].lower()
    assert not Application.objects.exists()


def test_draft_may_miss_inputs_but_submit_requires_them(applicant, officer):
    application = services.application_create(
        applicant=applicant,
        by=officer,
        scorecard_key="card_default",
        data=REQUEST,
        inputs={"limit_bal": 50000},
    )
    assert application.status == Application.Status.DRAFT
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=application)
    assert "pay_0" in error.value.message_dict
    assert Application.objects.get(pk=application.pk).status == Application.Status.DRAFT


def test_unknown_scorecard_is_refused(applicant, officer):
    with pytest.raises(ValidationError) as error:
        services.application_create(
            applicant=applicant, by=officer, scorecard_key="nope", data=REQUEST, inputs={}
        )
    assert "scorecard" in error.value.message_dict


def test_archived_applicant_gets_no_new_application(applicant, officer):
    services.applicant_set_archived(applicant=applicant, archived=True)
    with pytest.raises(ApplicationError):
        services.application_create(
            applicant=applicant,
            by=officer,
            scorecard_key="card_default",
            data=REQUEST,
            inputs=valid_inputs("card_default"),
        )


def test_changing_a_scored_application_sends_it_back_to_submitted(applicant):
    application = ApplicationFactory(applicant=applicant, status=Application.Status.SCORED)
    inputs = {**application.inputs, "limit_bal": 123000}
    services.application_update(application=application, data={}, inputs=inputs)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.inputs["limit_bal"] == 123000


def test_unchanged_scored_application_stays_scored(applicant):
    application = ApplicationFactory(applicant=applicant, status=Application.Status.SCORED)
    services.application_update(application=application, data={}, inputs=application.inputs)
    assert Application.objects.get(pk=application.pk).status == Application.Status.SCORED


def test_decided_application_cannot_be_changed(applicant):
    application = ApplicationFactory(applicant=applicant, status=Application.Status.DECIDED)
    with pytest.raises(ApplicationError):
        services.application_update(
            application=application, data={"term_months": 6}, inputs=application.inputs
        )
    assert Application.objects.get(pk=application.pk).term_months == 24


def test_database_refuses_non_positive_amount(applicant):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            applicant=applicant,
            scorecard="card_default",
            requested_amount=0,
            term_months=12,
            created_by=applicant.owner,
        )


def test_submitted_application_edit_requires_every_input(applicant):
    application = ApplicationFactory(applicant=applicant)
    inputs = dict(application.inputs)
    inputs.pop("pay_0")
    with pytest.raises(ValidationError) as error:
        services.application_update(application=application, data={}, inputs=inputs)
    assert "pay_0" in error.value.message_dict


def test_applicant_factory_owner_is_officer():
    applicant = ApplicantFactory()
    assert applicant.owner.has_perm("applicants.add_applicant")
