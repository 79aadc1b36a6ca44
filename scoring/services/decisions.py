"""Decisions on scored applications, reopening them, and what really happened afterwards."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from applicants.models import Application
from creditportal.errors import ApplicationError
from ml.scorecards import get_scorecard
from scoring.models import ApplicationOutcome, Decision


@transaction.atomic
def decision_create(
    *, application: Application, outcome: str, note: str = "", by, prediction_id: int | None = None
) -> Decision:
    """Decide a scored application on its latest prediction; an override needs a note.

    `prediction_id` is the prediction the officer saw (the portal's form always sends it):
    when the application was scored again since, the decision is refused (409) rather than
    attached to a score nobody read."""
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
    if prediction_id is not None and prediction_id != prediction.pk:
        if not application.predictions.filter(pk=prediction_id).exists():
            raise ValidationError({"prediction": "Not a prediction of this application."})
        raise ApplicationError(
            f"A newer score exists for this application (prediction #{prediction.pk}, "
            f"{prediction.points} points, {prediction.recommendation}): review it, then decide.",
            extra={"code": "stale_prediction"},
        )
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
    """Record what really happened (e.g. defaulted) so models can be measured on outcomes.

    A second recording is a correction: a new record naming the one it corrects; the first
    stays as it was (audit records are never rewritten)."""
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
    note = note.strip()
    with transaction.atomic():
        current = (
            ApplicationOutcome.objects.current()
            .filter(application=application)
            .select_for_update(of=("self",))  # not the joined "corrected by" side
            .first()
        )
        if current is not None and (current.outcome_class, current.note) == (outcome_class, note):
            return current  # said again: nothing to correct
        try:
            with transaction.atomic():
                return ApplicationOutcome.objects.create(
                    application=application,
                    corrects=current,
                    outcome_class=outcome_class,
                    note=note,
                    recorded_by=by,
                )
        except IntegrityError:  # another manager recorded one at the same moment
            raise ApplicationError(
                "Another outcome was recorded for this application at the same moment; "
                "reload it and correct that one if needed.",
                extra={"code": "outcome_changed"},
            ) from None
