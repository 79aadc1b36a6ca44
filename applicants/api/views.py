"""Viewsets of applicants and applications. Each action: input serializer -> one service (or
selector) -> output serializer. The selectors decide who sees what (another officer's
applicant is a 404, as in the portal); `required_permissions` decides which role may call
which action (403 otherwise). Scoring, reopening and outcomes of an application are the
scoring app's actions on the same URLs (`scoring/api/views.py`).
"""

from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from applicants import selectors, services
from applicants.filters import ApplicantFilter, ApplicationFilter
from applicants.models import Applicant, Application
from creditportal.api.base import filterset_queryset, paginated_response
from creditportal.api.serializers import refuse_unknown_fields
from ml.scorecards import SCORECARDS

from .serializers import (
    ApplicantInputSerializer,
    ApplicantSerializer,
    ApplicationCreateSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    ArchiveInputSerializer,
    ReassignInputSerializer,
)

User = get_user_model()
ID = r"\d+"


class ApplicantViewSet(viewsets.GenericViewSet):
    """Applicants: officers see and manage their own, credit managers everyone's."""

    serializer_class = ApplicantSerializer
    filterset_class = ApplicantFilter  # documents the query parameters of `list`
    lookup_value_regex = ID
    required_permissions = {
        "list": ["applicants.view_applicant"],
        "retrieve": ["applicants.view_applicant"],
        "create": ["applicants.add_applicant"],
        "update": ["applicants.change_applicant"],
        "partial_update": ["applicants.change_applicant"],
        "archive": ["applicants.change_applicant"],
        "reassign": ["applicants.reassign_applicant"],
        "applications": ["applicants.view_application"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Applicant.objects.none()
        return selectors.applicant_visible_to(user=self.request.user)

    def _applicant(self, pk: str) -> Applicant:
        return selectors.applicant_get_for_user(user=self.request.user, applicant_id=int(pk))

    @extend_schema(
        description="`owner` filters by officer for credit managers (ignored for officers); "
        "without `archived`, archived applicants are left out."
    )
    def list(self, request):
        filterset = selectors.applicant_list(user=request.user, filters=request.query_params)
        return paginated_response(self, filterset_queryset(filterset), ApplicantSerializer)

    def retrieve(self, request, pk: str):
        return Response(ApplicantSerializer(self._applicant(pk)).data)

    @extend_schema(request=ApplicantInputSerializer, responses={201: ApplicantSerializer})
    def create(self, request):
        serializer = ApplicantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        applicant = services.applicant_create(owner=request.user, data=serializer.validated_data)
        return Response(ApplicantSerializer(applicant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ApplicantInputSerializer, responses={200: ApplicantSerializer})
    def update(self, request, pk: str, partial: bool = False):
        applicant = self._applicant(pk)
        serializer = ApplicantInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        applicant = services.applicant_update(applicant=applicant, data=serializer.validated_data)
        return Response(ApplicantSerializer(applicant).data)

    @extend_schema(request=ApplicantInputSerializer, responses={200: ApplicantSerializer})
    def partial_update(self, request, pk: str):
        return self.update(request, pk, partial=True)

    @extend_schema(request=ArchiveInputSerializer, responses={200: ApplicantSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk: str):
        """Archive (or, with `archived: false`, restore) an applicant. Nothing is deleted."""
        applicant = self._applicant(pk)
        serializer = ArchiveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        applicant = services.applicant_set_archived(
            applicant=applicant, archived=serializer.validated_data["archived"]
        )
        return Response(ApplicantSerializer(applicant).data)

    @extend_schema(request=ReassignInputSerializer, responses={200: ApplicantSerializer})
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk: str):
        """Give the applicant to another loan officer (credit managers)."""
        applicant = self._applicant(pk)
        serializer = ReassignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new_owner = User.objects.filter(pk=serializer.validated_data["owner"]).first()
        if new_owner is None:
            raise ValidationError({"owner": ["No such user."]})
        applicant = services.applicant_reassign(
            applicant=applicant, new_owner=new_owner, by=request.user
        )
        return Response(ApplicantSerializer(applicant).data)

    @extend_schema(responses={200: ApplicationSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def applications(self, request, pk: str):
        """The applicant's applications, newest first."""
        applicant = self._applicant(pk)
        queryset = selectors.application_list_for_applicant(applicant=applicant)
        return paginated_response(self, queryset, ApplicationSerializer)


class ApplicationViewSet(viewsets.GenericViewSet):
    """Applications with their scorecard inputs: creating, changing, submitting."""

    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    lookup_value_regex = ID
    required_permissions = {
        "list": ["applicants.view_application"],
        "retrieve": ["applicants.view_application"],
        "create": ["applicants.add_application"],
        "update": ["applicants.change_application"],
        "partial_update": ["applicants.change_application"],
        "submit": ["applicants.change_application"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Application.objects.none()
        return selectors.application_visible_to(user=self.request.user)

    def _application(self, pk: str) -> Application:
        return selectors.application_get_for_user(user=self.request.user, application_id=int(pk))

    @extend_schema(description="`owner` filters by officer for credit managers.")
    def list(self, request):
        filterset = selectors.application_list(user=request.user, filters=request.query_params)
        return paginated_response(self, filterset_queryset(filterset), ApplicationSerializer)

    def retrieve(self, request, pk: str):
        return Response(ApplicationSerializer(self._application(pk)).data)

    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer})
    def create(self, request):
        serializer = ApplicationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        applicant = _applicant_for_field(user=request.user, applicant_id=data["applicant"])
        with inputs_errors(data["scorecard"], inputs=data["inputs"]):
            application = services.application_create(
                applicant=applicant,
                by=request.user,
                scorecard_key=data["scorecard"],
                data=_application_data(data),
                inputs=data["inputs"],
                submit=data["submit"],
            )
        return Response(ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ApplicationUpdateSerializer,
        responses={200: ApplicationSerializer},
        description="Replace an undecided application's terms and inputs. Changing a scored "
        "one sends it back to submitted. 409 once decided.",
    )
    def update(self, request, pk: str, partial: bool = False):
        application = self._application(pk)
        serializer = ApplicationUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inputs = data.get("inputs", {})
        if partial:  # PATCH merges inputs; a null value removes that input
            inputs = {**application.inputs, **inputs}
        with inputs_errors(application.scorecard, inputs=inputs):
            application = services.application_update(
                application=application,
                data=_application_data(data),
                inputs=inputs,
                submit=data.get("submit", False),
            )
        return Response(ApplicationSerializer(application).data)

    @extend_schema(
        request=ApplicationUpdateSerializer,
        responses={200: ApplicationSerializer},
        description="Change some terms or inputs: `inputs` is merged into the stored ones "
        "(null removes an input).",
    )
    def partial_update(self, request, pk: str):
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk: str):
        """Submit a draft once every required input is present and valid."""
        refuse_unknown_fields(request)
        application = self._application(pk)
        with inputs_errors(application.scorecard):
            application = services.application_submit(application=application)
        return Response(ApplicationSerializer(application).data)


def _application_data(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in services.APPLICATION_FIELDS if key in data}


def _applicant_for_field(*, user, applicant_id: int) -> Applicant:
    """An applicant named in a request body; one you may not see is a field error, exactly
    as if it did not exist."""
    try:
        return selectors.applicant_get_for_user(user=user, applicant_id=applicant_id)
    except Http404:
        raise ValidationError({"applicant": ["No such applicant."]}) from None


@contextmanager
def inputs_errors(scorecard_key: str, inputs: Mapping[str, Any] | None = None):
    """Report the scorecard validator's errors under `inputs.<field>`.

    The services raise ValidationError keyed by the scorecard's field names; in an
    application's body those fields live under `inputs`, and one of them may share a name
    with an application field (a consumer loan's `purpose`), so the API names them in full.
    The application's own fields are checked by the input serializer before the service runs.
    The keys of the `inputs` sent are named in full too: the validator refuses unknown ones.
    """
    scorecard = SCORECARDS.get(scorecard_key)
    names = set(scorecard.field_names) if scorecard else set()
    names |= {str(key) for key in inputs or ()}
    try:
        yield
    except DjangoValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = {}
        for name, messages in error.message_dict.items():
            if name == "__all__":
                name = "non_field_errors"
            elif name in names:
                name = f"inputs.{name}"
            renamed[name] = messages
        raise ValidationError(renamed) from None
