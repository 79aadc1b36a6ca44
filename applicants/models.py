"""Applicants (who is asking) and their applications (what they ask for, with scorecard inputs).

Identity lives in typed columns. The scorecard inputs live in `Application.inputs` as a JSON
object keyed by the scorecard's field names and validated by that scorecard's schema
(`ml.schema.validate_inputs`), so one table serves every scorecard.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .encryption import EncryptedTextField, blind_index
from .validators import (
    validate_date_of_birth,
    validate_external_reference,
    validate_full_name,
    validate_national_id,
    validate_phone,
    validate_purpose,
)


def mask_identifier(value: str, visible: int = 4) -> str:
    """Show only the last characters of an identifier: '••••••0265'."""
    if not value:
        return ""
    shown = value[-visible:] if len(value) > visible else ""
    return "•" * (len(value) - len(shown)) + shown


class Applicant(models.Model):
    full_name = models.CharField(max_length=200, validators=[validate_full_name])
    external_reference = models.CharField(
        max_length=64,
        unique=True,
        validators=[validate_external_reference],
        help_text="The lender's own customer reference; unique across the lender.",
    )
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_date_of_birth])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    # Encrypted at rest (applicants/encryption.py); found by `national_id_index`.
    national_id = EncryptedTextField(
        blank=True,
        validators=[MaxLengthValidator(32), validate_national_id],
        help_text="Stored encrypted, only ever shown masked.",
    )
    national_id_index = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text="HMAC-SHA256 of the normalised national id: exact search without the id.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applicants"
    )
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Every change kept (django-simple-history); the national id only as its blind index,
    # which tells that it changed without telling what it is.
    history = HistoricalRecords(excluded_fields=["national_id"])

    class Meta:
        ordering = ["full_name", "id"]
        permissions = [
            ("view_all_applicants", "Can see every officer's applicants"),
            ("reassign_applicant", "Can reassign an applicant to another officer"),
        ]
        indexes = [
            models.Index(fields=["owner", "is_archived"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.external_reference})"

    def save(self, *args, **kwargs) -> None:
        # The index is derived from the id, like a search vector: kept in step on every save.
        self.national_id_index = blind_index(self.national_id)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "national_id" in update_fields:
            kwargs["update_fields"] = {*update_fields, "national_id_index"}
        super().save(*args, **kwargs)

    @property
    def national_id_masked(self) -> str:
        return mask_identifier(self.national_id)


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        SCORED = "scored", "Scored"
        DECIDED = "decided", "Decided"

    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="applications")
    # The scorecard's key. Not a choices field: scorecards are declarations (data) and may
    # be added without a migration; services validate the key.
    scorecard = models.CharField(max_length=64)
    requested_amount = models.DecimalField(max_digits=14, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(480)]
    )
    purpose = models.CharField(max_length=200, blank=True, validators=[validate_purpose])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    inputs = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()  # every change, by whom (shown on the application's page)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0), name="application_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(term_months__gte=1, term_months__lte=480),
                name="application_term_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "scored", "decided"]),
                name="application_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "scorecard"])]

    def __str__(self) -> str:
        return f"Application #{self.pk} of {self.applicant.full_name}"


class ScorecardDeclaration(models.Model):
    """One version of a scorecard's declaration (docs/declarations.md): never changed once
    stored. Editing a scorecard stores a new version; every model version records the one it
    was trained on, so a prediction can be traced to the exact field definitions it used."""

    key = models.CharField(max_length=64)
    version = models.PositiveIntegerField(help_text="Increases by one per scorecard.")
    document = models.JSONField(help_text="The declaration, format 1.")
    sha256 = models.CharField(max_length=64, help_text="Of the document's canonical JSON.")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the declarations shipped with the product.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        permissions = [("manage_scorecards", "Can define and edit scorecards")]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="declaration_version_unique_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} declaration v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A stored declaration is never changed: store a new version.")
        super().save(*args, **kwargs)


class ScorecardProduct(models.Model):
    """A scorecard as a product officers can pick, and the declaration it uses now.

    The pointer moves when a model trained on another declaration goes to production, or at
    once for a declaration that keeps the model's fields (a wording change): the form, the
    API and validation always ask for the fields the production model was trained on."""

    key = models.CharField(max_length=64, unique=True)
    declaration = models.ForeignKey(
        ScorecardDeclaration, on_delete=models.PROTECT, related_name="+"
    )
    is_enabled = models.BooleanField(
        default=False,
        help_text="Offered to officers for new applications: from its first promotion on.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
