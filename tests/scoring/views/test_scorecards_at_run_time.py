"""The scoring pages' scorecard choices (bulk upload, training data, outcomes export,
retraining) are read each time a form is made: a scorecard added while the process runs is
offered at once, one removed is refused naming the field (`lender_x`: tests/conftest.py)."""

import pytest
from django.urls import reverse

from scoring.forms import BatchUploadForm, OutcomesExportForm, TrainingJobForm, TrainingUploadForm
from scoring.models import TrainingJob
from tests.scorecardkit import drop_scorecard, use_scorecard

FORMS = [BatchUploadForm, TrainingUploadForm, OutcomesExportForm, TrainingJobForm]


@pytest.mark.parametrize("form_class", FORMS)
def test_forms_offer_the_scorecards_that_exist_now(form_class, lender_x_declaration, db):
    made_before = form_class()
    assert "lender_x" not in dict(made_before.fields["scorecard"].choices)
    use_scorecard(lender_x_declaration)
    assert dict(form_class().fields["scorecard"].choices)["lender_x"] == "Lender X (lender_x)"
    assert "lender_x" in dict(made_before.fields["scorecard"].choices)
    drop_scorecard("lender_x")
    form = form_class(data={"scorecard": "lender_x"})
    assert not form.is_valid()
    assert "Select a valid choice." in form.errors["scorecard"][0]


def test_manager_retrains_an_added_scorecard_from_the_training_page(
    manager_client, lender_x, task_queue
):
    page = manager_client.get(reverse("scoring:training_overview")).content.decode()
    assert 'value="lender_x"' in page
    response = manager_client.post(reverse("scoring:training_job_start"), {"scorecard": "lender_x"})
    job = TrainingJob.objects.get()
    assert response.status_code == 302 and job.scorecard == "lender_x"
    assert task_queue.args_of("scoring.run_training_job") == [(job.pk,)]


def test_bulk_page_offers_an_added_scorecard(officer_client, lender_x, monkeypatch):
    assert (
        'value="lender_x"' in officer_client.get(reverse("scoring:batch_job_list")).content.decode()
    )
    drop_scorecard("lender_x")
    assert 'value="lender_x"' not in (
        officer_client.get(reverse("scoring:batch_job_list")).content.decode()
    )
