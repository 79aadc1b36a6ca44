"""Bulk scoring pages (officers: their own jobs; credit managers: everyone's): upload a CSV,
follow its progress, cancel it, download the result."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from creditportal.errors import ApplicationError
from creditportal.uploads import accepts_uploads
from creditportal.views import form_add_errors, submits_jobs
from ml.flags import flag_sentences
from ml.scorecards import SCORECARDS, get_scorecard
from scoring import selectors
from scoring.forms import BatchUploadForm
from scoring.jobs import lifecycle
from scoring.models import BatchScoringJob
from scoring.services import bulk_scoring

PAGE = 50
FLAGGED_SHOWN = 100


@accepts_uploads("MAX_BATCH_UPLOAD_MB")
@login_required
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
@submits_jobs
def batch_job_list(request: HttpRequest) -> HttpResponse:
    status = 200
    form = BatchUploadForm()
    if request.method == "POST":
        if not request.user.has_perm("scoring.add_batchscoringjob"):
            raise PermissionDenied("Your role does not allow bulk scoring.")
        form = BatchUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = bulk_scoring.batch_job_create(
                    scorecard_key=form.cleaned_data["scorecard"],
                    upload=form.cleaned_data["file"],
                    owner=request.user,
                )
            except (ValidationError, ApplicationError) as error:
                form_add_errors(form, error)
            else:
                messages.success(request, f"{job.original_name} is queued for scoring.")
                return redirect("scoring:batch_job_detail", pk=job.pk)
        status = 400
    job_list = selectors.batch_job_visible_to(user=request.user)[:PAGE]
    context = {"form": form, "jobs": job_list, "scorecards": SCORECARDS}
    return render(request, "scoring/jobs/batch_list.html", context, status=status)


@login_required
@permission_required("scoring.view_batchscoringjob", raise_exception=True)
def batch_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.batch_job_get_for_user(user=request.user, job_id=pk)
    scorecard = get_scorecard(job.scorecard)
    context = {
        "job": job,
        "scorecard": scorecard,
        "row_errors": selectors.batch_row_error_list(job=job)[:100],
        "flagged": _flagged_rows(job, scorecard) if job.rows_flagged else [],
        "progress": batch_progress(job),
        "files_deleted_message": bulk_scoring.files_deleted_message(job)
        if job.files_deleted_at
        else "",
    }
    return render(request, "scoring/jobs/batch_detail.html", context)


def _flagged_rows(job: BatchScoringJob, scorecard) -> list[dict]:
    """The first rows scored with values set missing, each flag in an officer's words."""
    return [
        {
            "prediction": prediction,
            "sentences": flag_sentences(scorecard, prediction.flags, prediction.inputs),
        }
        for prediction in selectors.batch_flagged_prediction_list(job=job)[:FLAGGED_SHOWN]
    ]


def batch_progress(job: BatchScoringJob) -> dict:
    """What the progress bar (and the API) shows of a bulk job."""
    eta = job.eta_seconds
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "waiting_note": lifecycle.waiting_note(job),
        "finished": job.is_finished,
        "percent": round(job.percent, 1),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_valid": job.rows_valid,
        "rows_invalid": job.rows_invalid,
        "rows_flagged": job.rows_flagged,
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
        job = lifecycle.cancel(job=job, by=request.user)
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
        raise Http404(bulk_scoring.files_deleted_message(job))
    if not job.result_file:
        raise Http404("This job has no result yet.")
    stem = job.original_name.rsplit(".", 1)[0] or "applicants"
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-scored-job{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
