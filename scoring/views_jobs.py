"""Job pages: bulk scoring (officers and managers), training data and retraining (managers).

Views that submit a job are not atomic requests: the job's row must be committed before its
message is published, so that a broker failure can be answered with a 503 and the job
marked failed, instead of leaving a queued job nobody will ever run.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from creditportal.errors import ApplicationError
from ml.scorecards import SCORECARDS, get_scorecard

from . import jobs, selectors
from .forms_jobs import (
    BatchUploadForm,
    OutcomesExportForm,
    ScorecardJobSettingsForm,
    TrainingJobForm,
    TrainingUploadForm,
)
from .models import BatchScoringJob, TrainingJob

PAGE = 50


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "message_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


# --- bulk scoring --------------------------------------------------------------------------------


@login_required
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
@transaction.non_atomic_requests
def batch_job_list(request: HttpRequest) -> HttpResponse:
    status = 200
    form = BatchUploadForm()
    if request.method == "POST":
        if not request.user.has_perm("scoring.add_batchscoringjob"):
            raise PermissionDenied("Your role does not allow bulk scoring.")
        form = BatchUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = jobs.batch_job_create(
                    scorecard_key=form.cleaned_data["scorecard"],
                    upload=form.cleaned_data["file"],
                    owner=request.user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            except jobs.JobQueueUnavailable as error:
                messages.error(request, error.message)
                status = 503
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"{job.original_name} is queued for scoring.")
                return redirect("scoring:batch_job_detail", pk=job.pk)
        if status == 200:
            status = 400
    job_list = selectors.batch_job_visible_to(user=request.user)[:PAGE]
    context = {"form": form, "jobs": job_list, "scorecards": SCORECARDS}
    return render(request, "scoring/jobs/batch_list.html", context, status=status)


@login_required
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
def batch_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.batch_job_get_for_user(user=request.user, job_id=pk)
    context = {
        "job": job,
        "scorecard": get_scorecard(job.scorecard),
        "row_errors": selectors.batch_row_error_list(job=job)[:100],
        "progress": batch_progress(job),
        "files_deleted_message": jobs.files_deleted_message(job) if job.files_deleted_at else "",
    }
    return render(request, "scoring/jobs/batch_detail.html", context)


def batch_progress(job: BatchScoringJob) -> dict:
    """What the progress bar (and the API) shows of a bulk job."""
    eta = job.eta_seconds
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "percent": round(job.percent, 1),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_valid": job.rows_valid,
        "rows_invalid": job.rows_invalid,
        "rows_per_second": round(job.rows_per_second) if job.rows_per_second else None,
        "eta_seconds": round(eta) if eta is not None else None,
        "cancel_requested": job.cancel_requested,
        "error": job.error,
        "result_url": reverse("scoring:batch_job_result", args=[job.pk])
        if job.result_file
        else None,
    }


@login_required
@require_GET
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
def batch_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = selectors.batch_job_get_for_user(user=request.user, job_id=pk)
    return JsonResponse(batch_progress(job))


@login_required
@require_POST
@permission_required("scoring.change_batchscoringjob", raise_exception=True)
def batch_job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.batch_job_get_for_user(user=request.user, job_id=pk)
    try:
        job = jobs.job_cancel(job=job, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Job cancelled."
            if job.is_finished
            else "Cancelling: the job stops after the chunk it is scoring.",
        )
    return redirect("scoring:batch_job_detail", pk=pk)


@login_required
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
def batch_job_result(request: HttpRequest, pk: int) -> FileResponse:
    """The result CSV: the job's owner and credit managers only (404 for anyone else)."""
    job = selectors.batch_job_get_for_user(user=request.user, job_id=pk)
    if job.files_deleted_at:
        raise Http404(jobs.files_deleted_message(job))
    if not job.result_file:
        raise Http404("This job has no result yet.")
    stem = job.original_name.rsplit(".", 1)[0] or "applicants"
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-scored-job{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- training data and retraining --------------------------------------------------------------


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


@login_required
@require_POST
@permission_required("scoring.add_trainingdataset", raise_exception=True)
@transaction.non_atomic_requests
def training_dataset_upload(request: HttpRequest) -> HttpResponse:
    form = TrainingUploadForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            dataset = jobs.training_dataset_create(
                scorecard_key=form.cleaned_data["scorecard"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except jobs.JobQueueUnavailable as error:
            messages.error(request, error.message)
            status = 503
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
def training_dataset_export(request: HttpRequest) -> HttpResponse:
    form = OutcomesExportForm(request.POST)
    if form.is_valid():
        try:
            dataset = jobs.training_dataset_from_outcomes(
                scorecard_key=form.cleaned_data["scorecard"], by=request.user
            )
        except (ApplicationError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
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
@transaction.non_atomic_requests
def training_job_start(request: HttpRequest) -> HttpResponse:
    form = TrainingJobForm(request.POST)
    if form.is_valid():
        try:
            job = jobs.training_job_create(
                scorecard_key=form.cleaned_data["scorecard"],
                dataset=form.cleaned_data["dataset"],
                search=form.cleaned_data["search"],
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except jobs.JobQueueUnavailable as error:
            messages.error(request, error.message)
            return render(
                request,
                "scoring/jobs/training.html",
                _training_context(request, job_form=form),
                status=503,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
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
        jobs.job_cancel(job=job, by=request.user)
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
    config = jobs.scorecard_job_settings_get(scorecard_key=scorecard)
    form = ScorecardJobSettingsForm(request.POST, instance=config)
    if form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            jobs.scorecard_job_settings_update(scorecard_key=scorecard, by=request.user, **values)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Settings of {scorecard} saved.")
            return redirect("scoring:training_overview")
    context = _training_context(request, **{f"settings_{scorecard}": form})
    return render(request, "scoring/jobs/training.html", context, status=400)
