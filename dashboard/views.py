"""Dashboard pages for credit managers and administrators (permission dashboard.view_dashboard).

Every chart is a panel: an SVG drawn on the server and, beside it, the same numbers as a
table, downloadable as CSV with `?csv=<panel name>`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from creditportal.queue import publish
from creditportal.views import redirect_back, submits_jobs
from creditportal.workers import NO_WORKER, workers_running
from ml.evaluate import MODEL_TITLES
from ml.exports import safe_csv_rows
from ml.monitoring import FOUR_FIFTHS, PSI_ACT, PSI_WATCH
from ml.scorecards import SCORECARDS, get_scorecard
from scoring.serving import model_availability

from . import panels as panels_module
from . import selectors, services, tasks
from .panels import Panel

PERMISSION = "dashboard.view_dashboard"
MONTH_CHOICES = (3, 6, 12, 24)


def dashboard_view(view):
    return login_required(permission_required(PERMISSION, raise_exception=True)(view))


def _csv_or_page(
    request, panels: list[Panel], template: str, context: dict, more: list[Panel] = ()
) -> HttpResponse:
    """The page, or with ?csv=<name> the numbers of one of its panels (or of `more`)."""
    wanted = request.GET.get("csv")
    if wanted:
        panel = next((p for p in [*panels, *more] if p.name == wanted), None)
        if panel is None:
            raise Http404("No such table.")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{panel.name}.csv"'
        response.write(safe_csv_rows([panel.columns, *panel.rows]))
        return response
    return render(request, template, {"scorecards": SCORECARDS, **context, "panels": panels})


def _months(request) -> int:
    try:
        months = int(request.GET.get("months", 12))
    except ValueError:
        months = 12
    return months if months in MONTH_CHOICES else 12


# --- home -------------------------------------------------------------------------------------


@dashboard_view
def home(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.production_version_list())
    snapshots = {s.scorecard: s for s in selectors.latest_snapshots()}
    rows = [
        {"version": v, "scorecard": SCORECARDS[v.scorecard], "snapshot": snapshots.get(v.scorecard)}
        for v in versions
        if v.scorecard in SCORECARDS
    ]
    # What stops work now, above the models' alerts: a model that cannot be loaded (every
    # scoring of its scorecard fails) and no worker running (every job waits).
    faults = [
        f"{row['scorecard'].label}, {row['version'].label}: the production model cannot be "
        f"loaded ({why}). Scoring is refused until its file is restored or another version "
        "is promoted."
        for row in rows
        if (why := model_availability(row["version"]))
    ]
    if not workers_running():
        faults.append(NO_WORKER)
    context = {
        "faults": faults,
        "alerts": selectors.dashboard_alerts(),
        "rows": rows,
        "scorecards": SCORECARDS,
    }
    return render(request, "dashboard/home.html", context)


# --- portfolio --------------------------------------------------------------------------------


@dashboard_view
def portfolio(request: HttpRequest) -> HttpResponse:
    months = _months(request)
    weekly = request.GET.get("by") == "week"
    panels = panels_module.portfolio_panels(months=months, weekly=weekly)
    context = {"months": months, "month_choices": MONTH_CHOICES, "weekly": weekly}
    return _csv_or_page(request, panels, "dashboard/portfolio.html", context)


# --- model report -----------------------------------------------------------------------------


def _metrics_table(version) -> list[dict]:
    quality = version.metrics or {}
    rows = []
    for key, title in (
        ("roc_auc", "ROC-AUC (test)"),
        ("accuracy", "Accuracy"),
        ("macro_f1", "Macro F1"),
        ("brier", "Brier score"),
        ("expected_cost_policy", "Expected cost per applicant (policy)"),
        ("good_wrongly_declined_rate", "Good applicants wrongly declined"),
        ("refer_rate", "Referred to an officer"),
    ):
        rows.append(
            {"title": title, "values": [(quality.get(m) or {}).get(key) for m in MODEL_TITLES]}
        )
    return rows


@dashboard_view
def model_report(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=pk)
    compare = None
    if request.GET.get("compare"):
        try:
            compare = selectors.model_version_get(version_id=int(request.GET["compare"]))
        except ValueError:
            raise Http404("No such model version.") from None
    columns = []
    panels = []
    for v in filter(None, [version, compare]):
        profile = selectors.profile_of(version=v)
        v_panels = panels_module.report_panels(v, profile)
        panels += v_panels
        columns.append(
            {
                "version": v,
                "scorecard": get_scorecard(v.scorecard),
                "profile": profile,
                "panels": v_panels,
                "metrics": _metrics_table(v),
                "cleaning": (v.report or {}).get("cleaning"),
            }
        )
    context = {
        "version": version,
        "compare": compare,
        "columns": columns,
        "model_titles": list(MODEL_TITLES.values()),
        "versions": selectors.model_version_choices().filter(scorecard=version.scorecard),
    }
    return _csv_or_page(request, panels, "dashboard/model_report.html", context)


@dashboard_view
@require_POST
@submits_jobs
def profile_compute(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=pk)
    publish(tasks.compute_model_version_profile, version.pk, what="the computation")
    messages.success(
        request,
        f"A worker is computing the cost curve and fairness figures of {version.label}; "
        "reload this page in a minute.",
    )
    return redirect_back(request, reverse("dashboard:model_report", args=[version.pk]))


# --- monitoring -------------------------------------------------------------------------------


@dashboard_view
def monitoring(request: HttpRequest, scorecard: str) -> HttpResponse:
    if scorecard not in SCORECARDS:
        raise Http404("No such scorecard.")
    card = SCORECARDS[scorecard]
    history = selectors.snapshot_history(scorecard_key=scorecard)
    snapshot = history[-1] if history else None
    panels = panels_module.monitoring_panels(history)
    context = {
        "scorecard": card,
        "snapshot": snapshot,
        "scorecards": SCORECARDS,
        "psi_watch": PSI_WATCH,
        "psi_act": PSI_ACT,
    }
    return _csv_or_page(request, panels, "dashboard/monitoring.html", context)


@dashboard_view
@require_POST
def snapshot_take(request: HttpRequest, scorecard: str) -> HttpResponse:
    if scorecard not in SCORECARDS:
        raise Http404("No such scorecard.")
    snapshot = services.monitoring_snapshot_take(scorecard_key=scorecard)
    if snapshot is None:
        messages.error(request, "This scorecard has no production model to monitor.")
    else:
        messages.success(request, f"Snapshot taken over {snapshot.predictions:,} predictions.")
    return redirect("dashboard:monitoring", scorecard=scorecard)


# --- fairness ---------------------------------------------------------------------------------


@dashboard_view
def fairness(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=pk)
    profile = selectors.profile_of(version=version)
    panels = panels_module.fairness_panels(profile) if profile is not None else []
    context = {
        "version": version,
        "scorecard": get_scorecard(version.scorecard),
        "profile": profile,
        "four_fifths": FOUR_FIFTHS,
        "versions": selectors.model_version_choices().filter(scorecard=version.scorecard),
    }
    return _csv_or_page(request, panels, "dashboard/fairness.html", context)


# --- data insights ----------------------------------------------------------------------------


@dashboard_view
def insights(request: HttpRequest, scorecard: str) -> HttpResponse:
    if scorecard not in SCORECARDS:
        raise Http404("No such scorecard.")
    card = SCORECARDS[scorecard]
    stored = selectors.insight_list(scorecard_key=scorecard)
    insight = stored[0] if stored else None
    if request.GET.get("insight"):
        insight = next((i for i in stored if str(i.pk) == request.GET["insight"]), None)
        if insight is None:
            raise Http404("No such insight.")
    result = insight.result if insight else None
    panels, feature_panels = panels_module.insight_panels(result, request.GET.get("feature"))
    context = {
        "feature_panels": [p for p in feature_panels if p.extra["shown"]],
        "features": result["target_by_feature"] if result else [],
        "chosen_feature": request.GET.get("feature", ""),
        "scorecard": card,
        "insight": insight,
        "result": result,
        "stored": stored,
        "datasets": selectors.dataset_list(scorecard_key=scorecard),
        "scorecards": SCORECARDS,
    }
    return _csv_or_page(request, panels, "dashboard/insights.html", context, more=feature_panels)


@dashboard_view
@require_POST
@submits_jobs
def insights_compute(request: HttpRequest, scorecard: str) -> HttpResponse:
    if scorecard not in SCORECARDS:
        raise Http404("No such scorecard.")
    dataset = None
    if request.POST.get("dataset"):
        dataset = next(
            (
                d
                for d in selectors.dataset_list(scorecard_key=scorecard)
                if str(d.pk) == request.POST["dataset"]
            ),
            None,
        )
        if dataset is None:
            raise Http404("No such dataset.")
    dataset_id = dataset.pk if dataset is not None else None
    publish(tasks.compute_dataset_insight, scorecard, dataset_id, what="the computation")
    messages.success(request, "A worker is computing these insights; reload this page in a minute.")
    return redirect(reverse("dashboard:insights", args=[scorecard]))
