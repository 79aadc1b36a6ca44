"""The dashboard follows the scorecards that exist now: one added while the process runs has
its row and pages at once, one removed is gone (`lender_x`: tests/conftest.py)."""

import pytest
from django.urls import reverse

from tests.scorecardkit import drop_scorecard

pytestmark = pytest.mark.django_db


def test_dashboard_pages_of_an_added_scorecard(manager_client, lender_x_model, monkeypatch):
    home = manager_client.get(reverse("dashboard:home")).content.decode()
    assert "Lender X" in home and reverse("dashboard:monitoring", args=["lender_x"]) in home
    for url in (
        reverse("dashboard:monitoring", args=["lender_x"]),
        reverse("dashboard:insights", args=["lender_x"]),
        reverse("dashboard:model_report", args=[lender_x_model.pk]),
        reverse("dashboard:fairness", args=[lender_x_model.pk]),
    ):
        assert manager_client.get(url).status_code == 200, url

    drop_scorecard("lender_x")
    assert "Lender X" not in manager_client.get(reverse("dashboard:home")).content.decode()
    for name in ("dashboard:monitoring", "dashboard:insights"):
        assert manager_client.get(reverse(name, args=["lender_x"])).status_code == 404
