"""Writes of the scoring app: registering and promoting models, scoring, deciding."""

import time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from applicants.models import Application
from applicants.services import scorecard_inputs_validate
from creditportal.errors import ApplicationError
from ml.artifacts import MANIFEST_FILE, MODEL_FILE, build_manifest, dump_model_bytes, file_sha256
from ml.scorecards import get_scorecard
from ml.train import TrainingResult

from .models import ApplicationOutcome, Decision, ModelPromotion, ModelVersion, Prediction
from .registry import production_model

PROMOTABLE = (ModelVersion.Status.CANDIDATE, ModelVersion.Status.ARCHIVED)
SCORABLE = (Application.Status.DRAFT, Application.Status.SUBMITTED, Application.Status.SCORED)


@transaction.atomic
def model_version_register(
    *,
    result: TrainingResult,
    created_by=None,
    training_data_description: str = "",
    notes: str = "",
) -> ModelVersion:
    """Store a trained model as the scorecard's next version, a *candidate*."""
    model, report = result.model, result.report
    scorecard_key = model.key
    # Lock the scorecard's versions so two trainings cannot take the same number.
    list(ModelVersion.objects.select_for_update().filter(scorecard=scorecard_key).values("pk"))
    latest = ModelVersion.objects.filter(scorecard=scorecard_key).aggregate(Max("version"))
    data = dump_model_bytes(model)
    sha256 = file_sha256(data)
    manifest = build_manifest(model, sha256)
    version = ModelVersion(
        scorecard=scorecard_key,
        version=(latest["version__max"] or 0) + 1,
        status=ModelVersion.Status.CANDIDATE,
        algorithm=type(model.pipeline.steps[-1][1]).__name__,
        hyperparameters=report.get("hyperparameters", {}),
        features=report.get("features", {}).get("inputs", model.input_fields),
        metrics=report.get("quality", {}),
        report=report,
        policy=report.get("policy", {}),
        score_scaling=report.get("score_scaling", {}),
        manifest=manifest.to_dict(),
        artifact_sha256=sha256,
        training_data_sha256=report.get("data_sha256", ""),
        training_data_description=training_data_description[:300],
        is_synthetic=bool(report.get("synthetic")),
        created_by=created_by,
        notes=notes,
    )
    version.artifact.save(MODEL_FILE, ContentFile(data), save=False)
    version.full_clean()
    version.save()
    version.artifact.storage.save(
        f"models/{scorecard_key}/v{version.version}/{MANIFEST_FILE}",
        ContentFile((manifest.to_json() + "\n").encode()),
    )
    return version


def model_version_promote(*, version: ModelVersion, by, reason: str) -> ModelPromotion:
    """Make `version` the scorecard's production model (a roll-back is promoting an older one).

    Credit managers only. The previous production version is archived and the promotion is
    written to the history, which is never deleted.
    """
    if not by.has_perm("scoring.promote_modelversion"):
        raise PermissionDenied("Only a credit manager can promote a model version.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why this version should serve predictions."})
    return _promote(version=version, by=by, reason=reason.strip())


@transaction.atomic
def _promote(*, version: ModelVersion, by, reason: str) -> ModelPromotion:
    versions = ModelVersion.objects.select_for_update().filter(scorecard=version.scorecard)
    version = versions.get(pk=version.pk)
    if version.status == ModelVersion.Status.PRODUCTION:
        raise ApplicationError(f"{version} is already in production.")
    if version.status not in PROMOTABLE:
        raise ApplicationError(
            f"{version} is {version.get_status_display().lower()}; only a candidate or an "
            "archived version can be promoted."
        )
    previous = versions.filter(status=ModelVersion.Status.PRODUCTION).first()
    if previous:
        previous.status = ModelVersion.Status.ARCHIVED
        previous.save(update_fields=["status"])
    version.status = ModelVersion.Status.PRODUCTION
    version.save(update_fields=["status"])
    return ModelPromotion.objects.create(
        scorecard=version.scorecard,
        from_version=previous,
        to_version=version,
        promoted_by=by,
        reason=reason,
    )


def model_version_promote_initial(*, version: ModelVersion) -> ModelPromotion:
    """Put the first model of a scorecard in production at start-up (no user involved)."""
    if ModelVersion.objects.filter(
        scorecard=version.scorecard, status=ModelVersion.Status.PRODUCTION
    ).exists():
        raise ApplicationError(f"'{version.scorecard}' already has a production model.")
    return _promote(
        version=version, by=None, reason="First model, trained and promoted automatically."
    )


def model_version_promote_automatic(*, version: ModelVersion, reason: str) -> ModelPromotion:
    """Promotion decided by the auto-promotion rule a credit manager switched on (no user)."""
    return _promote(version=version, by=None, reason=reason)


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


@transaction.atomic
def decision_create(*, application: Application, outcome: str, note: str = "", by) -> Decision:
    """Decide a scored application on its latest prediction; an override needs a note."""
    if not by.has_perm("scoring.add_decision"):
        raise PermissionDenied("Your role does not allow recording decisions.")
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status == Application.Status.DECIDED:
        raise ApplicationError(
            "This application has already been decided; a credit manager must reopen it "
            "before it can be decided again."
        )
    if application.status != Application.Status.SCORED:
        raise ApplicationError("Score the application before recording a decision.")
    prediction = application.predictions.order_by("-created_at", "-id").first()
    if prediction is None:
        raise ApplicationError("Score the application before recording a decision.")
    is_override = outcome != prediction.recommendation
    if is_override and not note.strip():
        raise ValidationError(
            {
                "note": f"A note is required when the decision ({outcome}) differs from the "
                f"model's recommendation ({prediction.recommendation})."
            }
        )
    decision = Decision(
        application=application,
        prediction=prediction,
        outcome=outcome,
        note=note.strip(),
        is_override=is_override,
        decided_by=by,
    )
    decision.full_clean()
    decision.save()
    application.status = Application.Status.DECIDED
    application.save(update_fields=["status", "updated_at"])
    return decision


@transaction.atomic
def decision_reopen(*, application: Application, by, reason: str) -> Decision:
    """A credit manager reopens a decided application; the old decision is kept, marked."""
    if not by.has_perm("scoring.reopen_decision"):
        raise PermissionDenied("Only a credit manager can reopen a decided application.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the application is reopened."})
    application = Application.objects.select_for_update().get(pk=application.pk)
    decision = application.decisions.filter(reopened_at__isnull=True).first()
    if application.status != Application.Status.DECIDED or decision is None:
        raise ApplicationError("Only a decided application can be reopened.")
    decision.reopened_at = timezone.now()
    decision.reopened_by = by
    decision.reopen_reason = reason.strip()
    decision.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    application.status = Application.Status.SCORED
    application.save(update_fields=["status", "updated_at"])
    return decision


def outcome_record(
    *, application: Application, outcome_class: str, note: str = "", by
) -> ApplicationOutcome:
    """Record what really happened (e.g. defaulted) so models can be measured on outcomes."""
    if not by.has_perm("scoring.add_applicationoutcome"):
        raise PermissionDenied("Only a credit manager can record realised outcomes.")
    scorecard = get_scorecard(application.scorecard)
    if outcome_class not in scorecard.classes:
        choices = ", ".join(scorecard.classes)
        raise ValidationError({"outcome_class": f"Must be one of: {choices}."})
    if not Application.objects.filter(
        pk=application.pk, status=Application.Status.DECIDED
    ).exists():
        raise ApplicationError("Record an outcome only for a decided application.")
    outcome, _ = ApplicationOutcome.objects.update_or_create(
        application=application,
        defaults={"outcome_class": outcome_class, "note": note.strip(), "recorded_by": by},
    )
    return outcome
