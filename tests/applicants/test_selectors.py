import pytest
from django.http import Http404

from applicants import selectors
from applicants.models import Application
from tests.factories import ApplicantFactory, ApplicationFactory

pytestmark = pytest.mark.django_db


def test_officer_sees_only_own_applicants(officer, other_officer):
    mine = ApplicantFactory(owner=officer)
    ApplicantFactory(owner=other_officer)
    assert list(selectors.applicant_list(user=officer).qs) == [mine]


def test_manager_sees_all_applicants(manager, officer, other_officer):
    ApplicantFactory(owner=officer)
    ApplicantFactory(owner=other_officer)
    assert selectors.applicant_list(user=manager).qs.count() == 2


def test_get_other_officers_applicant_is_404(officer, other_applicant):
    with pytest.raises(Http404):
        selectors.applicant_get_for_user(user=officer, applicant_id=other_applicant.pk)


def test_get_missing_applicant_is_404(officer):
    with pytest.raises(Http404):
        selectors.applicant_get_for_user(user=officer, applicant_id=999_999)


def test_get_other_officers_application_is_404(officer, other_application):
    with pytest.raises(Http404):
        selectors.application_get_for_user(user=officer, application_id=other_application.pk)


def test_manager_gets_any_application(manager, other_application):
    found = selectors.application_get_for_user(user=manager, application_id=other_application.pk)
    assert found == other_application


def test_search_by_name_and_reference(officer):
    ada = ApplicantFactory(owner=officer, full_name="Ada Lovelace", external_reference="X-1")
    ApplicantFactory(owner=officer, full_name="Alan Turing", external_reference="Y-2")
    assert list(selectors.applicant_list(user=officer, filters={"q": "lovelace"}).qs) == [ada]
    assert list(selectors.applicant_list(user=officer, filters={"q": "x-1"}).qs) == [ada]


def test_filter_by_application_status_and_product(officer):
    scored = ApplicationFactory(
        applicant__owner=officer, status=Application.Status.SCORED, scorecard="german_credit"
    ).applicant
    ApplicationFactory(applicant__owner=officer, status=Application.Status.DRAFT)
    by_status = selectors.applicant_list(user=officer, filters={"status": "scored"}).qs
    by_product = selectors.applicant_list(user=officer, filters={"product": "german_credit"}).qs
    assert list(by_status) == [scored]
    assert list(by_product) == [scored]


def test_archived_hidden_by_default_and_shown_on_request(officer):
    active = ApplicantFactory(owner=officer)
    archived = ApplicantFactory(owner=officer, is_archived=True)
    assert list(selectors.applicant_list(user=officer).qs) == [active]
    shown = selectors.applicant_list(user=officer, filters={"archived": "archived"}).qs
    assert list(shown) == [archived]
    assert selectors.applicant_list(user=officer, filters={"archived": "all"}).qs.count() == 2


def test_owner_filter_for_managers_only(manager, officer, other_officer):
    mine = ApplicantFactory(owner=officer)
    ApplicantFactory(owner=other_officer)
    filtered = selectors.applicant_list(user=manager, filters={"owner": officer.pk}).qs
    assert list(filtered) == [mine]
    officer_view = selectors.applicant_list(user=other_officer, filters={"owner": officer.pk})
    assert "owner" not in officer_view.form.fields
    assert mine not in officer_view.qs


def test_ordering(officer):
    b = ApplicantFactory(owner=officer, full_name="Bea")
    a = ApplicantFactory(owner=officer, full_name="Abe")
    assert list(selectors.applicant_list(user=officer, filters={"ordering": "name"}).qs) == [a, b]
    assert list(selectors.applicant_list(user=officer, filters={"ordering": "-name"}).qs) == [b, a]


def test_application_list_is_scoped(officer, other_officer):
    mine = ApplicationFactory(applicant__owner=officer)
    ApplicationFactory(applicant__owner=other_officer)
    assert list(selectors.application_list(user=officer).qs) == [mine]
