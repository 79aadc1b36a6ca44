"""Spreadsheet formula injection: no file we hand out starts a cell, or a line, with a live
formula, whatever the lender's data or an attacker's upload holds."""

import csv
import io
import re

import pytest
from django.urls import reverse

from scoring.models import JobStatus
from scoring.services import bulk_scoring
from scoring.services.decisions import decision_create
from scoring.services.predictions import prediction_create
from tests.factories import ApplicationFactory, OfficerFactory
from tests.scoring.jobkit import card_default_csv, upload

pytestmark = pytest.mark.django_db

# A formula right after any line break, not behind the apostrophe that neutralises it.
LIVE_FORMULA_AFTER_A_BREAK = re.compile(r"[\r\n][=+@]")


def test_a_carriage_return_in_an_input_cell_does_not_start_a_live_row(officer, production_model):
    lines = card_default_csv(3, invalid={}).decode().splitlines()
    header, rows = lines[0], lines[1:]
    hostile = ["\"note\r=cmd|' /C calc'!A0\"", '"x\r=1+1"', '"y\n@SUM(A1)"']
    data = "\n".join(
        [header + ",note", *(row + "," + cell for row, cell in zip(rows, hostile, strict=True))]
    )
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(data.encode()), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.result_file.open("rb") as handle:
        text = handle.read().decode()

    assert not LIVE_FORMULA_AFTER_A_BREAK.search(text)
    result = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(result) == 3  # one row per input row: no row smuggled in by a lone \r
    assert [row["note"] for row in result] == [
        "note\r'=cmd|' /C calc'!A0",
        "x\r'=1+1",
        "y\n'@SUM(A1)",
    ]


def test_dashboard_tables_download_neutralised(manager_client, production_model):
    """An officer's own name is theirs to choose: it reaches the managers' officers table."""
    officer = OfficerFactory(first_name='=HYPERLINK("http://evil.example")', last_name="")
    application = ApplicationFactory(applicant__owner=officer)
    prediction_create(application=application, requested_by=officer)
    decision_create(application=application, outcome="decline", note="n", by=officer)

    response = manager_client.get(reverse("dashboard:portfolio"), {"csv": "officers"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example")'
