"""The model registry's pages: versions and their validation reports, promotion, history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from creditportal.errors import ApplicationError
from creditportal.views import error_text
from ml.scorecards import SCORECARDS, get_scorecard
from scoring import selectors
from scoring.forms import ReasonForm
from scoring.services import registry
from scoring.services.registry import PROMOTABLE


@login_required
@permission_required("scoring.view_modelversion", raise_exception=True)
def model_version_list(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.model_version_list())
    by_scorecard = [
        {
            "scorecard": scorecard,
            "versions": [v for v in versions if v.scorecard == key],
        }
        for key, scorecard in SCORECARDS.items()
    ]
    return render(request, "scoring/model_version_list.html", {"by_scorecard": by_scorecard})


@login_required
@permission_required("scoring.view_modelversion", raise_exception=True)
def model_version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=pk)
    context = {
        "version": version,
        "scorecard": get_scorecard(version.scorecard),
        "report": version.report,
        "promote_form": ReasonForm(),
        "promotable": version.status in PROMOTABLE,
        "promotions": selectors.promotion_list(scorecard=version.scorecard)[:20],
    }
    return render(request, "scoring/model_version_detail.html", context)


@login_required
@require_POST
@permission_required("scoring.promote_modelversion", raise_exception=True)
def model_version_promote(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reason: say why this version should serve predictions.")
        return redirect("scoring:model_version_detail", pk=version.pk)
    try:
        registry.model_version_promote(
            version=version, by=request.user, reason=form.cleaned_data["reason"]
        )
    except PermissionDenied:
        raise
    except (ApplicationError, ValidationError) as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"{version.label} is now in production.")
    return redirect("scoring:model_version_detail", pk=version.pk)


@login_required
@permission_required("scoring.view_modelpromotion", raise_exception=True)
def promotion_history(request: HttpRequest) -> HttpResponse:
    return render(
        request, "scoring/promotion_history.html", {"promotions": selectors.promotion_list()}
    )
