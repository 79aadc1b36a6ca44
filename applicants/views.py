"""Officer portal pages. Each view checks input with a form, calls one service, renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from creditportal.errors import ApplicationError
from creditportal.roles import can_reassign_applicants
from creditportal.views import form_add_errors
from ml.scorecards import get_scorecard

from . import selectors, services
from .forms import ApplicantForm, ApplicationForm, ReassignForm, ScorecardInputsForm
from .models import Application
from .scorecards import offered_scorecards

PAGE_SIZE = 25


@login_required
def applicant_list(request: HttpRequest) -> HttpResponse:
    filterset = selectors.applicant_list(user=request.user, filters=request.GET)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applicants/applicant_list.html",
        {"filter": filterset, "page": page, "query_string": _query_without_page(request)},
    )


@login_required
@permission_required("applicants.add_applicant", raise_exception=True)
def applicant_create(request: HttpRequest) -> HttpResponse:
    form = ApplicantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            applicant = services.applicant_create(owner=request.user, data=form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Applicant {applicant.full_name} created.")
            return redirect("applicants:detail", pk=applicant.pk)
    return render(request, "applicants/applicant_form.html", {"form": form})


@login_required
def applicant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    applicant = selectors.applicant_get_for_user(user=request.user, applicant_id=pk)
    applications = applicant.applications.order_by("-created_at")
    history, history_hidden = selectors.applicant_change_history(applicant=applicant)
    context = {
        "applicant": applicant,
        "applications": applications,
        "scorecards": offered_scorecards(),
        "can_reassign": can_reassign_applicants(request.user),
        "history": history,
        "history_hidden": history_hidden,
    }
    return render(request, "applicants/applicant_detail.html", context)


@login_required
@permission_required("applicants.change_applicant", raise_exception=True)
def applicant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    applicant = selectors.applicant_get_for_user(user=request.user, applicant_id=pk)
    form = ApplicantForm(request.POST or None, instance=applicant)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_update(applicant=applicant, data=form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Applicant saved.")
            return redirect("applicants:detail", pk=applicant.pk)
    return render(request, "applicants/applicant_form.html", {"form": form, "applicant": applicant})


@login_required
@require_POST
@permission_required("applicants.change_applicant", raise_exception=True)
def applicant_archive(request: HttpRequest, pk: int) -> HttpResponse:
    applicant = selectors.applicant_get_for_user(user=request.user, applicant_id=pk)
    archived = request.POST.get("archived") == "1"
    services.applicant_set_archived(applicant=applicant, archived=archived)
    messages.success(request, "Applicant archived." if archived else "Applicant restored.")
    return redirect("applicants:detail", pk=applicant.pk)


@login_required
@permission_required("applicants.reassign_applicant", raise_exception=True)
def applicant_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    applicant = selectors.applicant_get_for_user(user=request.user, applicant_id=pk)
    form = ReassignForm(request.POST or None, initial={"owner": applicant.owner})
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_reassign(
                applicant=applicant, new_owner=form.cleaned_data["owner"], by=request.user
            )
        except (ValidationError, ApplicationError) as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Applicant reassigned to {applicant.owner}.")
            return redirect("applicants:detail", pk=applicant.pk)
    return render(
        request, "applicants/applicant_reassign.html", {"form": form, "applicant": applicant}
    )


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    filterset = selectors.application_list(user=request.user, filters=request.GET)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applicants/application_list.html",
        {"filter": filterset, "page": page, "query_string": _query_without_page(request)},
    )


@login_required
@permission_required("applicants.add_application", raise_exception=True)
def application_create(request: HttpRequest, applicant_pk: int) -> HttpResponse:
    applicant = selectors.applicant_get_for_user(user=request.user, applicant_id=applicant_pk)
    product = request.GET.get("product") or request.POST.get("product")
    if not product:
        return render(
            request,
            "applicants/application_product.html",
            {"applicant": applicant, "scorecards": offered_scorecards()},
        )
    scorecard = _scorecard_or_404(product)
    submit = "submit" in request.POST
    form = ApplicationForm(request.POST or None)
    inputs_form = ScorecardInputsForm(request.POST or None, scorecard=scorecard, partial=not submit)
    if request.method == "POST" and _all_valid(form, inputs_form):
        try:
            application = services.application_create(
                applicant=applicant,
                by=request.user,
                scorecard_key=scorecard.key,
                data=form.cleaned_data,
                inputs=inputs_form.cleaned_inputs,
                submit=submit,
            )
        except ValidationError as error:
            form_add_errors(inputs_form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Application submitted." if submit else "Draft saved.")
            return redirect("applicants:application_detail", pk=application.pk)
    context = {
        "applicant": applicant,
        "scorecard": scorecard,
        "form": form,
        "inputs_form": inputs_form,
    }
    return render(request, "applicants/application_form.html", context)


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, application_id=pk)
    scorecard = get_scorecard(application.scorecard)
    rows = [
        {"field": field, "value": application.inputs.get(field.name)} for field in scorecard.fields
    ]
    history, history_hidden = selectors.application_change_history(application=application)
    # Scoring's sections (score, decisions, history) come from its `application_scoring` tag.
    context = {
        "application": application,
        "scorecard": scorecard,
        "input_rows": rows,
        "history": history,
        "history_hidden": history_hidden,
    }
    return render(request, "applicants/application_detail.html", context)


@login_required
@permission_required("applicants.change_application", raise_exception=True)
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, application_id=pk)
    scorecard = get_scorecard(application.scorecard)
    if application.status == Application.Status.DECIDED:
        messages.error(request, "This application has been decided and can no longer be changed.")
        return redirect("applicants:application_detail", pk=application.pk)
    submit = "submit" in request.POST
    partial = application.status == Application.Status.DRAFT and not submit
    form = ApplicationForm(request.POST or None, instance=application)
    inputs_form = ScorecardInputsForm(
        request.POST or None,
        scorecard=scorecard,
        partial=partial,
        initial=_form_initial(application.inputs),
    )
    if request.method == "POST" and _all_valid(form, inputs_form):
        try:
            services.application_update(
                application=application,
                data=form.cleaned_data,
                inputs=inputs_form.cleaned_inputs,
                submit=submit,
            )
        except ValidationError as error:
            form_add_errors(inputs_form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Application saved.")
            return redirect("applicants:application_detail", pk=application.pk)
    context = {
        "applicant": application.applicant,
        "application": application,
        "scorecard": scorecard,
        "form": form,
        "inputs_form": inputs_form,
    }
    return render(request, "applicants/application_form.html", context)


@login_required
@require_POST
@permission_required("applicants.change_application", raise_exception=True)
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, application_id=pk)
    try:
        services.application_submit(application=application)
    except ValidationError as error:
        messages.error(request, "Cannot submit yet: " + _plain_errors(error))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Application submitted.")
    return redirect("applicants:application_detail", pk=application.pk)


def _scorecard_or_404(key: str):
    try:
        return get_scorecard(key)
    except KeyError:
        raise Http404("No such product.") from None


def _all_valid(*forms: Form) -> bool:
    return all([form.is_valid() for form in forms])  # validate every form, not just the first


def _plain_errors(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


def _form_initial(inputs: dict) -> dict:
    """Stored values as the form's widgets expect them (booleans as yes/no)."""
    return {
        name: ("yes" if value is True else "no" if value is False else value)
        for name, value in inputs.items()
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
