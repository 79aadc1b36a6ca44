import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from applicants.demo import DEMO_USERS
from applicants.models import Applicant, Application
from creditportal.roles import can_see_all_applicants

pytestmark = pytest.mark.django_db


def test_setup_demo_creates_users_and_applicants_once():
    call_command("setup_demo")
    call_command("setup_demo")
    User = get_user_model()
    request = RequestFactory().post("/accounts/login/")
    for demo in DEMO_USERS:
        user = authenticate(request, username=demo.username, password=demo.password)
        assert user is not None, demo.username
    assert can_see_all_applicants(User.objects.get(username="manager"))
    assert not can_see_all_applicants(User.objects.get(username="officer1"))
    assert Applicant.objects.count() == 6
    assert Application.objects.filter(status=Application.Status.SUBMITTED).count() == 6
    assert set(Application.objects.values_list("scorecard", flat=True)) == {
        "card_default",
        "german_credit",
        "credit_score",
    }
