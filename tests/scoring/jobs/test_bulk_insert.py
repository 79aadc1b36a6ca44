"""Rows into the database in one statement (COPY text on PostgreSQL)."""

import json

from hypothesis import given
from hypothesis import strategies as st

from scoring.jobs import bulk_insert
from scoring.models import (
    Prediction,
)
from scoring.services import bulk_chunks, bulk_scoring
from tests.scoring.jobkit import card_default_csv, upload

_copy_values = (
    st.none()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.text()
    | st.sampled_from(["reason\\u2013", "tab\there", "plain", "\\N"])
)


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(st.tuples(*[_copy_values] * width), min_size=1, max_size=40)
    ),
    st.sampled_from([None, 7, -0.0, "same text"]),
)
def test_copy_text_writes_each_value_as_copy_text_value_does(rows, constant):
    """Column by column, with its shortcuts (one object repeated, text without a special
    character, repeated text), it writes what escaping value by value writes."""
    rows = [(*row, constant, row[0]) for row in rows]
    expected = "".join("\t".join(map(bulk_insert.copy_text_value, row)) + "\n" for row in rows)
    assert bulk_insert.copy_text(rows) == expected


def test_bulk_insert_keeps_every_character(officer, production_model):
    """The bulk statement (COPY text on PostgreSQL) stores text and JSON exactly: tabs,
    newlines, backslashes, quotes and non-ASCII included."""
    from django.db import connection
    from django.utils import timezone

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(3)), owner=officer
    )
    awkward = 'tab\there, line\nbreak, back\\slash \\N, "quoted", carriage\rreturn – ok'
    values = {
        "scorecard": "card_default",
        "model_version": production_model.pk,
        "inputs": json.dumps({"note": awkward, "n": -1.5e-05}),
        "predicted_class": "default",
        "probabilities": json.dumps({"no_default": 0.25, "default": 0.75}),
        "risk": 0.75,
        "points": 512,
        "band": "C",
        "band_label": awkward,
        "recommendation": "refer",
        "reasons": json.dumps([{"field": "age", "sentence": awkward}]),
        "segment": json.dumps({"id": None, "description": ""}),
        # A flag echoes a raw cell of the file: any character may be in it.
        "flags": json.dumps([{"field": "education", "rule": "unknown_choice", "value": awkward}]),
        "requested_by": officer.pk,
        "source": "batch",
        "latency_ms": 0.125,
        "created_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        "batch_job": job.pk,
        "row_number": 7,
    }
    bulk_insert.insert(
        Prediction,
        bulk_chunks.PREDICTION_COLUMNS,
        [tuple(values[name] for name in bulk_chunks.PREDICTION_COLUMNS)],
    )
    stored = Prediction.objects.get(batch_job=job, row_number=7)
    assert stored.inputs == {"note": awkward, "n": -1.5e-05}
    assert stored.band_label == awkward
    assert stored.reasons == [{"field": "age", "sentence": awkward}]
    assert stored.segment == {"id": None, "description": ""}
    assert stored.flags == [{"field": "education", "rule": "unknown_choice", "value": awkward}]
    assert (stored.points, stored.risk, stored.latency_ms) == (512, 0.75, 0.125)
