"""An officer logs in, creates an applicant and an application, scores it, reads the reasons
and records a decision — in chromium, against a live server."""

import pytest

from applicants.models import Application
from ml.schema import FieldKind
from ml.scorecards import get_scorecard
from scoring.models import Decision, Prediction
from tests.factories import valid_inputs

pytestmark = pytest.mark.browser


def fill_scorecard_inputs(page, scorecard_key: str) -> None:
    scorecard = get_scorecard(scorecard_key)
    values = valid_inputs(scorecard_key)
    for field in scorecard.fields:
        value = values.get(field.name)
        if value is None:
            continue
        selector = f"#id_{field.name}"
        if field.kind == FieldKind.CATEGORICAL:
            page.select_option(selector, str(value))
        elif field.kind == FieldKind.BOOLEAN:
            page.select_option(selector, "yes" if value else "no")
        elif field.kind == FieldKind.MULTI_CATEGORICAL:
            for item in value:
                page.check(f"input[name={field.name}][value='{item}']")
        else:
            page.fill(selector, str(value))


def test_officer_scores_and_decides(live_server, page, screenshot, officer, production_model):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/applicants/")

    page.click("text=New applicant")
    page.fill("#id_full_name", "Browser Test Applicant")
    page.fill("#id_external_reference", "BRW-001")
    page.fill("#id_national_id", "AB123456C")
    page.click("button:has-text('Save')")
    page.wait_for_selector("h1:has-text('Browser Test Applicant')")
    assert "AB123456C" not in page.content()  # shown masked only

    page.click("text=New application")
    page.click("a.button:has-text('Credit card')")
    page.fill("#id_requested_amount", "5000")
    page.fill("#id_term_months", "24")
    fill_scorecard_inputs(page, "card_default")
    page.click("button[name=submit]")
    page.wait_for_selector("text=Application submitted.")
    application = Application.objects.get(applicant__external_reference="BRW-001")

    page.click("button:has-text('Score')")
    page.wait_for_selector("h2:has-text('Why')")
    prediction = Prediction.objects.get(application=application)
    for reason in prediction.reasons:
        assert page.is_visible(f"text={reason['sentence']}")
    assert page.is_visible(f"text={production_model.label}")
    assert page.is_visible("text=Demo model")
    screenshot(page, "score-result")

    page.check(f"input[name=outcome][value={prediction.recommendation}]")
    page.click("button:has-text('Record decision')")
    page.wait_for_selector("text=Decision recorded")
    screenshot(page, "application-decided")
    decision = Decision.objects.get(application=application)
    assert decision.outcome == prediction.recommendation
    assert not decision.is_override
