"""Serializers of the scoring API. Output serializers describe stored rows field by field
(they are the OpenAPI schema clients are generated from); input serializers only check the
shape of a request, the services check the rules."""

import math
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applicants.api.serializers import ScorecardKeyField
from creditportal.api.serializers import AnyObjectField, InputSerializer, UserSummarySerializer
from creditportal.filters import MAX_ID
from ml.schema import OUT_OF_RANGE, UNKNOWN_CHOICE, Field, FieldKind, Scorecard
from ml.scorecards import SCORECARDS, get_scorecard
from scoring.jobs import lifecycle
from scoring.models import (
    ApplicationOutcome,
    BatchScoringJob,
    Decision,
    ModelPromotion,
    ModelVersion,
    Prediction,
    Recommendation,
    TrainingDataset,
    TrainingJob,
)

# --- model versions -------------------------------------------------------------------------


class ModelVersionSummarySerializer(serializers.ModelSerializer):
    label = serializers.CharField(
        read_only=True, help_text='e.g. "<scorecard key> v3", "… — demo, synthetic data".'
    )

    class Meta:
        model = ModelVersion
        fields = ["id", "scorecard", "version", "label", "status", "is_synthetic"]
        extra_kwargs = {
            "is_synthetic": {"help_text": "A demo model trained on synthetic data, not real."}
        }


class ModelVersionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    created_by = UserSummarySerializer(allow_null=True, read_only=True)
    hyperparameters = AnyObjectField(read_only=True)
    metrics = AnyObjectField(read_only=True, help_text="Headline test metrics.")
    policy = AnyObjectField(read_only=True, help_text="Decision thresholds on the risk.")
    score_scaling = AnyObjectField(read_only=True, help_text="How risk becomes points.")
    features = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The model's input fields."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "scorecard",
            "version",
            "label",
            "status",
            "algorithm",
            "is_synthetic",
            "hyperparameters",
            "features",
            "metrics",
            "policy",
            "score_scaling",
            "artifact_sha256",
            "training_data_sha256",
            "training_data_description",
            "created_by",
            "created_at",
            "notes",
        ]
        read_only_fields = fields


class ModelVersionDetailSerializer(ModelVersionSerializer):
    report = AnyObjectField(read_only=True, help_text="The full validation report.")

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "report"]
        read_only_fields = fields


class ModelPromotionSerializer(serializers.ModelSerializer):
    from_version = ModelVersionSummarySerializer(
        allow_null=True, read_only=True, help_text="The version it replaced, if any."
    )
    to_version = ModelVersionSummarySerializer(read_only=True)
    promoted_by = UserSummarySerializer(
        allow_null=True, read_only=True, help_text="Empty for the automatic first promotion."
    )

    class Meta:
        model = ModelPromotion
        fields = [
            "id",
            "scorecard",
            "from_version",
            "to_version",
            "promoted_by",
            "promoted_at",
            "reason",
        ]
        read_only_fields = fields


class ReasonInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the history.")


# --- predictions ----------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    """One reason, as `ml.reasons.reason` makes it for every prediction."""

    field = serializers.CharField(help_text="The input field or derived feature.")
    label = serializers.CharField()
    value = serializers.JSONField(
        allow_null=True, help_text="Its value for this applicant (number, text, list or null)."
    )
    direction = serializers.ChoiceField(
        choices=["raises", "lowers"], help_text="Whether it raises or lowers the risk."
    )
    contribution = serializers.FloatField(
        allow_null=True,
        help_text="Its contribution to the risk. Null only on bulk predictions stored before "
        "bulk scoring kept it (stored records are never rewritten).",
    )
    sentence = serializers.CharField(help_text="In words a loan officer understands.")


# Keys a reason stored by an older bulk job may lack; they are served as null.
_REASON_KEYS_ADDED_LATER = {"value": None, "contribution": None}


def reasons_as_served(reasons: list[dict]) -> list[dict]:
    """Stored reasons in the shape the schema promises (older bulk rows lacked two keys)."""
    if all("contribution" in reason for reason in reasons):
        return reasons
    return [{**_REASON_KEYS_ADDED_LATER, **reason} for reason in reasons]


class FlagSerializer(serializers.Serializer):
    """A value of a bulk row that was read but implausible, scored as missing (ml/flags.py)."""

    field = serializers.CharField(help_text="The input field.")
    rule = serializers.ChoiceField(
        choices=[OUT_OF_RANGE, UNKNOWN_CHOICE],
        help_text="out_of_range: outside the field's range; unknown_choice: none of its choices.",
    )
    value = serializers.CharField(help_text="The value as the file had it (40 characters at most).")


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="k-means cluster of the inputs.")
    description = serializers.CharField(allow_blank=True)


class PredictionSerializer(serializers.ModelSerializer):
    model_version = ModelVersionSummarySerializer(read_only=True)
    requested_by = UserSummarySerializer(read_only=True)
    class_label = serializers.SerializerMethodField()
    probabilities = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text="Probability of each class."
    )
    risk = serializers.FloatField(read_only=True, help_text="Probability of the worst class.")
    points = serializers.IntegerField(
        read_only=True,
        help_text="Score in points, higher is safer: 600 at 50:1 good:bad odds, 20 points "
        "double the odds, clipped to 300-850.",
    )
    band = serializers.CharField(read_only=True, help_text="Risk band, A (safest) to E.")
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, read_only=True)
    reasons = ReasonSerializer(
        many=True, read_only=True, help_text="Up to four features that moved the score most."
    )
    segment = SegmentSerializer(read_only=True)
    inputs = AnyObjectField(read_only=True, help_text="The exact inputs scored, by field name.")
    flags = FlagSerializer(
        many=True,
        read_only=True,
        help_text="Values of a bulk row scored as missing because they were implausible; "
        "always empty for the portal and the stateless API, which refuse such values.",
    )

    class Meta:
        model = Prediction
        fields = [
            "id",
            "application",
            "scorecard",
            "model_version",
            "predicted_class",
            "class_label",
            "probabilities",
            "risk",
            "points",
            "band",
            "band_label",
            "recommendation",
            "reasons",
            "segment",
            "inputs",
            "flags",
            "source",
            "requested_by",
            "latency_ms",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"application": {"help_text": "Empty for stateless scoring."}}

    def get_class_label(self, prediction) -> str:
        scorecard = SCORECARDS.get(prediction.scorecard)
        labels = scorecard.class_labels if scorecard else {}
        return labels.get(prediction.predicted_class, prediction.predicted_class)

    def to_representation(self, prediction) -> dict[str, Any]:
        """The fields above, written out by hand.

        DRF builds a ModelSerializer's fields (and its nested serializers') for every
        instance, which cost more than the scoring itself on the stateless endpoint. The
        declared fields still document the shape; tests check that both give the same.
        """
        version = prediction.model_version
        user = prediction.requested_by
        return {
            "id": prediction.pk,
            "application": prediction.application_id,
            "scorecard": prediction.scorecard,
            "model_version": {
                "id": version.pk,
                "scorecard": version.scorecard,
                "version": version.version,
                "label": version.label,
                "status": version.status,
                "is_synthetic": version.is_synthetic,
            },
            "predicted_class": prediction.predicted_class,
            "class_label": self.get_class_label(prediction),
            "probabilities": prediction.probabilities,
            "risk": prediction.risk,
            "points": prediction.points,
            "band": prediction.band,
            "band_label": prediction.band_label,
            "recommendation": prediction.recommendation,
            "reasons": reasons_as_served(prediction.reasons),
            "segment": prediction.segment,
            "inputs": prediction.inputs,
            "flags": prediction.flags,
            "source": prediction.source,
            "requested_by": {
                "id": user.pk,
                "username": user.username,
                "full_name": user.get_full_name(),
            },
            "latency_ms": prediction.latency_ms,
            "created_at": _DATETIME.to_representation(prediction.created_at),
        }


_DATETIME = serializers.DateTimeField()


# --- decisions and outcomes -----------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = UserSummarySerializer(read_only=True)
    reopened_by = UserSummarySerializer(allow_null=True, read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "application",
            "prediction",
            "outcome",
            "note",
            "is_override",
            "is_active",
            "decided_by",
            "decided_at",
            "reopened_at",
            "reopened_by",
            "reopen_reason",
        ]
        read_only_fields = fields

    def get_is_active(self, decision) -> bool:
        """False once a credit manager has reopened the application."""
        return decision.reopened_at is None


class DecisionCreateSerializer(InputSerializer):
    application = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A scored application of yours."
    )
    prediction = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The prediction the decision is made on. When given and the application has "
        "been scored again since, the answer is 409 `stale_prediction`; without it, the "
        "latest prediction is used.",
    )
    outcome = serializers.ChoiceField(choices=Recommendation.choices)
    note = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the outcome differs from the recommendation (an override).",
    )


class OutcomeSerializer(serializers.ModelSerializer):
    recorded_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = ApplicationOutcome
        fields = [
            "id",
            "application",
            "outcome_class",
            "note",
            "corrects",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class OutcomeInputSerializer(InputSerializer):
    outcome_class = serializers.CharField(
        max_length=32, help_text="One of the scorecard's classes, e.g. default / no_default."
    )
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


# --- scorecards -----------------------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ScorecardFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key of this input in `inputs`.")
    kind = serializers.ChoiceField(
        choices=[kind.value for kind in FieldKind],
        help_text="numeric: a number; integer: a whole number; categorical: one of `choices`; "
        "boolean: true/false; multi_categorical: a list of `choices` values.",
    )
    label = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)
    unit = serializers.CharField(allow_blank=True)
    min_value = serializers.FloatField(allow_null=True)
    max_value = serializers.FloatField(allow_null=True)
    choices = serializers.SerializerMethodField()
    required = serializers.BooleanField(help_text="Needed to submit and to score.")
    protected = serializers.BooleanField(
        help_text="Never a model input (e.g. sex, marital status); only for fairness reports."
    )

    @extend_schema_field(ChoiceSerializer(many=True))
    def get_choices(self, field: Field) -> list[dict[str, str]]:
        return [{"value": value, "label": label} for value, label in field.choices]


class ScorecardSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    product = serializers.CharField(help_text="The loan product this scorecard scores.")
    classes = serializers.SerializerMethodField(help_text="Best to worst.")
    fields = ScorecardFieldSerializer(many=True, help_text="The inputs, in form order.")
    production_model = serializers.SerializerMethodField()

    @extend_schema_field(ChoiceSerializer(many=True))
    def get_classes(self, scorecard: Scorecard) -> list[dict[str, str]]:
        return [
            {"value": value, "label": scorecard.class_labels.get(value, value)}
            for value in scorecard.classes
        ]

    @extend_schema_field(ModelVersionSummarySerializer(allow_null=True))
    def get_production_model(self, scorecard: Scorecard) -> dict[str, Any] | None:
        version = self.context.get("production_versions", {}).get(scorecard.key)
        return ModelVersionSummarySerializer(version).data if version else None


# Key -> (the declaration a serializer was built for, that serializer). A scorecard's
# declaration can be replaced while the process runs (a new version): an entry serves only
# the very object it was built from, and holding that object keeps its identity unique.
_INPUTS_SERIALIZERS: dict[str, tuple[Scorecard, type[serializers.Serializer]]] = {}


def scorecard_inputs_serializer(scorecard_key: str) -> type[serializers.Serializer]:
    """A serializer describing one scorecard's inputs, derived from its current declaration.

    It documents the request body of stateless scoring in the OpenAPI schema. Validation
    itself stays with the one scorecard validator (`ml.schema.validate_inputs`, via the
    service), which also accepts choice labels and numbers written as text. KeyError for a
    key that names no scorecard.
    """
    scorecard = get_scorecard(scorecard_key)
    cached = _INPUTS_SERIALIZERS.get(scorecard_key)
    if cached is not None and cached[0] is scorecard:
        return cached[1]
    attrs = {field.name: _input_field(field) for field in scorecard.fields}
    attrs["__doc__"] = f"Inputs of the {scorecard.label} scorecard ({scorecard.key})."
    name = "".join(part.title() for part in scorecard.key.split("_")) + "InputsSerializer"
    serializer = type(name, (serializers.Serializer,), attrs)
    _INPUTS_SERIALIZERS[scorecard_key] = (scorecard, serializer)
    return serializer


def _input_field(field: Field) -> serializers.Field:
    help_text = " ".join(
        part
        for part in (
            field.help_text,
            f"Unit: {field.unit_text}." if field.unit_text else "",
        )
        if part
    )
    common: dict[str, Any] = {
        "required": field.required,
        "allow_null": not field.required,
        "label": field.label,
        "help_text": help_text or None,
    }
    bounds = {
        key: value
        for key, value in (("min_value", field.min_value), ("max_value", field.max_value))
        if value is not None
    }
    if field.kind == FieldKind.NUMERIC:
        return serializers.FloatField(**bounds, **common)
    if field.kind == FieldKind.INTEGER:
        whole = {
            key: (math.ceil(value) if key == "min_value" else math.floor(value))
            for key, value in bounds.items()
        }
        return serializers.IntegerField(**whole, **common)
    if field.kind == FieldKind.BOOLEAN:
        return serializers.BooleanField(**common)
    choice = serializers.ChoiceField(choices=list(field.choices))
    if field.kind == FieldKind.MULTI_CATEGORICAL:
        return serializers.ListField(child=choice, **common)
    return serializers.ChoiceField(choices=list(field.choices), **common)


# --- background jobs ------------------------------------------------------------------------


def job_waiting_note(serializer: serializers.Serializer, job) -> str:
    """`lifecycle.waiting_note`, with the heartbeat query made once per serialized list: the
    items of a list share their root's context, where the answer is kept."""
    context = serializer.context
    any_worker = context.setdefault("any_worker", lifecycle.WorkersRunningOnce())
    return lifecycle.waiting_note(job, any_worker=any_worker)


class JobUploadSerializer(InputSerializer):
    scorecard = ScorecardKeyField()
    file = serializers.FileField(help_text="A CSV file (multipart/form-data).")


class BatchScoringJobSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True)
    progress_percent = serializers.FloatField(source="percent", read_only=True)
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True)
    model_version = serializers.PrimaryKeyRelatedField(read_only=True)
    result_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    waiting_note = serializers.SerializerMethodField(
        help_text='For a queued job when no worker is running, says so; else "".'
    )
    flag_counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        read_only=True,
        help_text="Implausible values scored as missing, by field then rule "
        '(`{"annual_income": {"out_of_range": 120}}`).',
    )
    flag_summary = serializers.CharField(
        read_only=True,
        help_text='"312 rows scored with 1 or more values set missing: annual_income out of '
        'range 120, …"; empty when none was.',
    )

    class Meta:
        model = BatchScoringJob
        fields = [
            "id",
            "url",
            "scorecard",
            "original_name",
            "size_bytes",
            "status",
            "waiting_note",
            "owner",
            "model_version",
            "rows_total",
            "rows_done",
            "rows_valid",
            "rows_invalid",
            "rows_flagged",
            "flag_counts",
            "flag_summary",
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

    def get_waiting_note(self, job) -> str:
        return job_waiting_note(self, job)

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


class OutcomesExportSerializer(InputSerializer):
    scorecard = ScorecardKeyField()


class TrainingJobCreateSerializer(InputSerializer):
    scorecard = ScorecardKeyField()
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
    waiting_note = serializers.SerializerMethodField(
        help_text='For a queued job when no worker is running, says so; else "".'
    )

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "scorecard",
            "dataset",
            "search",
            "trigger",
            "status",
            "waiting_note",
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

    def get_waiting_note(self, job) -> str:
        return job_waiting_note(self, job)
