"""Token authentication (creditportal/api/auth.py): one query per request, permissions
resolved once per process and permissions version, and every change that matters, through
Django or by another process, taking effect on the next request."""

import time
from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import override_settings

from creditportal.roles import CREDIT_MANAGER, LOAN_OFFICER
from tests.apikit import assert_error
from tests.factories import valid_inputs

SCORE_URL = "/api/v1/scorecards/card_default/score/"
APPLICANTS_URL = "/api/v1/applicants/"


def score(client):
    return client.post(SCORE_URL, valid_inputs("card_default"), format="json")


def test_a_token_request_costs_one_query(officer_api, production_model, django_assert_num_queries):
    assert score(officer_api).status_code == 201  # permissions resolved and kept now
    # The token with its user and the permissions version; then the production-version
    # check and the prediction's INSERT.
    with django_assert_num_queries(3):
        assert score(officer_api).status_code == 201


@override_settings(API_AUTH_CACHE_SECONDS=0)
def test_permissions_can_be_resolved_every_time(
    officer_api, production_model, django_assert_num_queries
):
    assert score(officer_api).status_code == 201
    # token + user + version, the user's permissions, their groups' permissions, the two above
    with django_assert_num_queries(5):
        assert score(officer_api).status_code == 201


def test_deactivated_user_is_refused_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    officer.is_active = False
    officer.save()
    assert_error(score(officer_api), 401, "authentication_failed")


def test_role_removed_takes_effect_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    officer.groups.remove(Group.objects.get(name=LOAN_OFFICER))
    assert_error(score(officer_api), 403, "permission_denied")


def test_user_removed_from_group_by_the_group_side(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    Group.objects.get(name=LOAN_OFFICER).user_set.remove(officer)
    assert_error(score(officer_api), 403, "permission_denied")


def test_groups_cleared_takes_effect_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    officer.groups.clear()
    assert_error(score(officer_api), 403, "permission_denied")


def test_group_permission_removed_takes_effect_at_once(officer_api, production_model):
    assert score(officer_api).status_code == 201
    group = Group.objects.get(name=LOAN_OFFICER)
    group.permissions.remove(Permission.objects.get(codename="add_prediction"))
    assert_error(score(officer_api), 403, "permission_denied")


def test_permission_deleted_takes_effect_at_once(officer_api, production_model):
    assert score(officer_api).status_code == 201
    Permission.objects.get(codename="add_prediction").delete()
    assert_error(score(officer_api), 403, "permission_denied")


def test_role_granted_takes_effect_at_once(no_role_api, no_role_user, production_model):
    assert_error(score(no_role_api), 403, "permission_denied")
    no_role_user.groups.add(Group.objects.get(name=CREDIT_MANAGER))
    assert score(no_role_api).status_code == 201


def test_group_deleted_takes_effect_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    Group.objects.get(name=LOAN_OFFICER).delete()
    assert_error(score(officer_api), 403, "permission_denied")


@pytest.mark.parametrize("change", ["user_permission_added", "superuser"])
def test_user_level_changes_take_effect_at_once(no_role_api, no_role_user, db, change):
    assert_error(no_role_api.get(APPLICANTS_URL), 403, "permission_denied")
    if change == "superuser":
        no_role_user.is_superuser = True
        no_role_user.save()
    else:
        no_role_user.user_permissions.add(Permission.objects.get(codename="view_applicant"))
    assert no_role_api.get(APPLICANTS_URL).status_code == 200


# --- another process: all it leaves behind is the database ----------------------------------
# Raw SQL writes what another web process's change would have written, and nothing runs in
# this process: no signal, no cache entry deleted. This process must still see it.


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_role_removed_by_another_process_applies_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201  # this process knows the officer's permissions
    group = Group.objects.get(name=LOAN_OFFICER)
    _sql(
        "DELETE FROM auth_user_groups WHERE user_id = %s AND group_id = %s",
        [officer.pk, group.pk],
    )
    # What its transaction also wrote (creditportal.api.auth.permissions_changed):
    _sql("UPDATE creditportal_permissionsversion SET value = value + 1")
    assert_error(score(officer_api), 403, "permission_denied")


def test_a_token_revoked_by_another_process_is_refused_at_once(
    officer_api, officer, production_model
):
    assert score(officer_api).status_code == 201
    _sql("DELETE FROM creditportal_apitoken WHERE user_id = %s", [officer.pk])
    assert_error(score(officer_api), 401, "authentication_failed")


def test_a_user_deactivated_by_another_process_is_refused_at_once(
    officer_api, officer, production_model
):
    assert score(officer_api).status_code == 201
    _sql("UPDATE auth_user SET is_active = %s WHERE id = %s", [False, officer.pk])
    assert_error(score(officer_api), 401, "authentication_failed")


@override_settings(API_AUTH_CACHE_SECONDS=30)
def test_a_change_around_the_orm_applies_within_the_cache_time(
    officer_api, officer, production_model
):
    """Raw SQL without the version (a data migration, say): bounded by the setting."""
    assert score(officer_api).status_code == 201
    group = Group.objects.get(name=LOAN_OFFICER)
    _sql("DELETE FROM auth_user_groups WHERE user_id = %s", [officer.pk])
    assert group.user_set.count() == 0
    assert score(officer_api).status_code == 201  # kept: nothing said it changed
    later = time.monotonic() + 31
    with mock.patch("time.monotonic", return_value=later):  # the clock: a boundary
        assert_error(score(officer_api), 403, "permission_denied")
