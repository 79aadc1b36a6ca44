"""Project-level views: health check, error pages, and the wrapper of views that queue work."""

import functools

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import ApplicationError, JobQueueUnavailable
from .health import run_checks
from .workers import workers_running


@transaction.non_atomic_requests  # a request transaction would connect before the check
def health(request: HttpRequest) -> JsonResponse:
    """What works and what does not, for a load balancer and for monitoring.

    200 while this process answers and the database is reachable (a load balancer keeps
    sending it requests: scoring works), with `"status": "degraded"` when the broker is
    unreachable, no worker is running or a production model cannot be loaded; 503 when the
    database is unreachable. Anyone may ask, so the answer names no host, file or model: the
    reasons by scorecard are for signed-in staff. A report is reused for HEALTH_CACHE_SECONDS
    (probes come often, and checking the broker can take a second when it is down).
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "down", "database": "unreachable"}, status=503)
    report = cache.get(HEALTH_CACHE_KEY)
    if report is None:
        report = health_report()
        cache.set(HEALTH_CACHE_KEY, report, HEALTH_CACHE_SECONDS)
    if request.user.is_authenticated and request.user.is_staff:
        return JsonResponse(report)
    public = {key: value for key, value in report.items() if not isinstance(value, dict)}
    for name, checked in report.items():
        if isinstance(checked, dict):
            public[name] = "ok" if all(v == "ok" for v in checked.values()) else "degraded"
    return JsonResponse(public)


HEALTH_CACHE_KEY = "creditportal:health"
HEALTH_CACHE_SECONDS = 15


def health_report() -> dict:
    checks = run_checks()  # "models": each production model (scoring/health.py)
    report = {
        "database": "ok",
        "broker": "ok" if broker_reachable() else "unreachable",
        "workers": len(workers_running()),
        **checks,
    }
    degraded = (
        report["broker"] != "ok"
        or report["workers"] == 0
        or any(status != "ok" for checked in checks.values() for status in checked.values())
    )
    return {"status": "degraded" if degraded else "ok", **report}


def broker_reachable() -> bool:
    from .celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=0, timeout=0.5)
    except Exception:  # any failure to connect means no task can be queued
        return False
    return True


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


def submits_jobs(view):
    """For a portal view that hands work to the background workers.

    The view runs outside a request transaction: a job's row must be committed before its
    message is published (the services write it in a durable transaction of their own and
    refuse to run inside another one), so a broker that cannot take the message is known
    before the answer. That failure, `JobQueueUnavailable`, is answered here with a 503 page
    saying so; the service has already marked the work failed or dropped the upload.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except JobQueueUnavailable as error:
            return job_queue_unavailable(request, error)

    return transaction.non_atomic_requests(wrapped)


def job_queue_unavailable(request: HttpRequest, error: JobQueueUnavailable) -> HttpResponse:
    back = request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = request.path
    context = {"message": error.message, "back": back}
    return render(request, "errors/503.html", context, status=503)


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's `next` when it is a page of this site, else to `default`: a
    `next` naming another site (an open redirect) or nothing reachable is ignored."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    on_this_site = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    )
    return redirect(target if on_this_site else default)


def form_add_errors(form, error: Exception) -> None:
    """Show a service's error on the form: a ValidationError per field where the form has
    that field (else above the form), a broken rule (ApplicationError) above the form."""
    if isinstance(error, ApplicationError):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def error_text(error: Exception) -> str:
    """A service's error as one sentence for a message banner."""
    if isinstance(error, ApplicationError):
        return error.message
    if hasattr(error, "message_dict"):
        return " ".join(" ".join(messages) for messages in error.message_dict.values())
    return " ".join(getattr(error, "messages", [str(error)]))
