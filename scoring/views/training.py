"""Training pages (credit managers): training datasets (upload, outcome exports, their
cleaning reports), retraining jobs and their progress, each scorecard's job settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from creditportal.errors import ApplicationError
from creditportal.uploads import accepts_uploads
from creditportal.views import error_text, form_add_errors, submits_jobs
from ml.scorecards import SCORECARDS, get_scorecard
from scoring import selectors
from scoring.forms import (
    OutcomesExportForm,
    ScorecardJobSettingsForm,
    TrainingJobForm,
    TrainingUploadForm,
)
from scoring.jobs import lifecycle
from scoring.models import TrainingJob
from scoring.services import datasets, training
from scoring.services.training import SETTINGS_FIELDS

PAGE = 50


def _training_context(request, **forms) -> dict:
    job_settings = selectors.scorecard_job_settings_list()
    return {
        "datasets": selectors.training_dataset_list()[:PAGE],
        "training_jobs": selectors.training_job_list()[:PAGE],
        "upload_form": forms.get("upload_form") or TrainingUploadForm(),
        "export_form": forms.get("export_form") or OutcomesExportForm(),
        "job_form": forms.get("job_form") or TrainingJobForm(),
        "settings_forms": [
            (
                SCORECARDS[key],
                forms.get(f"settings_{key}") or ScorecardJobSettingsForm(instance=config),
                config,
            )
            for key, config in job_settings.items()
        ],
        "can_change_settings": request.user.has_perm("scoring.change_scorecardjobsettings"),
    }


@login_required
@permission_required("scoring.view_trainingjob", raise_exception=True)
def training_overview(request: HttpRequest) -> HttpResponse:
    return render(request, "scoring/jobs/training.html", _training_context(request))


@accepts_uploads("MAX_TRAINING_UPLOAD_MB")
@login_required
@require_POST
@permission_required("scoring.add_trainingdataset", raise_exception=True)
@submits_jobs
def training_dataset_upload(request: HttpRequest) -> HttpResponse:
    form = TrainingUploadForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            dataset = datasets.training_dataset_create(
                scorecard_key=form.cleaned_data["scorecard"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            if dataset.status == dataset.Status.VALIDATING:
                messages.success(request, f"Stored {dataset}; a worker is validating it.")
            else:
                messages.success(request, f"Stored {dataset}.")
            return redirect("scoring:training_dataset_detail", pk=dataset.pk)
    context = _training_context(request, upload_form=form)
    return render(request, "scoring/jobs/training.html", context, status=status)


@login_required
@require_POST
@permission_required("scoring.add_trainingdataset", raise_exception=True)
@submits_jobs  # a large export is validated by a worker, as a large upload is
def training_dataset_export(request: HttpRequest) -> HttpResponse:
    form = OutcomesExportForm(request.POST)
    if form.is_valid():
        try:
            dataset = datasets.training_dataset_from_outcomes(
                scorecard_key=form.cleaned_data["scorecard"], by=request.user
            )
        except (ApplicationError, ValidationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f"Exported {dataset}.")
            return redirect("scoring:training_dataset_detail", pk=dataset.pk)
    return redirect("scoring:training_overview")


@login_required
@permission_required("scoring.view_trainingdataset", raise_exception=True)
def training_dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.training_dataset_get(dataset_id=pk)
    context = {
        "dataset": dataset,
        "report": dataset.cleaning_report,
        "scorecard": get_scorecard(dataset.scorecard),
        "job_form": TrainingJobForm(initial={"scorecard": dataset.scorecard, "dataset": dataset}),
        "training_jobs": dataset.jobs.select_related("model_version", "requested_by")[:20],
    }
    return render(request, "scoring/jobs/dataset_detail.html", context)


@login_required
@require_POST
@permission_required("scoring.add_trainingjob", raise_exception=True)
@submits_jobs
def training_job_start(request: HttpRequest) -> HttpResponse:
    form = TrainingJobForm(request.POST)
    if form.is_valid():
        try:
            job = training.training_job_create(
                scorecard_key=form.cleaned_data["scorecard"],
                dataset=form.cleaned_data["dataset"],
                search=form.cleaned_data["search"],
                by=request.user,
            )
        except (ValidationError, ApplicationError) as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Retraining of {job.scorecard} queued.")
            return redirect("scoring:training_job_detail", pk=job.pk)
    context = _training_context(request, job_form=form)
    return render(request, "scoring/jobs/training.html", context, status=400)


def training_progress(job: TrainingJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "waiting_note": lifecycle.waiting_note(job),
        "finished": job.is_finished,
        "percent": round(job.progress * 100, 1),
        "stage": job.stage,
        "cancel_requested": job.cancel_requested,
        "error": job.error,
        "log": job.log[-15:],
        "model_version_id": job.model_version_id,
    }


@login_required
@permission_required("scoring.view_trainingjob", raise_exception=True)
def training_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.training_job_get(job_id=pk)
    context = {
        "job": job,
        "progress": training_progress(job),
        "comparison": job.comparison,
        "metric_rows": _comparison_rows(job.comparison),
    }
    return render(request, "scoring/jobs/training_job_detail.html", context)


def _comparison_rows(comparison: dict) -> list[dict]:
    candidate = comparison.get("candidate") or {}
    production = comparison.get("production") or {}
    labels = {
        "roc_auc": ("ROC-AUC", True),
        "accuracy": ("Accuracy", True),
        "macro_f1": ("Macro F1", True),
        "brier": ("Brier score", False),
        "expected_cost_policy": ("Expected cost per applicant", False),
        "good_wrongly_declined_rate": ("Good applicants wrongly declined", False),
    }
    rows = []
    for key, (label, higher_is_better) in labels.items():
        c, p = candidate.get(key), production.get(key)
        better = None
        if c is not None and p is not None and c != p:
            better = (c > p) == higher_is_better
        rows.append({"label": label, "candidate": c, "production": p, "candidate_better": better})
    return rows


@login_required
@require_GET
@permission_required("scoring.view_trainingjob", raise_exception=True)
def training_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(training_progress(selectors.training_job_get(job_id=pk)))


@login_required
@require_POST
@permission_required("scoring.change_trainingjob", raise_exception=True)
def training_job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.training_job_get(job_id=pk)
    try:
        lifecycle.cancel(job=job, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Cancelling the retraining.")
    return redirect("scoring:training_job_detail", pk=pk)


@login_required
@require_POST
@permission_required("scoring.change_scorecardjobsettings", raise_exception=True)
def scorecard_settings_update(request: HttpRequest, scorecard: str) -> HttpResponse:
    if scorecard not in SCORECARDS:
        raise Http404("No such scorecard.")
    config = training.scorecard_job_settings_get(scorecard_key=scorecard)
    form = ScorecardJobSettingsForm(request.POST, instance=config)
    if form.is_valid():
        values = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
        try:
            training.scorecard_job_settings_update(
                scorecard_key=scorecard, by=request.user, **values
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Settings of {scorecard} saved.")
            return redirect("scoring:training_overview")
    context = _training_context(request, **{f"settings_{scorecard}": form})
    return render(request, "scoring/jobs/training.html", context, status=400)
