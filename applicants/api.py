"""REST API of applicants and applications: serializers and viewsets (registered in
`creditportal/api.py`).

Each action: input serializer -> one service (or selector) -> output serializer. The
selectors decide who sees what (another officer's applicant is a 404, as in the portal);
`required_permissions` decides which role may call which action (403 otherwise).
"""

from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from creditportal.api_base import (
    AnyObjectField,
    UserSummarySerializer,
    filterset_queryset,
    paginated_response,
)
from ml.scorecards import SCORECARDS
from scoring import services as scoring_services
from scoring.api.serializers import (
    DecisionSerializer,
    OutcomeInputSerializer,
    OutcomeSerializer,
    PredictionSerializer,
    ReasonInputSerializer,
)
from scoring.models import Prediction

from . import selectors, services
from .filters import ApplicantFilter, ApplicationFilter
from .models import Applicant, Application

User = get_user_model()
ID = r"\d+"

# --- applicants -----------------------------------------------------------------------------


class ApplicantSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True, help_text="The loan officer who owns it.")
    national_id_masked = serializers.CharField(
        read_only=True, help_text="Only the last four characters are ever shown."
    )
    email = serializers.CharField(read_only=True, help_text="An email address, or empty.")

    class Meta:
        model = Applicant
        fields = [
            "id",
            "full_name",
            "external_reference",
            "date_of_birth",
            "email",
            "phone",
            "national_id_masked",
            "owner",
            "is_archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApplicantInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    external_reference = serializers.CharField(
        max_length=64, help_text="The lender's own customer reference; unique."
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    national_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        write_only=True,
        help_text="Stored in full, only ever shown masked. On update, blank keeps the stored one.",
    )


class ArchiveInputSerializer(serializers.Serializer):
    archived = serializers.BooleanField(
        default=True, help_text="true archives the applicant, false restores them."
    )


class ReassignInputSerializer(serializers.Serializer):
    owner = serializers.IntegerField(help_text="Id of an active loan officer.")


class ApplicantSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Applicant
        fields = ["id", "full_name", "external_reference"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer):
    applicant = ApplicantSummarySerializer(read_only=True)
    created_by = UserSummarySerializer(read_only=True)
    inputs = AnyObjectField(read_only=True, help_text="Validated inputs by field name.")

    class Meta:
        model = Application
        fields = [
            "id",
            "applicant",
            "scorecard",
            "requested_amount",
            "term_months",
            "purpose",
            "status",
            "inputs",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


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


# --- applications ---------------------------------------------------------------------------

INPUTS_HELP = (
    "The scorecard's inputs keyed by field name (`GET /api/v1/scorecards/{key}/` lists them, "
    "with types, ranges and choices; the `…Inputs` schemas describe each scorecard's). A "
    "draft may leave required inputs out; submitting needs them all. Errors are reported as "
    "`inputs.<field>`."
)


class ApplicationUpdateSerializer(serializers.Serializer):
    requested_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=False
    )
    term_months = serializers.IntegerField(min_value=1, max_value=480)
    purpose = serializers.CharField(max_length=200, required=False, allow_blank=True)
    inputs = AnyObjectField(required=False, default=dict, help_text=INPUTS_HELP)
    submit = serializers.BooleanField(
        default=False, help_text="Submit now: every required input must be present and valid."
    )


class ApplicationCreateSerializer(ApplicationUpdateSerializer):
    applicant = serializers.IntegerField(help_text="One of your applicants.")
    scorecard = serializers.ChoiceField(
        choices=list(SCORECARDS), help_text="The product's scorecard."
    )


class ApplicationViewSet(viewsets.GenericViewSet):
    """Applications with their scorecard inputs; scoring, submitting, reopening."""

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
        "score": ["scoring.add_prediction"],
        "reopen": ["scoring.reopen_decision"],
        "outcome": ["scoring.add_applicationoutcome"],
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
        with _inputs_errors(data["scorecard"]):
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
        with _inputs_errors(application.scorecard):
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
        application = self._application(pk)
        with _inputs_errors(application.scorecard):
            application = services.application_submit(application=application)
        return Response(ApplicationSerializer(application).data)

    @extend_schema(
        request=None,
        responses={201: PredictionSerializer},
        description="Score the application with its scorecard's production model and store "
        "the prediction (source `api`): class, probabilities, points, band, recommendation, "
        "up to four reasons and the segment. 400 names each missing or invalid input; 409 "
        "once decided, or `no_production_model`.",
    )
    @action(detail=True, methods=["post"])
    def score(self, request, pk: str):
        application = self._application(pk)
        with _inputs_errors(application.scorecard):
            prediction = scoring_services.prediction_create(
                application=application, requested_by=request.user, source=Prediction.Source.API
            )
        return Response(PredictionSerializer(prediction).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReasonInputSerializer,
        responses={200: DecisionSerializer},
        description="A credit manager reopens a decided application so it can be scored and "
        "decided again; the decision is kept, marked reopened with who, when and why.",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk: str):
        application = self._application(pk)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = scoring_services.decision_reopen(
            application=application, by=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(DecisionSerializer(decision).data)

    @extend_schema(
        request=OutcomeInputSerializer,
        responses={200: OutcomeSerializer},
        description="Record what really happened to a decided application (credit managers).",
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk: str):
        application = self._application(pk)
        serializer = OutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = scoring_services.outcome_record(
            application=application, by=request.user, **serializer.validated_data
        )
        return Response(OutcomeSerializer(outcome).data)


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
def _inputs_errors(scorecard_key: str):
    """Report the scorecard validator's errors under `inputs.<field>`.

    The services raise ValidationError keyed by the scorecard's field names; in an
    application's body those fields live under `inputs`, and one of them may share a name
    with an application field (german_credit's `purpose`), so the API names them in full.
    The application's own fields are checked by the input serializer before the service runs.
    """
    scorecard = SCORECARDS.get(scorecard_key)
    names = set(scorecard.field_names) if scorecard else set()
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
