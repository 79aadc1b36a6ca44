"""The scorecard builder and the stored declarations over the API (credit managers).

- `POST /scorecard-drafts/` (multipart `file`): store a labelled CSV, a worker profiles it
  (202; poll `GET /scorecard-drafts/{id}/` until `status` is `succeeded`: `profile` and the
  proposed `proposal` declaration);
- `POST /scorecard-drafts/{id}/save/` with `{"declaration": {...}}` (the proposal, edited) or
  `{"edits": {...}}`: store it as a declaration (400 lists every rule it breaks);
- `POST /scorecard-drafts/{id}/train/`: the file becomes the training dataset, a training
  job is queued (then promote its candidate as any other);
- `GET /declarations/` and `/declarations/{id}/`; `POST /declarations/` stores a document
  directly (a new scorecard, or the next version of one).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from applicants.models import ScorecardDeclaration
from applicants.scorecards import declaration_store, declaration_waits_for
from creditportal.api.base import SubmitsJobs, paginated_response
from creditportal.api.parsers import JSONParser
from creditportal.api.serializers import AnyObjectField, InputSerializer, UserSummarySerializer
from ml.declaration import DeclarationError
from scoring import selectors
from scoring.models import ScorecardDraft
from scoring.services import builder

from .serializers import TrainingJobSerializer

ID = r"[0-9]{1,18}"
MANAGE = "applicants.manage_scorecards"


class DeclarationSerializer(serializers.ModelSerializer):
    document = AnyObjectField(read_only=True)
    created_by = UserSummarySerializer(
        read_only=True, allow_null=True, help_text="Empty for the shipped declarations."
    )

    waits_for = serializers.SerializerMethodField(
        help_text="Why this version is not used yet (it changes what the production model "
        "reads: used once a model trained on it is promoted); empty when it is in use."
    )

    class Meta:
        model = ScorecardDeclaration
        fields = [
            "id",
            "key",
            "version",
            "document",
            "sha256",
            "note",
            "created_by",
            "created_at",
            "waits_for",
        ]
        read_only_fields = fields

    def get_waits_for(self, declaration) -> list[str]:
        return declaration_waits_for(declaration)


class DeclarationInputSerializer(InputSerializer):
    document = serializers.JSONField(help_text="A declaration, format 1 (docs/declarations.md).")
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    def validate_document(self, value):
        if not isinstance(value, dict):
            raise ValidationError("Send the declaration as a JSON object.")
        return value


class ScorecardDraftSerializer(serializers.ModelSerializer):
    profile = AnyObjectField(read_only=True)
    proposal = AnyObjectField(read_only=True)
    created_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = ScorecardDraft
        fields = [
            "id",
            "original_name",
            "size_bytes",
            "status",
            "stage",
            "progress",
            "error",
            "profile",
            "proposal",
            "declaration",
            "dataset",
            "training_job",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class DraftUploadSerializer(InputSerializer):
    file = serializers.FileField(help_text="A labelled CSV of past loans.")


class DraftSaveSerializer(InputSerializer):
    declaration = serializers.JSONField(
        required=False, help_text="The whole declaration (the proposal, edited)."
    )
    edits = serializers.JSONField(
        required=False, help_text="Or edits applied to the proposal (see the builder's docs)."
    )

    def validate(self, attrs):
        if ("declaration" in attrs) == ("edits" in attrs):
            raise ValidationError({"declaration": "Send either `declaration` or `edits`."})
        for name in ("declaration", "edits"):
            if name in attrs and not isinstance(attrs[name], dict):
                raise ValidationError({name: "Send a JSON object."})
        return attrs


class DraftTrainSerializer(InputSerializer):
    search = serializers.BooleanField(default=True)


def _declaration_errors(error: DeclarationError | DjangoValidationError) -> ValidationError:
    if isinstance(error, DeclarationError):
        return ValidationError({"declaration": error.errors})
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


class DeclarationViewSet(viewsets.GenericViewSet):
    """Every stored declaration version (never changed once stored)."""

    serializer_class = DeclarationSerializer
    lookup_value_regex = ID
    filter_backends: list = []
    required_permissions = {"list": [MANAGE], "retrieve": [MANAGE], "create": [MANAGE]}

    def list(self, request):
        queryset = ScorecardDeclaration.objects.select_related("created_by").order_by(
            "key", "-version"
        )
        key = request.query_params.get("key")
        if key:
            queryset = queryset.filter(key=key[:64])
        return paginated_response(self, queryset, DeclarationSerializer)

    def retrieve(self, request, pk: str):
        return Response(self.get_serializer(selectors.declaration_get(declaration_id=int(pk))).data)

    @extend_schema(request=DeclarationInputSerializer, responses={201: DeclarationSerializer})
    def create(self, request):
        """Store a declaration: a new scorecard, or the next version of one. 400 lists every
        rule the document breaks, each with its place (`fields[3].max: …`)."""
        serializer = DeclarationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            declaration = declaration_store(
                document=serializer.validated_data["document"],
                user=request.user,
                note=serializer.validated_data.get("note", ""),
            )
        except DeclarationError as error:
            raise _declaration_errors(error) from None
        return Response(self.get_serializer(declaration).data, status=status.HTTP_201_CREATED)


class ScorecardDraftViewSet(SubmitsJobs, viewsets.GenericViewSet):
    """The scorecard builder: a labelled file → profile and proposal → declaration → model."""

    serializer_class = ScorecardDraftSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    upload_limit_setting = "MAX_TRAINING_UPLOAD_MB"
    lookup_value_regex = ID
    filter_backends: list = []
    required_permissions = {
        "list": [MANAGE],
        "retrieve": [MANAGE],
        "create": [MANAGE],
        "save": [MANAGE],
        "train": [MANAGE],
    }

    def list(self, request):
        return paginated_response(self, selectors.scorecard_draft_list(), ScorecardDraftSerializer)

    def retrieve(self, request, pk: str):
        return Response(self.get_serializer(selectors.scorecard_draft_get(draft_id=int(pk))).data)

    @extend_schema(
        request={"multipart/form-data": DraftUploadSerializer},
        responses={202: ScorecardDraftSerializer},
    )
    def create(self, request):
        """Store a labelled CSV; a worker profiles it. Poll the draft until `status` is
        `succeeded` (its `proposal` is ready) or `failed` (its `error` says why)."""
        serializer = DraftUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = builder.scorecard_draft_create(
            upload=serializer.validated_data["file"], by=request.user
        )
        return Response(self.get_serializer(draft).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=DraftSaveSerializer, responses={201: DeclarationSerializer})
    @action(detail=True, methods=["post"])
    def save(self, request, pk: str):
        """Store the reviewed declaration (the whole document, or edits to the proposal)."""
        draft = selectors.scorecard_draft_get(draft_id=int(pk))
        serializer = DraftSaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = serializer.validated_data.get("declaration")
        try:
            if document is None:
                document = builder.draft_document(draft, serializer.validated_data["edits"])
            declaration = builder.scorecard_draft_save(
                draft=draft, document=document, by=request.user
            )
        except DjangoValidationError as error:
            raise _declaration_errors(error) from None
        return Response(DeclarationSerializer(declaration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DraftTrainSerializer, responses={202: TrainingJobSerializer})
    @action(detail=True, methods=["post"])
    def train(self, request, pk: str):
        """The draft's file becomes the scorecard's training dataset; a training job is
        queued (poll `/training-jobs/{id}/`, then promote its candidate)."""
        draft = selectors.scorecard_draft_get(draft_id=int(pk))
        serializer = DraftTrainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = builder.scorecard_draft_train(
            draft=draft, by=request.user, search=serializer.validated_data["search"]
        )
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
