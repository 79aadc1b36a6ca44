"""Scoring an application, its result page, deciding, reopening, recording the outcome."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from applicants.selectors import application_get_for_user
from creditportal.errors import ApplicationError
from creditportal.views import error_text
from ml.flags import flag_sentences
from ml.scorecards import get_scorecard
from scoring import selectors
from scoring.forms import DecisionForm, OutcomeForm, ReasonForm
from scoring.services import decisions, predictions


@login_required
@require_POST
@permission_required("scoring.add_prediction", raise_exception=True)
def application_score(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=pk)
    try:
        prediction = predictions.prediction_create(
            application=application, requested_by=request.user
        )
    except ValidationError as error:
        for field, field_errors in error.message_dict.items():
            label = _field_label(application.scorecard, field)
            messages.error(request, f"{label}: {' '.join(field_errors)}")
        messages.error(request, "Nothing was scored: correct these inputs first.")
        return redirect("applicants:application_edit", pk=application.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("applicants:application_detail", pk=application.pk)
    return redirect("scoring:prediction_detail", pk=prediction.pk)


@login_required
def prediction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get_for_user(user=request.user, prediction_id=pk)
    return render(request, "scoring/prediction_detail.html", _result_context(request, prediction))


def _result_context(request: HttpRequest, prediction, decision_form=None) -> dict:
    """What the result page shows; the decision form only on a decidable latest prediction."""
    scorecard = get_scorecard(prediction.scorecard)
    application = prediction.application
    latest = None
    if application is not None:
        latest = selectors.prediction_list_for_application(application=application).first()
    is_latest = latest is not None and latest.pk == prediction.pk
    can_decide = (
        is_latest
        and application.status == application.Status.SCORED
        and request.user.has_perm("scoring.add_decision")
    )
    if can_decide and decision_form is None:
        decision_form = DecisionForm(
            initial={"outcome": prediction.recommendation, "prediction": prediction.pk}
        )
    return {
        "prediction": prediction,
        "scorecard": scorecard,
        "application": application,
        "class_label": scorecard.class_labels.get(prediction.predicted_class),
        "worst_class_label": scorecard.class_labels.get(scorecard.classes[-1]),
        "scale": _score_scale(prediction),
        "flags": flag_sentences(scorecard, prediction.flags, prediction.inputs),
        "is_latest": is_latest,
        "decision_form": decision_form if can_decide else None,
        "decision": selectors.decision_active(application=application) if application else None,
    }


@login_required
@require_POST
@permission_required("scoring.add_decision", raise_exception=True)
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=pk)
    form = DecisionForm(request.POST)
    latest = selectors.prediction_list_for_application(application=application).first()
    if form.is_valid():
        try:
            decision = decisions.decision_create(
                application=application,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                by=request.user,
                prediction_id=form.cleaned_data["prediction"],
            )
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("applicants:application_detail", pk=application.pk)
        else:
            override = " (override of the recommendation)" if decision.is_override else ""
            messages.success(request, f"Decision recorded: {decision.outcome}{override}.")
            return redirect("applicants:application_detail", pk=application.pk)
    if latest is None:
        messages.error(request, "Score the application before recording a decision.")
        return redirect("applicants:application_detail", pk=application.pk)
    context = _result_context(request, latest, decision_form=form)
    return render(request, "scoring/prediction_detail.html", context, status=400)


@login_required
@require_POST
@permission_required("scoring.reopen_decision", raise_exception=True)
def application_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the application is reopened.")
    else:
        try:
            decisions.decision_reopen(
                application=application, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (ApplicationError, ValidationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, "Application reopened: it can be scored and decided again.")
    return redirect("applicants:application_detail", pk=application.pk)


@login_required
@require_POST
@permission_required("scoring.add_applicationoutcome", raise_exception=True)
def application_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=pk)
    form = OutcomeForm(request.POST, scorecard=get_scorecard(application.scorecard))
    if not form.is_valid():
        messages.error(request, "Choose what happened.")
    else:
        try:
            decisions.outcome_record(
                application=application,
                outcome_class=form.cleaned_data["outcome_class"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except (ApplicationError, ValidationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, "Realised outcome recorded.")
    return redirect("applicants:application_detail", pk=application.pk)


def _score_scale(prediction) -> dict:
    scaling = prediction.model_version.score_scaling or {}
    low, high = int(scaling.get("min_points", 300)), int(scaling.get("max_points", 850))
    position = (prediction.points - low) / (high - low) * 100 if high > low else 50
    return {"min": low, "max": high, "position": max(0.0, min(100.0, position))}


def _field_label(scorecard_key: str, field_name: str) -> str:
    try:
        return get_scorecard(scorecard_key).field(field_name).label
    except KeyError:
        return field_name
