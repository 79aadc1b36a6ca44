"""Reads on applicants and applications. Every query here takes the user asking.

An officer sees only the applicants they own (and those applicants' applications); a credit
manager or administrator sees all. Asking for a row you may not see is indistinguishable from
asking for one that does not exist: both raise Http404.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, QuerySet
from django.http import Http404

from creditportal.roles import can_see_all_applicants

from .filters import ApplicantFilter, ApplicationFilter
from .models import Applicant, Application

User = get_user_model()


def applicant_visible_to(*, user) -> QuerySet[Applicant]:
    queryset = Applicant.objects.select_related("owner")
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(owner=user)


def application_visible_to(*, user) -> QuerySet[Application]:
    queryset = Application.objects.select_related("applicant", "applicant__owner", "created_by")
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(applicant__owner=user)


def applicant_list(*, user, filters: dict[str, Any] | None = None) -> ApplicantFilter:
    """The applicants the user may see, filtered; the FilterSet carries the form and `.qs`."""
    queryset = (
        applicant_visible_to(user=user)
        .annotate(
            application_count=Count("applications", distinct=True),
            last_application_at=Max("applications__created_at"),
        )
        .order_by("full_name", "id")  # Meta.ordering is not applied to GROUP BY queries
    )
    filterset = ApplicantFilter(filters or {}, queryset=queryset)
    if not can_see_all_applicants(user):
        del filterset.filters["owner"]
    return filterset


def application_list(*, user, filters: dict[str, Any] | None = None) -> ApplicationFilter:
    filterset = ApplicationFilter(filters or {}, queryset=application_visible_to(user=user))
    if not can_see_all_applicants(user):
        del filterset.filters["owner"]
    return filterset


def applicant_get_for_user(*, user, applicant_id: int) -> Applicant:
    try:
        return applicant_visible_to(user=user).get(pk=applicant_id)
    except Applicant.DoesNotExist:
        raise Http404("No such applicant.") from None


def application_get_for_user(*, user, application_id: int) -> Application:
    try:
        return application_visible_to(user=user).get(pk=application_id)
    except Application.DoesNotExist:
        raise Http404("No such application.") from None


def officer_list() -> QuerySet:
    """Active users who can own applicants: the choices when a manager reassigns."""
    return (
        User.objects.filter(is_active=True)
        .filter(groups__permissions__codename="add_applicant")
        .distinct()
        .order_by("username")
    )


def application_list_for_applicant(*, applicant: Applicant) -> QuerySet[Application]:
    """An applicant's applications, newest first (the caller has already got the applicant
    through `applicant_get_for_user`)."""
    return applicant.applications.select_related(
        "applicant", "applicant__owner", "created_by"
    ).order_by("-created_at", "-id")
