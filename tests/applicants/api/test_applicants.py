"""/api/v1/applicants/: officers their own, managers everyone's; 404 for others' rows."""

import pytest

from applicants.models import Applicant
from tests.apikit import assert_error, ids, results
from tests.factories import ApplicantFactory, ApplicationFactory, OfficerFactory

URL = "/api/v1/applicants/"


def detail(applicant) -> str:
    return f"{URL}{applicant.pk}/"


def test_officer_lists_only_their_own(officer_api, applicant, other_applicant):
    assert ids(officer_api.get(URL)) == {applicant.pk}


def test_manager_lists_everyones(manager_api, applicant, other_applicant):
    assert ids(manager_api.get(URL)) == {applicant.pk, other_applicant.pk}


def test_manager_filters_by_owner_officer_cannot(
    manager_api, officer_api, applicant, other_applicant
):
    owner = other_applicant.owner.pk
    assert ids(manager_api.get(URL, {"owner": owner})) == {other_applicant.pk}
    # For an officer the owner filter does not exist: still only their own.
    assert ids(officer_api.get(URL, {"owner": owner})) == {applicant.pk}


def test_representation(officer_api, applicant):
    row = results(officer_api.get(URL))[0]
    assert row["full_name"] == applicant.full_name
    assert row["owner"]["username"] == applicant.owner.username
    assert row["national_id_masked"].endswith(applicant.national_id[-4:])
    assert "national_id" not in row


def test_search_filter_archived_and_ordering(officer_api, officer):
    ApplicantFactory(owner=officer, full_name="Zed Able", external_reference="Z-1")
    ApplicantFactory(owner=officer, full_name="Amy Baker", external_reference="A-1")
    gone = ApplicantFactory(owner=officer, full_name="Old Timer", is_archived=True)
    names = [r["full_name"] for r in results(officer_api.get(URL, {"ordering": "-name"}))]
    assert names == ["Zed Able", "Amy Baker"]
    assert ids(officer_api.get(URL, {"q": "baker"})) != set()
    assert [r["full_name"] for r in results(officer_api.get(URL, {"q": "baker"}))] == ["Amy Baker"]
    assert ids(officer_api.get(URL, {"archived": "archived"})) == {gone.pk}


def test_invalid_filter_names_the_parameter(officer_api, applicant):
    assert_error(
        officer_api.get(URL, {"ordering": "password"}), 400, "validation_error", ["ordering"]
    )
    assert_error(officer_api.get(URL, {"status": "nope"}), 400, "validation_error", ["status"])


def test_pagination_and_bounded_page_size(officer_api, officer, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for _ in range(5):
        ApplicantFactory(owner=officer)
    body = officer_api.get(URL, {"page_size": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"]
    assert len(officer_api.get(URL, {"page_size": 500}).json()["results"]) == 3
    assert len(officer_api.get(URL, {"page": 3, "page_size": 2}).json()["results"]) == 1


def test_retrieve_own_and_404_for_anothers(officer_api, manager_api, applicant, other_applicant):
    assert officer_api.get(detail(applicant)).json()["id"] == applicant.pk
    assert_error(officer_api.get(detail(other_applicant)), 404, "not_found")
    assert_error(officer_api.get(f"{URL}999999/"), 404, "not_found")
    assert manager_api.get(detail(other_applicant)).status_code == 200


def test_create(officer_api, officer):
    response = officer_api.post(
        URL,
        {"full_name": "Ada Lovelace", "external_reference": "AL-1", "national_id": "AB123456C"},
    )
    assert response.status_code == 201, response.content
    applicant = Applicant.objects.get(pk=response.json()["id"])
    assert applicant.owner == officer
    assert applicant.national_id == "AB123456C"
    assert response.json()["national_id_masked"] == "•••••456C"


def test_create_validation_errors_name_fields(officer_api, applicant):
    response = officer_api.post(URL, {"email": "not-an-email"})
    assert_error(response, 400, "validation_error", ["full_name", "external_reference", "email"])
    # Uniqueness is the service's full_clean(): still a field error.
    duplicate = officer_api.post(
        URL, {"full_name": "Twin", "external_reference": applicant.external_reference}
    )
    assert_error(duplicate, 400, "validation_error", ["external_reference"])


def test_no_role_user_is_forbidden(no_role_api, applicant):
    assert_error(no_role_api.get(URL), 403, "permission_denied")
    assert_error(no_role_api.post(URL, {"full_name": "X", "external_reference": "X"}), 403)
    assert_error(no_role_api.get(detail(applicant)), 403)


def test_update_put_and_patch(officer_api, applicant):
    response = officer_api.patch(detail(applicant), {"phone": "+44 20 7946 0001"})
    assert response.status_code == 200 and response.json()["phone"] == "+44 20 7946 0001"
    applicant.refresh_from_db()
    assert applicant.national_id  # blank/absent keeps it
    response = officer_api.put(
        detail(applicant), {"full_name": "New Name", "external_reference": "NEW-1"}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    assert_error(
        officer_api.put(detail(applicant), {"full_name": "x"}), 400, fields=["external_reference"]
    )


def test_update_anothers_is_404(officer_api, other_applicant):
    assert_error(officer_api.patch(detail(other_applicant), {"phone": "1"}), 404)
    other_applicant.refresh_from_db()
    assert other_applicant.phone != "1"


def test_archive_and_restore(officer_api, other_officer_api, applicant):
    assert officer_api.post(f"{detail(applicant)}archive/", {}).json()["is_archived"] is True
    restored = officer_api.post(f"{detail(applicant)}archive/", {"archived": False})
    assert restored.json()["is_archived"] is False
    assert_error(other_officer_api.post(f"{detail(applicant)}archive/", {}), 404)


def test_reassign_is_for_managers(manager_api, officer_api, applicant, other_officer):
    url = f"{detail(applicant)}reassign/"
    assert_error(officer_api.post(url, {"owner": other_officer.pk}), 403, "permission_denied")
    response = manager_api.post(url, {"owner": other_officer.pk})
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == other_officer.pk
    assert_error(manager_api.post(url, {"owner": 999999}), 400, fields=["owner"])


def test_reassign_to_a_non_officer_names_the_field(manager_api, applicant, no_role_user):
    response = manager_api.post(f"{detail(applicant)}reassign/", {"owner": no_role_user.pk})
    assert_error(response, 400, "validation_error", ["owner"])


def test_applicant_applications(officer_api, other_officer_api, applicant):
    first = ApplicationFactory(applicant=applicant)
    second = ApplicationFactory(applicant=applicant)
    ApplicationFactory(applicant=ApplicantFactory(owner=applicant.owner))
    assert ids(officer_api.get(f"{detail(applicant)}applications/")) == {first.pk, second.pk}
    assert_error(other_officer_api.get(f"{detail(applicant)}applications/"), 404)


@pytest.mark.parametrize("method", ["get", "patch"])
def test_manager_reaches_every_officers_applicant(manager_api, method):
    applicant = ApplicantFactory(owner=OfficerFactory())
    response = getattr(manager_api, method)(detail(applicant), {} if method == "patch" else None)
    assert response.status_code == 200
