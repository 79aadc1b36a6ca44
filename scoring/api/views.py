"""Viewsets of the scoring API. Each action: input serializer -> one service or selector ->
output serializer. Who may see which row is the selectors' business (404 otherwise); which
role may call which action is `required_permissions` (403 otherwise)."""

from django.db import transaction
from django.http import Http404
from django.urls import path
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants.selectors import application_get_for_user
from creditportal.api_base import filterset_queryset, paginated_response
from ml.scorecards import SCORECARDS, get_scorecard

from .. import selectors, services
from ..models import Decision, Prediction
from .filters import DecisionFilter, ModelPromotionFilter, ModelVersionFilter, PredictionFilter
from .serializers import (
    DecisionCreateSerializer,
    DecisionSerializer,
    ModelPromotionSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    PredictionSerializer,
    ReasonInputSerializer,
    ScorecardSerializer,
    scorecard_inputs_serializer,
)

ID = r"\d+"


class PredictionViewSet(viewsets.GenericViewSet):
    """Predictions are audit records: read-only here, created by scoring."""

    serializer_class = PredictionSerializer
    filterset_class = PredictionFilter
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_prediction"],
        "retrieve": ["scoring.view_prediction"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Prediction.objects.none()
        return selectors.prediction_visible_to(user=self.request.user)

    def list(self, request):
        filterset = PredictionFilter(request.query_params, queryset=self.get_queryset())
        return paginated_response(self, filterset_queryset(filterset), PredictionSerializer)

    def retrieve(self, request, pk: str):
        prediction = selectors.prediction_get_for_user(user=request.user, prediction_id=int(pk))
        return Response(PredictionSerializer(prediction).data)


class DecisionViewSet(viewsets.GenericViewSet):
    """Decisions on scored applications. Reopening is `POST /applications/{id}/reopen/`."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_decision"],
        "retrieve": ["scoring.view_decision"],
        "create": ["scoring.add_decision"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Decision.objects.none()
        return selectors.decision_visible_to(user=self.request.user)

    def list(self, request):
        filterset = DecisionFilter(request.query_params, queryset=self.get_queryset())
        return paginated_response(self, filterset_queryset(filterset), DecisionSerializer)

    def retrieve(self, request, pk: str):
        decision = selectors.decision_get_for_user(user=request.user, decision_id=int(pk))
        return Response(DecisionSerializer(decision).data)

    @extend_schema(
        request=DecisionCreateSerializer,
        responses={201: DecisionSerializer},
        description="Decide a scored application on its latest prediction. An outcome that "
        "differs from the recommendation is an override and needs a note. 409 when the "
        "application is not scored or already decided.",
    )
    def create(self, request):
        serializer = DecisionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        application = application_for_field(user=request.user, application_id=data["application"])
        decision = services.decision_create(
            application=application, outcome=data["outcome"], note=data["note"], by=request.user
        )
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


def application_for_field(*, user, application_id: int):
    """An application named in a request body; one you may not see is a field error, as if
    it did not exist."""
    try:
        return application_get_for_user(user=user, application_id=application_id)
    except Http404:
        raise ValidationError({"application": ["No such application."]}) from None


class ScorecardViewSet(viewsets.GenericViewSet):
    """The scorecards and their input fields, so a client can build a form. Score inputs
    without an applicant with `POST /scorecards/{key}/score/`."""

    serializer_class = ScorecardSerializer
    filter_backends: list = []
    lookup_field = "key"
    lookup_value_regex = r"[a-z0-9_]+"
    required_permissions = {"list": [], "retrieve": []}

    def list(self, request):
        return paginated_response(
            self,
            list(SCORECARDS.values()),
            ScorecardSerializer,
            production_versions=selectors.model_version_production_by_scorecard(),
        )

    def retrieve(self, request, key: str):
        try:
            scorecard = get_scorecard(key)
        except KeyError:
            raise Http404("No such scorecard.") from None
        context = {"production_versions": selectors.model_version_production_by_scorecard()}
        return Response(ScorecardSerializer(scorecard, context=context).data)


# Not one transaction per request: the request's single write is the prediction's INSERT,
# atomic on its own. On SQLite a request transaction would hold the write lock from the
# token lookup to the response and serialise every scoring request of every web process.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ScorecardScoreView(APIView):
    """Score one applicant's inputs without storing an applicant: for systems that only want
    a decision. The result is stored as a prediction (source `api`) for the audit."""

    scorecard_key = ""
    required_permissions = {"post": ["scoring.add_prediction"]}

    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError(
                {"non_field_errors": ["Send a JSON object of inputs keyed by field name."]}
            )
        prediction = services.prediction_create_stateless(
            scorecard_key=self.scorecard_key,
            inputs=request.data,
            requested_by=request.user,
            source=Prediction.Source.API,
        )
        return Response(PredictionSerializer(prediction).data, status=status.HTTP_201_CREATED)


def scorecard_score_urls(*, prefix: str) -> list:
    """`{prefix}scorecards/{key}/score/` for each scorecard, each documented with the request
    body derived from that scorecard's fields (so a generated client gets a typed method per
    scorecard). An unknown key matches no route: 404."""
    urls = []
    for key, scorecard in SCORECARDS.items():
        inputs = scorecard_inputs_serializer(key)
        view = extend_schema_view(
            post=extend_schema(
                operation_id=f"scorecards_{key}_score",
                summary=f"Score inputs with {scorecard.label} (stateless)",
                description=(
                    f"{scorecard.description}\n\nThe body holds the inputs keyed by field "
                    "name (see `GET /api/v1/scorecards/" + key + "/`); choice labels and "
                    "numbers written as text are accepted too. Each invalid field is named in "
                    "`error.fields`. 409 `no_production_model` while the scorecard has no "
                    "production model."
                ),
                request=inputs,
                responses={201: PredictionSerializer},
                tags=["scorecards"],
            )
        )(type(f"{inputs.__name__[:-10]}ScoreView", (ScorecardScoreView,), {"scorecard_key": key}))
        urls.append(
            path(f"{prefix}scorecards/{key}/score/", view.as_view(), name=f"scorecard-{key}-score")
        )
    return urls


@extend_schema_view(
    list=extend_schema(description="Every version of every scorecard's model."),
)
class ModelVersionViewSet(viewsets.GenericViewSet):
    """The model registry: read for whoever may view model versions, promotion (and roll
    back: promoting an earlier version) for credit managers."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_modelversion"],
        "retrieve": ["scoring.view_modelversion"],
        "promote": ["scoring.view_modelversion", "scoring.promote_modelversion"],
    }

    def get_queryset(self):
        return selectors.model_version_list()

    def list(self, request):
        filterset = ModelVersionFilter(request.query_params, queryset=self.get_queryset())
        return paginated_response(self, filterset_queryset(filterset), ModelVersionSerializer)

    @extend_schema(responses={200: ModelVersionDetailSerializer})
    def retrieve(self, request, pk: str):
        version = selectors.model_version_get(version_id=int(pk))
        return Response(ModelVersionDetailSerializer(version).data)

    @extend_schema(
        request=ReasonInputSerializer,
        responses={201: ModelPromotionSerializer},
        description="Make this version the scorecard's production model; the previous one is "
        "archived. Rolling back is promoting an earlier (archived) version. Recorded in the "
        "promotion history with who, when and why. 409 if it is already in production or "
        "is not a candidate or archived version.",
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk: str):
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = selectors.model_version_get(version_id=int(pk))
        promotion = services.model_version_promote(
            version=version, by=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(ModelPromotionSerializer(promotion).data, status=status.HTTP_201_CREATED)


class ModelPromotionViewSet(viewsets.GenericViewSet):
    """The promotion history (promotions and roll-backs), newest first. Never deleted."""

    serializer_class = ModelPromotionSerializer
    filterset_class = ModelPromotionFilter
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_modelpromotion"],
        "retrieve": ["scoring.view_modelpromotion"],
    }

    def get_queryset(self):
        return selectors.promotion_list()

    def list(self, request):
        filterset = ModelPromotionFilter(request.query_params, queryset=self.get_queryset())
        return paginated_response(self, filterset_queryset(filterset), ModelPromotionSerializer)

    def retrieve(self, request, pk: str):
        promotion = selectors.promotion_get(promotion_id=int(pk))
        return Response(ModelPromotionSerializer(promotion).data)
