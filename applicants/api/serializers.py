"""Serializers of the applicants API. Output serializers describe stored rows field by field
(the OpenAPI schema clients are generated from); input serializers only check the shape of a
request, the services check the rules."""

from decimal import Decimal

from rest_framework import serializers

from applicants.models import Applicant, Application
from applicants.validators import (
    validate_date_of_birth,
    validate_external_reference,
    validate_full_name,
    validate_national_id,
    validate_phone,
    validate_purpose,
)
from creditportal.api.serializers import AnyObjectField, InputSerializer, UserSummarySerializer
from creditportal.filters import MAX_ID
from ml.scorecards import SCORECARDS


class ScorecardKeyField(serializers.ChoiceField):
    """The key of a scorecard that exists now (a product's scorecard in a request body).

    Scorecards are data: one can be added or removed while the process runs, so the choices
    are never fixed when a serializer class is defined. DRF builds each serializer instance's
    fields afresh from their constructor arguments (`Field.__deepcopy__`), so they are read
    here once per serializer instance: per request, and per schema generation. Any other key
    is a 400 naming the field, like any choice field's."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=sorted(SCORECARDS), **kwargs)


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


class ApplicantInputSerializer(InputSerializer):
    # The same rules as the portal's form and the services (applicants/validators.py).
    full_name = serializers.CharField(max_length=200, validators=[validate_full_name])
    external_reference = serializers.CharField(
        max_length=64,
        validators=[validate_external_reference],
        help_text="The lender's own customer reference; unique.",
    )
    date_of_birth = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[validate_date_of_birth],
        help_text="The applicant must be 18 to 120 years old today.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        validators=[validate_phone],
        help_text="Digits 0-9, optionally a leading + and spaces, dashes or parentheses.",
    )
    national_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        write_only=True,
        validators=[validate_national_id],
        help_text="Stored encrypted, only ever shown masked. On update, blank keeps the "
        "stored one.",
    )


class ArchiveInputSerializer(InputSerializer):
    archived = serializers.BooleanField(
        default=True, help_text="true archives the applicant, false restores them."
    )


class ReassignInputSerializer(InputSerializer):
    owner = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of an active loan officer."
    )


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


# --- applications ---------------------------------------------------------------------------

INPUTS_HELP = (
    "The scorecard's inputs keyed by field name (`GET /api/v1/scorecards/{key}/` lists them, "
    "with types, ranges and choices; the `…Inputs` schemas describe each scorecard's). A "
    "draft may leave required inputs out; submitting needs them all. Errors are reported as "
    "`inputs.<field>`."
)


class ApplicationUpdateSerializer(InputSerializer):
    requested_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=False
    )
    term_months = serializers.IntegerField(min_value=1, max_value=480)
    purpose = serializers.CharField(
        max_length=200, required=False, allow_blank=True, validators=[validate_purpose]
    )
    inputs = AnyObjectField(required=False, default=dict, help_text=INPUTS_HELP)
    submit = serializers.BooleanField(
        default=False, help_text="Submit now: every required input must be present and valid."
    )


class ApplicationCreateSerializer(ApplicationUpdateSerializer):
    applicant = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="One of your applicants."
    )
    scorecard = ScorecardKeyField(help_text="The product's scorecard.")
