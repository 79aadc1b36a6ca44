import pytest
from django.contrib.auth.models import Group, Permission

from creditportal.roles import (
    ADMINISTRATOR,
    CREDIT_MANAGER,
    LOAN_OFFICER,
    can_reassign_applicants,
    can_see_all_applicants,
)

pytestmark = pytest.mark.django_db


def test_the_three_groups_exist_with_permissions():
    officer = Group.objects.get(name=LOAN_OFFICER)
    manager = Group.objects.get(name=CREDIT_MANAGER)
    administrator = Group.objects.get(name=ADMINISTRATOR)
    officer_perms = set(officer.permissions.values_list("codename", flat=True))
    manager_perms = set(manager.permissions.values_list("codename", flat=True))
    assert {"add_applicant", "change_application"} <= officer_perms
    assert "view_all_applicants" not in officer_perms
    assert officer_perms < manager_perms
    assert {"view_all_applicants", "reassign_applicant"} <= manager_perms
    assert (
        administrator.permissions.count()
        >= Permission.objects.filter(content_type__app_label="applicants").count()
    )


def test_role_helpers(officer, manager):
    assert not can_see_all_applicants(officer)
    assert not can_reassign_applicants(officer)
    assert can_see_all_applicants(manager)
    assert can_reassign_applicants(manager)
