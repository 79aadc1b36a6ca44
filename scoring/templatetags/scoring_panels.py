"""The scoring app's sections of the applicants' pages.

`applicants` never imports `scoring`: its pages load these tags, which read what scoring
knows (predictions, decisions, outcomes) and render it with scoring's own templates.
"""

from django import template

from ml.scorecards import get_scorecard
from scoring import selectors
from scoring.forms import DecisionForm, OutcomeForm, ReasonForm

register = template.Library()

HISTORY_ROWS = 50


@register.inclusion_tag("scoring/includes/applicant_history.html")
def applicant_prediction_history(applicant) -> dict:
    """Every prediction of the applicant's applications, newest first."""
    predictions = selectors.prediction_list_for_applicant(applicant=applicant)
    return {"predictions": predictions[:HISTORY_ROWS]}


@register.inclusion_tag("scoring/includes/application_panels.html", takes_context=True)
def application_scoring(context, application) -> dict:
    """The latest score, the decision form, the decisions with reopening and the realised
    outcome, and the prediction history of one application."""
    user = context["request"].user
    predictions = selectors.prediction_list_for_application(application=application)
    latest = predictions.first()
    can_decide = (
        latest is not None
        and application.status == application.Status.SCORED
        and user.has_perm("scoring.add_decision")
    )
    return {
        "application": application,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
        "predictions": predictions[:HISTORY_ROWS],
        "latest_prediction": latest,
        "decision": selectors.decision_active(application=application),
        "decisions": selectors.decision_list(application=application),
        "decision_form": DecisionForm(
            initial={"outcome": latest.recommendation, "prediction": latest.pk}
        )
        if can_decide
        else None,
        "reopen_form": ReasonForm(),
        "outcome_form": OutcomeForm(scorecard=get_scorecard(application.scorecard)),
        "realised_outcome": selectors.outcome_of(application=application),
        "outcome_history": list(selectors.outcome_history(application=application)),
    }
