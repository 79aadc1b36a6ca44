"""Scoring: an application or bare inputs through the production model, stored as an audit
record (`Prediction`, never changed afterwards)."""

import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from applicants.models import Application
from applicants.services import scorecard_inputs_validate
from creditportal.errors import ApplicationError
from scoring.models import Prediction
from scoring.serving import production_model

SCORABLE = (Application.Status.DRAFT, Application.Status.SUBMITTED, Application.Status.SCORED)


@transaction.atomic
def prediction_create(
    *, application: Application, requested_by, source: str = Prediction.Source.PORTAL
) -> Prediction:
    """Score an application with its scorecard's production model and store the result."""
    if not requested_by.has_perm("scoring.add_prediction"):
        raise PermissionDenied("Your role does not allow scoring.")
    # Lock the row: a decision recorded meanwhile must not be followed by a new score.
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in SCORABLE:
        raise ApplicationError(
            "This application has been decided; a credit manager must reopen it to score again."
        )
    started = time.perf_counter()
    inputs = scorecard_inputs_validate(
        scorecard_key=application.scorecard, inputs=application.inputs, partial=False
    )
    prediction = _score_and_store(
        scorecard_key=application.scorecard,
        inputs=inputs,
        application=application,
        requested_by=requested_by,
        source=source,
        started=started,
    )
    application.status = Application.Status.SCORED
    application.save(update_fields=["status", "updated_at"])
    return prediction


def prediction_create_stateless(
    *, scorecard_key: str, inputs: dict[str, Any], requested_by, source: str
) -> Prediction:
    """Score inputs without an applicant (API clients that only want a decision); audited."""
    if not requested_by.has_perm("scoring.add_prediction"):
        raise PermissionDenied("Your role does not allow scoring.")
    started = time.perf_counter()
    values = scorecard_inputs_validate(scorecard_key=scorecard_key, inputs=inputs, partial=False)
    return _score_and_store(
        scorecard_key=scorecard_key,
        inputs=values,
        application=None,
        requested_by=requested_by,
        source=source,
        started=started,
    )


def _score_and_store(
    *, scorecard_key, inputs, application, requested_by, source, started
) -> Prediction:
    loaded = production_model(scorecard_key)
    result = loaded.model.predict_one(inputs, validated=True)
    return Prediction.objects.create(
        application=application,
        scorecard=scorecard_key,
        model_version=loaded.row,
        inputs=inputs,
        predicted_class=result.predicted_class,
        probabilities=result.probabilities,
        risk=result.risk,
        points=result.points,
        band=result.band,
        band_label=result.band_label,
        recommendation=result.recommendation,
        reasons=result.reasons,
        segment=result.segment,
        requested_by=requested_by,
        source=source,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
