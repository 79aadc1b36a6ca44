"""Writes on applicants and applications. Every business rule of this app lives here."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from creditportal.errors import ApplicationError
from creditportal.roles import can_reassign_applicants
from ml.schema import validate_inputs
from ml.scorecards import get_scorecard

from .encryption import blind_indexes
from .models import Applicant, Application
from .validators import normalise_text

User = get_user_model()

APPLICANT_FIELDS = ("full_name", "external_reference", "date_of_birth", "email", "phone")
APPLICATION_FIELDS = ("requested_amount", "term_months", "purpose")
EDITABLE_STATUSES = (
    Application.Status.DRAFT,
    Application.Status.SUBMITTED,
    Application.Status.SCORED,
)


def applicant_create(*, owner, data: dict[str, Any]) -> Applicant:
    applicant = Applicant(owner=owner)
    applicant._history_user = owner  # the history names them where no request does (demo)
    _assign(applicant, data, APPLICANT_FIELDS + ("national_id",))
    applicant.full_clean()
    applicant.save()
    return applicant


def applicant_update(*, applicant: Applicant, data: dict[str, Any]) -> Applicant:
    """Change identity fields; a blank national id in `data` keeps the stored one."""
    _assign(applicant, data, APPLICANT_FIELDS)
    if data.get("national_id"):
        applicant.national_id = normalise_text(data["national_id"])
    applicant.full_clean()
    applicant.save()
    return applicant


def applicant_set_archived(*, applicant: Applicant, archived: bool) -> Applicant:
    applicant.is_archived = archived
    applicant.save(update_fields=["is_archived", "updated_at"])
    return applicant


def applicant_reassign(*, applicant: Applicant, new_owner, by) -> Applicant:
    if not can_reassign_applicants(by):
        raise ApplicationError("Only a credit manager can reassign an applicant.")
    if not new_owner.is_active or not new_owner.has_perm("applicants.add_applicant"):
        raise ValidationError({"owner": "Choose an active user who can manage applicants."})
    applicant.owner = new_owner
    applicant._history_user = by
    applicant.save(update_fields=["owner", "updated_at"])
    return applicant


def scorecard_inputs_validate(
    *, scorecard_key: str, inputs: dict[str, Any], partial: bool
) -> dict[str, Any]:
    """Validate inputs against the scorecard's schema; return the coerced values.

    Raises ValidationError keyed by field name, each message naming the rule broken.
    """
    try:
        scorecard = get_scorecard(scorecard_key)
    except KeyError:
        raise ValidationError({"scorecard": f"Unknown product '{scorecard_key}'."}) from None
    result = validate_inputs(scorecard, inputs, partial=partial)
    if not result.is_valid:
        raise ValidationError(result.errors)
    return {name: value for name, value in result.values.items() if value is not None}


@transaction.atomic
def application_create(
    *,
    applicant: Applicant,
    by,
    scorecard_key: str,
    data: dict[str, Any],
    inputs: dict[str, Any],
    submit: bool = False,
) -> Application:
    if applicant.is_archived:
        raise ApplicationError("This applicant is archived; restore them to add an application.")
    application = Application(applicant=applicant, created_by=by, scorecard=scorecard_key)
    application._history_user = by
    _assign(application, data, APPLICATION_FIELDS)
    application.inputs = scorecard_inputs_validate(
        scorecard_key=scorecard_key, inputs=inputs, partial=not submit
    )
    application.status = Application.Status.SUBMITTED if submit else Application.Status.DRAFT
    application.full_clean()
    application.save()
    return application


@transaction.atomic
def application_update(
    *,
    application: Application,
    data: dict[str, Any],
    inputs: dict[str, Any],
    submit: bool = False,
) -> Application:
    """Change an undecided application. Changing a scored one sends it back to submitted."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in EDITABLE_STATUSES:
        raise ApplicationError(
            "This application has been decided and can no longer be changed; "
            "a credit manager must reopen it first."
        )
    keep_submitted = application.status != Application.Status.DRAFT
    before = (application.requested_amount, application.term_months, application.inputs)
    _assign(application, data, APPLICATION_FIELDS)
    application.inputs = scorecard_inputs_validate(
        scorecard_key=application.scorecard,
        inputs=inputs,
        partial=not (submit or keep_submitted),
    )
    changed = before != (application.requested_amount, application.term_months, application.inputs)
    submitting_draft = submit and application.status == Application.Status.DRAFT
    rescoring_needed = changed and application.status == Application.Status.SCORED
    if submitting_draft or rescoring_needed:
        application.status = Application.Status.SUBMITTED
    application.full_clean()
    application.save()
    return application


def application_submit(*, application: Application) -> Application:
    """Move a draft to submitted once every required input is present and valid."""
    if application.status != Application.Status.DRAFT:
        raise ApplicationError(f"Only a draft can be submitted; this one is {application.status}.")
    scorecard_inputs_validate(
        scorecard_key=application.scorecard, inputs=application.inputs, partial=False
    )
    application.status = Application.Status.SUBMITTED
    application.save(update_fields=["status", "updated_at"])
    return application


def national_ids_reencrypt() -> int:
    """After a new key was put first in CREDITPORTAL_FIELD_ENCRYPTION_KEYS: encrypt and index
    every national id under it, so that the old keys can leave the list. Returns the count.

    The history's copies of the index are moved to the new key too (for the applicant's
    current id), or the next change would show the national id as changed. No history
    record is written: no value changes.
    """
    count = 0
    ids = Applicant.objects.exclude(national_id="").order_by("pk").values_list("pk", flat=True)
    for pk in ids.iterator(chunk_size=2000):
        with transaction.atomic():
            # Read under a lock: an officer's edit between the read and the write would
            # otherwise be put back to the id read before it.
            applicant = Applicant.objects.select_for_update().only("pk", "national_id").get(pk=pk)
            if not applicant.national_id:
                continue
            current, *older = blind_indexes(applicant.national_id)
            Applicant.objects.filter(pk=applicant.pk).update(
                national_id=applicant.national_id, national_id_index=current
            )
            Applicant.history.filter(id=applicant.pk, national_id_index__in=older).update(
                national_id_index=current
            )
        count += 1
    return count


def _assign(instance, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Copy the given fields, text in one Unicode spelling (NFC) and without outer spaces; the
    rules themselves are the model fields' validators (applicants/validators.py), which
    `full_clean` runs."""
    for field in fields:
        if field in data:
            setattr(instance, field, normalise_text(data[field]))
