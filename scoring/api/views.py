"""Viewsets of the scoring API. Each action: input serializer -> one service or selector ->
output serializer. Who may see which row is the selectors' business (404 otherwise); which
role may call which action is `required_permissions` (403 otherwise). Registered in
`creditportal/api_router.py`, one line per resource."""

import re

from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from applicants.api.views import inputs_errors
from applicants.selectors import application_get_for_user
from creditportal.api.base import SubmitsJobs, filterset_queryset, paginated_response
from creditportal.api.exceptions import Gone
from creditportal.api.parsers import JSONParser
from creditportal.api.serializers import refuse_unknown_fields
from ml.scorecards import SCORECARDS, get_scorecard
from scoring import selectors
from scoring.jobs import lifecycle
from scoring.models import BatchScoringJob, Decision, Prediction, TrainingDataset
from scoring.services import bulk_scoring, datasets, decisions, predictions, registry, training

from .filters import DecisionFilter, ModelPromotionFilter, ModelVersionFilter, PredictionFilter
from .serializers import (
    BatchRowErrorSerializer,
    BatchScoringJobSerializer,
    DecisionCreateSerializer,
    DecisionSerializer,
    JobUploadSerializer,
    ModelPromotionSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    OutcomeInputSerializer,
    OutcomeSerializer,
    OutcomesExportSerializer,
    PredictionSerializer,
    ReasonInputSerializer,
    ScorecardSerializer,
    TrainingDatasetSerializer,
    TrainingJobCreateSerializer,
    TrainingJobSerializer,
    scorecard_inputs_serializer,
)

ID = r"\d+"
# A scorecard's key in a URL (a declaration's key is lower-case letters, digits and `_`).
SCORECARD_KEY = r"[a-z0-9_]+"


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
        "application is not scored or already decided, or (`stale_prediction`) was scored "
        "again after the `prediction` given.",
    )
    def create(self, request):
        serializer = DecisionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        application = application_for_field(user=request.user, application_id=data["application"])
        decision = decisions.decision_create(
            application=application,
            outcome=data["outcome"],
            note=data["note"],
            by=request.user,
            prediction_id=data.get("prediction"),
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
    lookup_value_regex = SCORECARD_KEY
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
class ScorecardScoreViewSet(viewsets.GenericViewSet):
    """Score one applicant's inputs without storing an applicant: for systems that only want
    a decision. The result is stored as a prediction (source `api`) for the audit.

    One route serves every scorecard (`scorecards/{key}/score/`): scorecards are data, and
    one added while the process runs is scored at once. The schema still documents one
    operation per scorecard, with its own request body (`scorecard_score_endpoints`)."""

    filter_backends: list = []
    pagination_class = None
    required_permissions = {"create": ["scoring.add_prediction"]}

    def create(self, request, key: str):
        try:
            get_scorecard(key)
        except KeyError:
            raise Http404("No such scorecard.") from None
        if not isinstance(request.data, dict):
            raise ValidationError(
                {"non_field_errors": ["Send a JSON object of inputs keyed by field name."]}
            )
        prediction = predictions.prediction_create_stateless(
            scorecard_key=key,
            inputs=request.data,
            requested_by=request.user,
            source=Prediction.Source.API,
        )
        return Response(PredictionSerializer(prediction).data, status=status.HTTP_201_CREATED)


def scorecard_score_endpoints(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook: the one stateless-scoring route becomes one
    operation per scorecard that exists when the schema is generated
    (`/scorecards/<key>/score/`, operation `scorecards_<key>_score`), each with
    the request body derived from that scorecard's fields, so a generated client gets a typed
    method per scorecard. A scorecard added later is in the next schema served."""
    expanded = []
    for path, path_regex, method, callback in endpoints:
        if getattr(callback, "cls", None) is not ScorecardScoreViewSet:
            expanded.append((path, path_regex, method, callback))
            continue
        for key in list(SCORECARDS):
            if not re.fullmatch(SCORECARD_KEY, key):  # no URL of the route can hold it
                continue
            try:
                viewset = _scorecard_score_documented(key)
            except KeyError:  # removed while the schema was being generated
                continue
            expanded.append(
                (
                    path.replace("{key}", key),
                    path_regex.replace(f"(?P<key>{SCORECARD_KEY})", key),
                    method,
                    viewset.as_view(callback.actions, **callback.initkwargs),
                )
            )
    return expanded


def _scorecard_score_documented(key: str) -> type[ScorecardScoreViewSet]:
    """A stand-in of `ScorecardScoreViewSet` for one scorecard, only for the schema."""
    scorecard = get_scorecard(key)
    inputs = scorecard_inputs_serializer(key)
    name = f"{inputs.__name__[: -len('InputsSerializer')]}ScoreViewSet"
    viewset = type(name, (ScorecardScoreViewSet,), {})
    return extend_schema_view(
        create=extend_schema(
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
    )(viewset)


class ApplicationScoringViewSet(viewsets.GenericViewSet):
    """The scoring app's actions on an application (`/applications/{id}/score/`, `reopen/`,
    `outcome/`); the application itself is the applicants API's."""

    lookup_value_regex = ID
    filter_backends: list = []
    required_permissions = {
        "score": ["scoring.add_prediction"],
        "reopen": ["scoring.reopen_decision"],
        "outcome": ["scoring.add_applicationoutcome"],
    }

    def _application(self, pk: str):
        return application_get_for_user(user=self.request.user, application_id=int(pk))

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
        refuse_unknown_fields(request)
        application = self._application(pk)
        with inputs_errors(application.scorecard):
            prediction = predictions.prediction_create(
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
        decision = decisions.decision_reopen(
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
        outcome = decisions.outcome_record(
            application=application, by=request.user, **serializer.validated_data
        )
        return Response(OutcomeSerializer(outcome).data)


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
        promotion = registry.model_version_promote(
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


# --- background jobs ------------------------------------------------------------------------


class BatchScoringJobViewSet(SubmitsJobs, viewsets.GenericViewSet):
    """Bulk scoring jobs: your own (every user's for credit managers)."""

    serializer_class = BatchScoringJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    upload_limit_setting = "MAX_BATCH_UPLOAD_MB"  # capped as it streams (creditportal/uploads.py)
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_batchscoringjob"],
        "retrieve": ["scoring.view_batchscoringjob"],
        "create": ["scoring.add_batchscoringjob"],
        "cancel": ["scoring.change_batchscoringjob"],
        "result": ["scoring.view_batchscoringjob"],
        "row_errors": ["scoring.view_batchscoringjob"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BatchScoringJob.objects.none()
        return selectors.batch_job_visible_to(user=self.request.user)

    def _job(self, pk: str) -> BatchScoringJob:
        return selectors.batch_job_get_for_user(user=self.request.user, job_id=int(pk))

    def list(self, request):
        return paginated_response(self, self.get_queryset(), BatchScoringJobSerializer)

    def retrieve(self, request, pk: str):
        return Response(self.get_serializer(self._job(pk)).data)

    @extend_schema(
        request={"multipart/form-data": JobUploadSerializer},
        responses={202: BatchScoringJobSerializer},
        description="Upload a CSV of applicants (multipart: `scorecard`, `file`); it is "
        "scored in the background. 202 with the job; poll it for progress. 400 if the file "
        "is not a CSV, is empty, lacks required columns or is too large; 503 "
        "`broker_unavailable` if the background workers cannot be reached.",
    )
    def create(self, request):
        serializer = JobUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = bulk_scoring.batch_job_create(
            scorecard_key=serializer.validated_data["scorecard"],
            upload=serializer.validated_data["file"],
            owner=request.user,
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: BatchScoringJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        """Cancel a queued job, or stop a running one after its current chunk."""
        refuse_unknown_fields(request)
        job = lifecycle.cancel(job=self._job(pk), by=request.user)
        return Response(self.get_serializer(job).data)

    @extend_schema(
        responses={(200, "text/csv"): bytes},
        description="The result CSV: your columns, then the prediction or the row's error. "
        "Formula-like cells are neutralised. The job's owner and credit managers only. "
        "410 once the job's files were deleted under the retention policy.",
    )
    @action(detail=True, methods=["get"])
    def result(self, request, pk: str):
        job = self._job(pk)
        if job.files_deleted_at:
            raise Gone(bulk_scoring.files_deleted_message(job))
        if not job.result_file:
            raise Http404("This job has no result yet.")
        stem = job.original_name.rsplit(".", 1)[0] or "applicants"
        return FileResponse(
            job.result_file.open("rb"),
            as_attachment=True,
            filename=f"{stem}-scored-job{job.pk}.csv",
            content_type="text/csv; charset=utf-8",
        )

    @extend_schema(responses={200: BatchRowErrorSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="row-errors")
    def row_errors(self, request, pk: str):
        """The invalid rows of the file: row number, field and reason (paginated)."""
        job = self._job(pk)
        return paginated_response(
            self, selectors.batch_row_error_list(job=job), BatchRowErrorSerializer
        )


class TrainingDatasetViewSet(SubmitsJobs, viewsets.GenericViewSet):
    """Labelled CSVs for retraining, validated and described on upload (credit managers); a
    large one is validated by a worker (`status` validating, then ready or rejected)."""

    serializer_class = TrainingDatasetSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    upload_limit_setting = "MAX_TRAINING_UPLOAD_MB"  # capped as it streams
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_trainingdataset"],
        "retrieve": ["scoring.view_trainingdataset"],
        "create": ["scoring.add_trainingdataset"],
        "export_outcomes": ["scoring.add_trainingdataset"],
    }

    def get_queryset(self):
        return selectors.training_dataset_list()

    def list(self, request):
        return paginated_response(self, self.get_queryset(), TrainingDatasetSerializer)

    def retrieve(self, request, pk: str):
        dataset = selectors.training_dataset_get(dataset_id=int(pk))
        return Response(self.get_serializer(dataset).data)

    @extend_schema(
        request={"multipart/form-data": JobUploadSerializer},
        responses={201: TrainingDatasetSerializer, 202: TrainingDatasetSerializer},
        description="Upload a labelled CSV (multipart: `scorecard`, `file`). 201 with its "
        "cleaning report when it was validated at once (small files); 202 with `status` "
        "`validating` when a worker validates it (poll it: `ready`, or `rejected` with the "
        "`error`). 400 if it is not a CSV, is empty, lacks required columns or the target, "
        "or is too large; 503 `broker_unavailable` if a large file cannot be queued.",
    )
    def create(self, request):
        serializer = JobUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = datasets.training_dataset_create(
            scorecard_key=serializer.validated_data["scorecard"],
            upload=serializer.validated_data["file"],
            by=request.user,
        )
        validating = dataset.status == TrainingDataset.Status.VALIDATING
        return Response(
            self.get_serializer(dataset).data,
            status=status.HTTP_202_ACCEPTED if validating else status.HTTP_201_CREATED,
        )

    @extend_schema(request=OutcomesExportSerializer, responses={201: TrainingDatasetSerializer})
    @action(detail=False, methods=["post"], url_path="export-outcomes")
    def export_outcomes(self, request):
        """Decided applications with a recorded outcome, stored as a training dataset."""
        serializer = OutcomesExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = datasets.training_dataset_from_outcomes(
            scorecard_key=serializer.validated_data["scorecard"], by=request.user
        )
        return Response(self.get_serializer(dataset).data, status=status.HTTP_201_CREATED)


class TrainingJobViewSet(SubmitsJobs, viewsets.GenericViewSet):
    """Retraining jobs (credit managers): each ends with a candidate model version."""

    serializer_class = TrainingJobSerializer
    lookup_value_regex = ID
    required_permissions = {
        "list": ["scoring.view_trainingjob"],
        "retrieve": ["scoring.view_trainingjob"],
        "create": ["scoring.add_trainingjob"],
        "cancel": ["scoring.change_trainingjob"],
    }

    def get_queryset(self):
        return selectors.training_job_list(with_log=True)

    def list(self, request):
        return paginated_response(self, self.get_queryset(), TrainingJobSerializer)

    def retrieve(self, request, pk: str):
        return Response(self.get_serializer(selectors.training_job_get(job_id=int(pk))).data)

    @extend_schema(request=TrainingJobCreateSerializer, responses={202: TrainingJobSerializer})
    def create(self, request):
        serializer = TrainingJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = training.training_job_create(
            scorecard_key=serializer.validated_data["scorecard"],
            dataset=serializer.validated_data.get("dataset"),
            search=serializer.validated_data["search"],
            by=request.user,
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: TrainingJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        refuse_unknown_fields(request)
        job = lifecycle.cancel(job=selectors.training_job_get(job_id=int(pk)), by=request.user)
        return Response(self.get_serializer(job).data)
