"""Reads of the scoring app. Access follows the applicant's owner, as in the portal."""

from django.db.models import Expression, OuterRef, QuerySet, Subquery
from django.http import Http404

from applicants.models import (
    Applicant,
    Application,
    ScorecardDeclaration,
    ScorecardProduct,
)
from applicants.selectors import application_visible_to
from creditportal.roles import can_see_all_applicants
from ml.scorecards import SCORECARDS

from .models import (
    ApplicationOutcome,
    BatchRowError,
    BatchScoringJob,
    Decision,
    ModelPromotion,
    ModelVersion,
    Prediction,
    ScorecardDraft,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
)


def prediction_visible_to(*, user) -> QuerySet[Prediction]:
    queryset = Prediction.objects.select_related(
        "model_version", "requested_by", "application", "application__applicant"
    )
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(application__in=application_visible_to(user=user)) | queryset.filter(
        application__isnull=True, requested_by=user
    )


def prediction_get_for_user(*, user, prediction_id: int) -> Prediction:
    try:
        return prediction_visible_to(user=user).get(pk=prediction_id)
    except Prediction.DoesNotExist:
        raise Http404("No such prediction.") from None


def prediction_list_for_application(*, application: Application) -> QuerySet[Prediction]:
    return application.predictions.select_related("model_version", "requested_by").order_by(
        "-created_at", "-id"
    )


def prediction_list_for_applicant(*, applicant: Applicant) -> QuerySet[Prediction]:
    return (
        Prediction.objects.filter(application__applicant=applicant)
        .select_related("model_version", "requested_by", "application")
        .order_by("-created_at", "-id")
    )


def decision_active(*, application: Application) -> Decision | None:
    return (
        application.decisions.filter(reopened_at__isnull=True)
        .select_related("decided_by", "prediction")
        .first()
    )


def decision_list(*, application: Application) -> QuerySet[Decision]:
    return application.decisions.select_related("decided_by", "reopened_by", "prediction")


def model_version_list(*, scorecard: str | None = None) -> QuerySet[ModelVersion]:
    queryset = ModelVersion.objects.select_related("created_by").defer("report", "manifest")
    if scorecard:
        queryset = queryset.filter(scorecard=scorecard)
    return queryset.order_by("scorecard", "-version")


def model_version_get(*, version_id: int) -> ModelVersion:
    try:
        return ModelVersion.objects.select_related("created_by").get(pk=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None


def promotion_list(*, scorecard: str | None = None) -> QuerySet[ModelPromotion]:
    queryset = ModelPromotion.objects.select_related("from_version", "to_version", "promoted_by")
    return queryset.filter(scorecard=scorecard) if scorecard else queryset


# --- background jobs ---------------------------------------------------------------------------

BATCH_VIEW_ALL_PERMISSION = "scoring.view_all_batchscoringjobs"


def batch_job_visible_to(*, user) -> QuerySet[BatchScoringJob]:
    """Bulk jobs a user may see: their own; every job for credit managers."""
    queryset = BatchScoringJob.objects.select_related("owner", "model_version")
    if user.has_perm(BATCH_VIEW_ALL_PERMISSION):
        return queryset
    return queryset.filter(owner=user)


def batch_job_get_for_user(*, user, job_id: int) -> BatchScoringJob:
    """A job the user may see (and download); 404 whether missing or someone else's."""
    try:
        return batch_job_visible_to(user=user).get(pk=job_id)
    except BatchScoringJob.DoesNotExist:
        raise Http404("No such bulk scoring job.") from None


def batch_row_error_list(*, job: BatchScoringJob) -> QuerySet[BatchRowError]:
    return job.row_errors.order_by("row_number", "field")


def batch_flagged_prediction_list(*, job: BatchScoringJob) -> QuerySet[Prediction]:
    """The job's predictions scored with implausible values set missing, in file order."""
    return (
        job.predictions.exclude(flags=[])
        .only("pk", "row_number", "points", "recommendation", "inputs", "flags")
        .order_by("row_number")
    )


def training_dataset_list(*, scorecard: str | None = None) -> QuerySet[TrainingDataset]:
    queryset = TrainingDataset.objects.select_related("uploaded_by").defer("cleaning_report")
    return queryset.filter(scorecard=scorecard) if scorecard else queryset


def training_dataset_get(*, dataset_id: int) -> TrainingDataset:
    try:
        return TrainingDataset.objects.select_related("uploaded_by").get(pk=dataset_id)
    except TrainingDataset.DoesNotExist:
        raise Http404("No such training dataset.") from None


def training_job_list(
    *, scorecard: str | None = None, with_log: bool = False
) -> QuerySet[TrainingJob]:
    """Retraining jobs, newest first. The log and the comparison (large JSON) are left out
    unless `with_log`: the portal's table does not show them, the API's list does (reading
    them deferred would cost two queries per job)."""
    queryset = TrainingJob.objects.select_related("requested_by", "dataset", "model_version")
    if not with_log:
        queryset = queryset.defer("log", "comparison")
    return queryset.filter(scorecard=scorecard) if scorecard else queryset


def training_job_get(*, job_id: int) -> TrainingJob:
    try:
        return TrainingJob.objects.select_related("requested_by", "dataset", "model_version").get(
            pk=job_id
        )
    except TrainingJob.DoesNotExist:
        raise Http404("No such training job.") from None


def scorecard_job_settings_list() -> dict[str, ScorecardJobSettings]:
    """The job settings of every scorecard (unsaved defaults where none were set)."""
    stored = {s.scorecard: s for s in ScorecardJobSettings.objects.select_related("updated_by")}
    return {key: stored.get(key) or ScorecardJobSettings(scorecard=key) for key in SCORECARDS}


def decision_visible_to(*, user) -> QuerySet[Decision]:
    """Decisions on the applications the user may see (their own applicants' for officers)."""
    queryset = Decision.objects.select_related("decided_by", "reopened_by")
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(application__in=application_visible_to(user=user))


def decision_get_for_user(*, user, decision_id: int) -> Decision:
    try:
        return decision_visible_to(user=user).get(pk=decision_id)
    except Decision.DoesNotExist:
        raise Http404("No such decision.") from None


def production_versions(queryset: QuerySet[ModelVersion] | None = None) -> QuerySet[ModelVersion]:
    """The versions in production (of `queryset`, else of every scorecard): the one way to
    ask. At most one per scorecard (a partial unique constraint), which its index answers."""
    queryset = ModelVersion.objects.all() if queryset is None else queryset
    return queryset.filter(status=ModelVersion.Status.PRODUCTION)


def model_version_production(*, scorecard_key: str) -> ModelVersion | None:
    """The scorecard's production version, or None while it has none."""
    return production_versions().filter(scorecard=scorecard_key).first()


def scorecard_has_production(*, scorecard_key: str) -> bool:
    """Whether the scorecard has a production version (without loading its report)."""
    return production_versions().filter(scorecard=scorecard_key).exists()


def model_version_production_by_scorecard() -> dict[str, ModelVersion]:
    """The production version of each scorecard that has one, by scorecard key."""
    versions = production_versions().defer("report", "manifest")
    return {version.scorecard: version for version in versions}


def promotion_get(*, promotion_id: int) -> ModelPromotion:
    try:
        return promotion_list().get(pk=promotion_id)
    except ModelPromotion.DoesNotExist:
        raise Http404("No such promotion.") from None


def outcome_of(*, application: Application) -> ApplicationOutcome | None:
    """What really happened to the application, once recorded (as last corrected)."""
    return (
        ApplicationOutcome.objects.current()
        .filter(application=application)
        .select_related("recorded_by")
        .first()
    )


def outcome_history(*, application: Application) -> QuerySet[ApplicationOutcome]:
    """Every outcome recorded for the application, the latest first: corrections and what
    they corrected."""
    return ApplicationOutcome.objects.filter(application=application).select_related("recorded_by")


def outcome_class_of(application: OuterRef | Expression) -> Subquery:
    """The current outcome class of `application` (an OuterRef to its id) as a subquery,
    to annotate or filter rows with; None while no outcome is recorded."""
    return Subquery(
        ApplicationOutcome.objects.current()
        .filter(application=application)
        .values("outcome_class")[:1]
    )


# --- scorecards and the builder ---------------------------------------------------------------


def scorecard_product_list() -> list[dict]:
    """Every scorecard with the declaration it uses now, its latest version and its
    production model."""
    production = model_version_production_by_scorecard()
    latest: dict[str, ScorecardDeclaration] = {}
    for declaration in ScorecardDeclaration.objects.order_by("key", "-version").only(
        "id", "key", "version", "created_at", "note"
    ):
        latest.setdefault(declaration.key, declaration)
    rows = []
    for product in ScorecardProduct.objects.select_related("declaration"):
        rows.append(
            {
                "product": product,
                "active": product.declaration,
                "latest": latest.get(product.key),
                "production": production.get(product.key),
                "label": (product.declaration.document or {}).get("label", product.key),
            }
        )
    return rows


def declaration_get(*, declaration_id: int) -> ScorecardDeclaration:
    try:
        return ScorecardDeclaration.objects.select_related("created_by").get(pk=declaration_id)
    except ScorecardDeclaration.DoesNotExist:
        raise Http404("No such declaration.") from None


def declaration_versions(*, key: str):
    return ScorecardDeclaration.objects.filter(key=key).select_related("created_by")


def scorecard_draft_list():
    return ScorecardDraft.objects.select_related("created_by", "declaration").defer(
        "profile", "proposal"
    )


def scorecard_draft_get(*, draft_id: int) -> ScorecardDraft:
    try:
        return ScorecardDraft.objects.select_related(
            "created_by", "declaration", "dataset", "training_job"
        ).get(pk=draft_id)
    except ScorecardDraft.DoesNotExist:
        raise Http404("No such scorecard draft.") from None
