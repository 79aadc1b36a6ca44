"""Reads of the scoring app. Access follows the applicant's owner, as in the portal."""

from django.db.models import QuerySet
from django.http import Http404

from applicants.models import Applicant, Application
from applicants.selectors import application_visible_to
from creditportal.roles import can_see_all_applicants

from .models import Decision, ModelPromotion, ModelVersion, Prediction


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
