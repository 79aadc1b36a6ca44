"""The model registry's writes: a trained model becomes a version; promotion and roll-back."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from applicants.scorecards import declaration_activate, declaration_for, declaration_store
from creditportal.errors import ApplicationError
from ml.artifacts import MANIFEST_FILE, MODEL_FILE, build_manifest, dump_model_bytes, file_sha256
from ml.train import TrainingResult
from scoring import selectors
from scoring.models import ModelPromotion, ModelVersion

PROMOTABLE = (ModelVersion.Status.CANDIDATE, ModelVersion.Status.ARCHIVED)


@transaction.atomic
def model_version_register(
    *,
    result: TrainingResult,
    created_by=None,
    training_data_description: str = "",
    notes: str = "",
    declaration=None,
) -> ModelVersion:
    """Store a trained model as the scorecard's next version, a *candidate*. `declaration`:
    the stored version it was trained on (a training job's); else the one whose document
    the model carries."""
    model, report = result.model, result.report
    scorecard_key = model.key
    # Lock the scorecard's versions so two trainings cannot take the same number.
    list(ModelVersion.objects.select_for_update().filter(scorecard=scorecard_key).values("pk"))
    latest = ModelVersion.objects.filter(scorecard=scorecard_key).aggregate(Max("version"))
    # Every model records the declaration it was trained on (stored now if it never was,
    # e.g. a shipped scorecard on a database set up before declarations were stored).
    declaration = (
        declaration
        or declaration_for(model.scorecard)
        or declaration_store(
            document=model.scorecard.to_document(), note="Stored when a model was trained on it."
        )
    )
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
        declaration=declaration,
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
    previous = selectors.production_versions(versions).first()
    if previous:
        previous.status = ModelVersion.Status.ARCHIVED
        previous.save(update_fields=["status"])
    version.status = ModelVersion.Status.PRODUCTION
    version.save(update_fields=["status"])
    if version.declaration is not None:
        # Officers' forms and the API now ask for the fields this model was trained on.
        declaration_activate(version.declaration)
    return ModelPromotion.objects.create(
        scorecard=version.scorecard,
        from_version=previous,
        to_version=version,
        promoted_by=by,
        reason=reason,
    )


def model_version_promote_initial(*, version: ModelVersion) -> ModelPromotion:
    """Put the first model of a scorecard in production at start-up (no user involved)."""
    if selectors.scorecard_has_production(scorecard_key=version.scorecard):
        raise ApplicationError(f"'{version.scorecard}' already has a production model.")
    return _promote(
        version=version, by=None, reason="First model, trained and promoted automatically."
    )


def model_version_promote_automatic(*, version: ModelVersion, reason: str) -> ModelPromotion:
    """Promotion decided by the auto-promotion rule a credit manager switched on (no user)."""
    return _promote(version=version, by=None, reason=reason)
