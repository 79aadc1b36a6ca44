"""A credit manager turns a lender's own file into a scorecard in chromium: upload, the
proposal appears when the worker is done (no reload), review at 390 px, save, train,
promote; an officer can then pick the new product. Checked by axe (WCAG 2.1 AA)."""

import pytest

from scoring.models import ModelVersion, ScorecardDraft, TrainingJob
from tests.browser.conftest import fits_width
from tests.scoring.lenderkit import lender_csv

pytestmark = [pytest.mark.browser, pytest.mark.celery]


def login(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_manager_builds_a_scorecard_from_a_lender_file(
    live_server, celery_worker_thread, page, screenshot, accessible, manager, settings
):
    settings.TRAINING_JOB_OPTIONS = {
        "params": {"n_estimators": 30, "min_samples_leaf": 3},
        "baselines": False,
        "permutation": False,
    }
    login(page, live_server, manager)
    page.click("nav >> text=Scorecards")
    page.wait_for_selector("h1:has-text('Scorecards')")
    accessible(page, "scorecards")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "sek_loans.csv", "mimeType": "text/csv", "buffer": lender_csv(800)}],
    )
    page.click("button:has-text('Upload and profile')")
    # The worker profiles the file; the page shows the proposal when it is done.
    page.wait_for_selector("h2:has-text('The outcome')", timeout=60_000)
    draft = ScorecardDraft.objects.get()
    assert draft.proposal["target"]["source"] == "Outcome"
    accessible(page, "review")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_width(page)
    screenshot(page, "builder-review-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.fill("#id_label", "Personal loan")
    page.fill("#id_key", "personal_loan")
    page.fill("#id_currency", "SEK")
    page.click("button[value=save]")
    page.wait_for_selector("text=Saved personal_loan declaration v1")
    accessible(page, "saved")
    page.uncheck("input[name=search]")
    page.click("button:has-text('Train the first model')")
    page.wait_for_selector("a:has-text('Candidate')", timeout=120_000)
    job = TrainingJob.objects.get(scorecard="personal_loan")
    assert job.model_version is not None
    screenshot(page, "builder-trained")

    page.click("a:has-text('Candidate')")
    page.fill("textarea[name=reason]", "First model of the lender's personal loans.")
    page.click("button:has-text('Promote')")
    page.wait_for_load_state()
    assert ModelVersion.objects.get(scorecard="personal_loan").status == "production"

    page.goto(f"{live_server.url}/scorecards/")
    assert page.is_visible("text=Personal loan")
    screenshot(page, "builder-scorecards")
