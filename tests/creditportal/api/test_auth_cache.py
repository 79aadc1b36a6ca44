"""The token authentication cache (creditportal/api_auth.py): a cached token saves its
queries, and every change that matters through Django takes effect on the next request."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import override_settings

from creditportal.api.auth import api_token_revoke
from creditportal.roles import CREDIT_MANAGER, LOAN_OFFICER
from tests.apikit import assert_error
from tests.factories import valid_inputs

SCORE_URL = "/api/v1/scorecards/card_default/score/"
APPLICANTS_URL = "/api/v1/applicants/"


def score(client):
    return client.post(SCORE_URL, valid_inputs("card_default"), format="json")


def test_cached_token_costs_no_query(officer_api, production_model, django_assert_num_queries):
    assert score(officer_api).status_code == 201  # token, user and permissions cached now
    # What is left: the production-version check and the prediction's INSERT.
    with django_assert_num_queries(2):
        assert score(officer_api).status_code == 201


@override_settings(API_AUTH_CACHE_SECONDS=0)
def test_cache_can_be_switched_off(officer_api, production_model, django_assert_num_queries):
    assert score(officer_api).status_code == 201
    # token + user, the user's permissions, their groups' permissions, then the two above
    with django_assert_num_queries(5):
        assert score(officer_api).status_code == 201


def test_revoked_token_is_refused_at_once(officer_api, officer, production_model):
    assert score(officer_api).status_code == 201
    api_token_revoke(user=officer)
    assert_error(score(officer_api), 401, "authentication_failed")


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


def test_group_permission_removed_takes_effect_at_once(officer_api, production_model):
    assert score(officer_api).status_code == 201
    group = Group.objects.get(name=LOAN_OFFICER)
    group.permissions.remove(Permission.objects.get(codename="add_prediction"))
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


def test_cache_holds_no_token(officer_api, officer, production_model):
    from django.core.cache import cache

    assert score(officer_api).status_code == 201
    token = officer.auth_token.key
    keys = list(cache._cache)  # the per-process cache of the test settings
    assert keys and not any(token in key for key in keys)
