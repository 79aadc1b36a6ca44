"""REST API of the background jobs: bulk scoring, training datasets and retraining jobs.

Registered on the v1 router in `creditportal/api.py`. Same conventions as `scoring/api/`:
input serializer -> one service -> output serializer; `required_permissions` per action
(403); the selectors decide which rows a user may see (404). Submitting a job is not an
atomic request: the row is committed before its message is published, so a broker that
cannot be reached is answered with 503 `broker_unavailable` and no job is left queued.
"""

from django.db import transaction
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from creditportal.api_base import AnyObjectField, UserSummarySerializer, paginated_response
from creditportal.exceptions import Gone
from ml.scorecards import SCORECARDS

from . import jobs, selectors
from .models import BatchScoringJob, TrainingDataset, TrainingJob

ID = r"\d+"


class BrokerUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The background workers cannot be reached; try again later."
    default_code = "broker_unavailable"


def _submit(service, **kwargs):
    try:
        return service(**kwargs)
    except jobs.JobQueueUnavailable as error:
        raise BrokerUnavailable(error.message) from error


# --- serializers -------------------------------------------------------------------------------


class JobUploadSerializer(serializers.Serializer):
    scorecard = serializers.ChoiceField(choices=sorted(SCORECARDS))
    file = serializers.FileField(help_text="A CSV file (multipart/form-data).")


class BatchScoringJobSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True)
    progress_percent = serializers.FloatField(source="percent", read_only=True)
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True)
    model_version = serializers.PrimaryKeyRelatedField(read_only=True)
    result_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = BatchScoringJob
        fields = [
            "id",
            "url",
            "scorecard",
            "original_name",
            "size_bytes",
            "status",
            "owner",
            "model_version",
            "rows_total",
            "rows_done",
            "rows_valid",
            "rows_invalid",
            "progress_percent",
            "rows_per_second",
            "eta_seconds",
            "attempts",
            "cancel_requested",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "result_url",
            "files_deleted_at",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, job) -> str:
        return self._absolute(reverse("batch-job-detail", args=[job.pk]))

    def get_result_url(self, job) -> str | None:
        if not job.result_file:
            return None
        return self._absolute(reverse("batch-job-result", args=[job.pk]))


class BatchRowErrorSerializer(serializers.Serializer):
    row_number = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class TrainingDatasetSerializer(serializers.ModelSerializer):
    uploaded_by = UserSummarySerializer(read_only=True)
    cleaning_report = AnyObjectField(read_only=True)
    class_counts = AnyObjectField(read_only=True)

    class Meta:
        model = TrainingDataset
        fields = [
            "id",
            "scorecard",
            "original_name",
            "source",
            "sha256",
            "size_bytes",
            "rows_read",
            "rows_kept",
            "class_counts",
            "cleaning_report",
            "uploaded_by",
            "uploaded_at",
            "status",
            "error",
        ]
        read_only_fields = fields


class OutcomesExportSerializer(serializers.Serializer):
    scorecard = serializers.ChoiceField(choices=sorted(SCORECARDS))


class TrainingJobCreateSerializer(serializers.Serializer):
    scorecard = serializers.ChoiceField(choices=sorted(SCORECARDS))
    dataset = serializers.PrimaryKeyRelatedField(
        queryset=TrainingDataset.objects.all(),
        required=False,
        allow_null=True,
        help_text="Empty: the scorecard's configured extract (or its demo sample).",
    )
    search = serializers.BooleanField(default=False)


class TrainingJobSerializer(serializers.ModelSerializer):
    requested_by = UserSummarySerializer(read_only=True)
    log = serializers.ListField(child=AnyObjectField(), read_only=True)
    comparison = AnyObjectField(read_only=True)
    auto_promotion = AnyObjectField(read_only=True)
    timings = AnyObjectField(read_only=True)

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "scorecard",
            "dataset",
            "search",
            "trigger",
            "status",
            "stage",
            "progress",
            "log",
            "requested_by",
            "model_version",
            "comparison",
            "auto_promotion",
            "timings",
            "attempts",
            "cancel_requested",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


# --- viewsets ----------------------------------------------------------------------------------


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BatchScoringJobViewSet(viewsets.GenericViewSet):
    """Bulk scoring jobs: your own (every user's for credit managers)."""

    serializer_class = BatchScoringJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
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
        job = _submit(
            jobs.batch_job_create,
            scorecard_key=serializer.validated_data["scorecard"],
            upload=serializer.validated_data["file"],
            owner=request.user,
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: BatchScoringJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        """Cancel a queued job, or stop a running one after its current chunk."""
        job = jobs.job_cancel(job=self._job(pk), by=request.user)
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
            raise Gone(jobs.files_deleted_message(job))
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


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TrainingDatasetViewSet(viewsets.GenericViewSet):
    """Labelled CSVs for retraining, validated and described on upload (credit managers); a
    large one is validated by a worker (`status` validating, then ready or rejected)."""

    serializer_class = TrainingDatasetSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
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
        dataset = _submit(
            jobs.training_dataset_create,
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
        dataset = jobs.training_dataset_from_outcomes(
            scorecard_key=serializer.validated_data["scorecard"], by=request.user
        )
        return Response(self.get_serializer(dataset).data, status=status.HTTP_201_CREATED)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TrainingJobViewSet(viewsets.GenericViewSet):
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
        return selectors.training_job_list()

    def list(self, request):
        return paginated_response(self, self.get_queryset(), TrainingJobSerializer)

    def retrieve(self, request, pk: str):
        return Response(self.get_serializer(selectors.training_job_get(job_id=int(pk))).data)

    @extend_schema(request=TrainingJobCreateSerializer, responses={202: TrainingJobSerializer})
    def create(self, request):
        serializer = TrainingJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = _submit(
            jobs.training_job_create,
            scorecard_key=serializer.validated_data["scorecard"],
            dataset=serializer.validated_data.get("dataset"),
            search=serializer.validated_data["search"],
            by=request.user,
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: TrainingJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        job = jobs.job_cancel(job=selectors.training_job_get(job_id=int(pk)), by=request.user)
        return Response(self.get_serializer(job).data)


def register(router) -> None:
    """Put the job resources on the API's v1 router."""
    router.register("batch-jobs", BatchScoringJobViewSet, basename="batch-job")
    router.register("training-datasets", TrainingDatasetViewSet, basename="training-dataset")
    router.register("training-jobs", TrainingJobViewSet, basename="training-job")
