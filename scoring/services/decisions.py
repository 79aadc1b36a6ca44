"""Decisions on scored applications, reopening them, and what really happened afterwards."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from applicants.models import Application
from creditportal.errors import ApplicationError
from ml.scorecards import get_scorecard
from scoring.models import ApplicationOutcome, Decision


@transaction.atomic
def decision_create(*, application: Application, outcome: str, note: str = "", by) -> Decision:
    """Decide a scored application on its latest prediction; an override needs a note."""
    if not by.has_perm("scoring.add_decision"):
        raise PermissionDenied("Your role does not allow recording decisions.")
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status == Application.Status.DECIDED:
        raise ApplicationError(
            "This application has already been decided; a credit manager must reopen it "
            "before it can be decided again."
        )
    if application.status != Application.Status.SCORED:
        raise ApplicationError("Score the application before recording a decision.")
    prediction = application.predictions.order_by("-created_at", "-id").first()
    if prediction is None:
        raise ApplicationError("Score the application before recording a decision.")
    is_override = outcome != prediction.recommendation
    if is_override and not note.strip():
        raise ValidationError(
            {
                "note": f"A note is required when the decision ({outcome}) differs from the "
                f"model's recommendation ({prediction.recommendation})."
            }
        )
    decision = Decision(
        application=application,
        prediction=prediction,
        outcome=outcome,
        note=note.strip(),
        is_override=is_override,
        decided_by=by,
    )
    decision.full_clean()
    decision.save()
    application.status = Application.Status.DECIDED
    application.save(update_fields=["status", "updated_at"])
    return decision


@transaction.atomic
def decision_reopen(*, application: Application, by, reason: str) -> Decision:
    """A credit manager reopens a decided application; the old decision is kept, marked."""
    if not by.has_perm("scoring.reopen_decision"):
        raise PermissionDenied("Only a credit manager can reopen a decided application.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the application is reopened."})
    application = Application.objects.select_for_update().get(pk=application.pk)
    decision = application.decisions.filter(reopened_at__isnull=True).first()
    if application.status != Application.Status.DECIDED or decision is None:
        raise ApplicationError("Only a decided application can be reopened.")
    decision.reopened_at = timezone.now()
    decision.reopened_by = by
    decision.reopen_reason = reason.strip()
    decision.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    application.status = Application.Status.SCORED
    application.save(update_fields=["status", "updated_at"])
    return decision


def outcome_record(
    *, application: Application, outcome_class: str, note: str = "", by
) -> ApplicationOutcome:
    """Record what really happened (e.g. defaulted) so models can be measured on outcomes."""
    if not by.has_perm("scoring.add_applicationoutcome"):
        raise PermissionDenied("Only a credit manager can record realised outcomes.")
    scorecard = get_scorecard(application.scorecard)
    if outcome_class not in scorecard.classes:
        choices = ", ".join(scorecard.classes)
        raise ValidationError({"outcome_class": f"Must be one of: {choices}."})
    if not Application.objects.filter(
        pk=application.pk, status=Application.Status.DECIDED
    ).exists():
        raise ApplicationError("Record an outcome only for a decided application.")
    outcome, _ = ApplicationOutcome.objects.update_or_create(
        application=application,
        defaults={"outcome_class": outcome_class, "note": note.strip(), "recorded_by": by},
    )
    return outcome
