"""The scorecard builder's pages (credit managers): the scorecards and their declaration
versions, uploading a labelled file, the review of the proposed declaration, saving and
training it."""

from __future__ import annotations

import contextlib
import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from applicants import scorecards as registry
from creditportal.errors import ApplicationError
from creditportal.uploads import accepts_uploads
from creditportal.views import error_text, form_add_errors, submits_jobs
from ml.schema import format_number
from scoring import selectors
from scoring.forms import ScorecardDraftUploadForm
from scoring.jobs import lifecycle
from scoring.models import ScorecardDraft
from scoring.services import builder

MANAGE = "applicants.manage_scorecards"
MAX_CLASSES = 20  # as a declaration allows (ml.declaration)
ROLE_LABELS = {
    "input": "input",
    "protected": "protected (fairness only)",
    "ignored": "ignored",
    "id": "identifier",
}


@login_required
@permission_required(MANAGE, raise_exception=True)
def scorecard_list(request: HttpRequest) -> HttpResponse:
    context = {
        "products": selectors.scorecard_product_list(),
        "drafts": selectors.scorecard_draft_list()[:20],
        "upload_form": ScorecardDraftUploadForm(),
    }
    return render(request, "scoring/builder/scorecard_list.html", context)


@login_required
@permission_required(MANAGE, raise_exception=True)
def declaration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = selectors.declaration_get(declaration_id=pk)
    if request.GET.get("format") == "json":
        response = JsonResponse(declaration.document, json_dumps_params={"indent": 2})
        name = f"{declaration.key}-v{declaration.version}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {
        "declaration": declaration,
        "scorecard": registry.declaration_scorecard(declaration),
        "document_json": json.dumps(declaration.document, indent=2, ensure_ascii=False),
        "versions": selectors.declaration_versions(key=declaration.key),
        "models": declaration.model_versions.order_by("-version")[:20],
        "waits_for": registry.declaration_waits_for(declaration),
        "is_latest": registry.latest_declaration(declaration.key) == declaration,
    }
    return render(request, "scoring/builder/declaration_detail.html", context)


@accepts_uploads("MAX_TRAINING_UPLOAD_MB")
@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
@submits_jobs
def draft_upload(request: HttpRequest) -> HttpResponse:
    form = ScorecardDraftUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            draft = builder.scorecard_draft_create(
                upload=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Stored {draft.original_name}; a worker is profiling it.")
            return redirect("scoring:scorecard_draft_detail", pk=draft.pk)
    context = {
        "products": selectors.scorecard_product_list(),
        "drafts": selectors.scorecard_draft_list()[:20],
        "upload_form": form,
    }
    return render(request, "scoring/builder/scorecard_list.html", context, status=400)


def draft_progress(draft: ScorecardDraft) -> dict:
    return {
        "id": draft.pk,
        "status": draft.status,
        "status_label": draft.get_status_display(),
        "waiting_note": lifecycle.waiting_note(draft),
        "finished": draft.is_finished,
        "percent": round(draft.progress * 100, 1),
        "stage": draft.stage,
        "error": draft.error,
    }


@login_required
@require_GET
@permission_required(MANAGE, raise_exception=True)
def draft_progress_view(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(draft_progress(selectors.scorecard_draft_get(draft_id=pk)))


@login_required
@permission_required(MANAGE, raise_exception=True)
@submits_jobs  # choosing another outcome column profiles the file again (a job)
def draft_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = selectors.scorecard_draft_get(draft_id=pk)
    if request.method == "POST":
        return _review_post(request, draft)
    document = draft.proposal if draft.proposal else None
    return _render_draft(request, draft, document)


def _render_draft(request, draft, document, *, errors=(), status=200) -> HttpResponse:
    context = {
        "draft": draft,
        "progress": draft_progress(draft),
        "errors": list(errors),
        "review": _review_rows(draft, document) if document else None,
        "document": document,
        "role_labels": ROLE_LABELS,
    }
    return render(request, "scoring/builder/draft_detail.html", context, status=status)


def _review_rows(draft: ScorecardDraft, document: dict) -> dict:
    """What the review page shows: one row per column of the file with its role in the
    document, and the target's classes with their costs."""
    fields = {f.get("source") or f["name"]: f for f in document.get("fields", [])}
    spare = (draft.profile or {}).get("spare_fields") or {}
    reasons = (draft.profile or {}).get("roles") or {}
    ids = set(document.get("id_columns") or [])
    target = document.get("target") or {}
    grouping = document.get("grouping") or {}
    rows = []
    for column in (draft.profile or {}).get("columns", []):
        source = column.get("header")
        field = fields.get(source) or spare.get(source) or {}
        if source == target.get("source"):
            role = "target"
        elif grouping and source == grouping.get("source"):
            role = "group"
        elif source in fields:
            role = "protected" if field.get("protected") else "input"
        else:
            role = "id" if source in ids and column.get("id_like") else "ignored"
        why = reasons.get(source) or {}
        rows.append(
            {
                "source": source,
                "role": role,
                "field": field,
                "profile": column,
                "summary": column_summary(column),
                "reason": why.get("reason", "") if role not in ("input", "target") else "",
                "leakage": why.get("leakage_roc_auc"),
            }
        )
    classes = [c["value"] for c in target.get("classes", [])]
    costs = cost_rows(classes, document)
    return {
        "rows": rows,
        "classes": classes,
        "bad": set(target.get("bad") or classes[-1:]),
        "costs": costs,
    }


def column_summary(column: dict) -> str:
    """What a column holds, in a few words: "numbers 0 to 34", "3 choices", "2 % missing"."""
    parts = []
    kind = column.get("kind", "")
    if kind in ("integer", "numeric") and column.get("minimum") is not None:
        low, high = column["minimum"], column["maximum"]
        parts.append(f"numbers from {format_number(low)} to {format_number(high)}")
    elif kind in ("categorical", "boolean", "multi_categorical"):
        top = ", ".join(str(value) for value, _ in (column.get("top") or [])[:4])
        parts.append(f"{column.get('distinct', 0):,} values" + (f" ({top}…)" if top else ""))
    else:
        parts.append(kind or "text")
    share = column.get("missing_share") or 0
    if share:
        parts.append(f"{share:.0%} missing" if share >= 0.01 else "under 1% missing")
    return "; ".join(parts)


def cost_rows(classes: list[str], document: dict) -> list[dict]:
    """The cost matrix as the pages' table: a row per true class, a cell per prediction."""
    matrix = (document.get("costs") or {}).get("matrix") or []
    return [
        {
            "truth": truth,
            "cells": [
                {"predicted": predicted, "value": _cell(matrix, i, j), "name": f"cost_{i}_{j}"}
                for j, predicted in enumerate(classes)
            ],
        }
        for i, truth in enumerate(classes)
    ]


def _cell(matrix, i, j):
    try:
        return matrix[i][j]
    except (IndexError, TypeError):
        return ""


def _number(text: str, what: str, errors: list[str]) -> float | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors.append(f"{what}: enter a number (got {text[:40]!r}).")
        return None
    if not math.isfinite(value):
        errors.append(f"{what}: enter a finite number.")
        return None
    return int(value) if value.is_integer() else value


def edits_from_post(post, document: dict, profile: dict) -> tuple[dict, list[str]]:
    """The review form's fields as `builder.apply_edits` edits, with the errors of values
    that are not even numbers (every other rule is the declaration's, checked at save)."""
    errors: list[str] = []
    edits: dict = {}
    for name in ("key", "label", "description", "product", "currency"):
        if name in post:
            edits[name] = post.get(name, "").strip()
    classes = [c.strip() for c in post.get("classes", "").split(",") if c.strip()]
    if len(classes) > MAX_CLASSES:
        errors.append(f"Outcomes: at most {MAX_CLASSES} (got {len(classes)}).")
        classes = classes[:MAX_CLASSES]
    if classes:
        edits["classes"] = classes
    if "bad" in post:
        edits["bad"] = post.getlist("bad")
    known = classes or [c["value"] for c in (document.get("target") or {}).get("classes", [])]
    if any(key.startswith("cost_") for key in post):
        matrix = []
        for i, truth in enumerate(known):
            row = []
            for j, predicted in enumerate(known):
                what = f"Cost of predicting {predicted!r} when the truth is {truth!r}"
                value = _number(post.get(f"cost_{i}_{j}", ""), what, errors)
                row.append(0 if value is None else value)
            matrix.append(row)
        edits["costs"] = matrix
    columns = {}
    for index, column in enumerate(profile.get("columns", [])):
        prefix = f"col-{index}-"
        if post.get(prefix + "source") != column.get("header"):
            continue
        change = {"role": post[prefix + "role"]} if post.get(prefix + "role") else {}
        for name in ("label", "help", "unit"):
            if prefix + name in post:
                change[name] = post.get(prefix + name, "").strip()
        for name in ("min", "max"):
            if prefix + name in post:
                what = f"Column {column.get('header')!r}, {name}"
                change[name] = _number(post.get(prefix + name, ""), what, errors)
        change["never_reason"] = post.get(prefix + "never_reason") == "on"
        columns[column.get("header")] = change
    if columns:
        edits["columns"] = columns
    return edits, errors


def _review_post(request: HttpRequest, draft: ScorecardDraft) -> HttpResponse:
    action = request.POST.get("action", "save")
    if draft.declaration_id is not None:
        messages.info(request, "This draft is already saved; edit the scorecard from its page.")
        return redirect("scoring:scorecard_draft_detail", pk=draft.pk)
    try:
        base = builder.draft_document(draft)
        if action == "retarget":
            return _retarget(request, draft)
        edits, errors = edits_from_post(request.POST, base, draft.profile or {})
        document = builder.draft_document(draft, edits)
    except (ApplicationError, ValidationError) as error:
        return _render_draft(request, draft, draft.proposal, errors=[error_text(error)], status=400)
    if errors:
        return _render_draft(request, draft, document, errors=errors, status=400)
    try:
        declaration = builder.scorecard_draft_save(draft=draft, document=document, by=request.user)
    except ValidationError as error:
        problems = error.message_dict.get("declaration") or error.messages
        return _render_draft(request, draft, document, errors=problems, status=400)
    except ApplicationError as error:
        return _render_draft(request, draft, document, errors=[error.message], status=400)
    messages.success(
        request, f"Saved {declaration}. Train its first model to put it in production."
    )
    return redirect("scoring:scorecard_draft_detail", pk=draft.pk)


def _retarget(request: HttpRequest, draft: ScorecardDraft) -> HttpResponse:
    again = builder.scorecard_draft_retarget(
        draft=draft, target=request.POST.get("target", ""), by=request.user
    )
    messages.success(
        request, f"Reading the file again with {again.requested_target} as the outcome."
    )
    return redirect("scoring:scorecard_draft_detail", pk=again.pk)


@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
@submits_jobs
def draft_train(request: HttpRequest, pk: int) -> HttpResponse:
    draft = selectors.scorecard_draft_get(draft_id=pk)
    try:
        job = builder.scorecard_draft_train(
            draft=draft, by=request.user, search=request.POST.get("search") == "on"
        )
    except (ApplicationError, ValidationError) as error:
        messages.error(request, error_text(error))
        return redirect("scoring:scorecard_draft_detail", pk=draft.pk)
    messages.success(request, f"Training of {job.scorecard} queued.")
    return redirect("scoring:training_job_detail", pk=job.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
def declaration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A scorecard's words, help, units, ranges, never-a-reason, uses and costs: its next
    version, used at once when only words changed, else once a model trained on it is
    promoted (`applicants.scorecards.model_signature`)."""
    declaration = selectors.declaration_get(declaration_id=pk)
    document = declaration.document
    columns = {"columns": [{"header": f.get("source") or f["name"]} for f in document["fields"]]}
    errors: list[str] = []
    if request.method == "POST":
        edits, errors = edits_from_post(request.POST, document, columns)
        edits.pop("key", None)
        if not errors:
            try:
                stored = builder.declaration_edit(
                    declaration=declaration, edits=edits, by=request.user
                )
            except ValidationError as error:
                errors = error.message_dict.get("declaration") or error.messages
            else:
                waits = registry.declaration_waits_for(stored)
                if stored.pk == declaration.pk:
                    messages.info(request, "Nothing changed.")
                elif waits:
                    messages.warning(
                        request,
                        f"Stored v{stored.version}; it is used once a model trained on it is "
                        f"promoted ({'; '.join(waits)}).",
                    )
                else:
                    messages.success(request, f"Stored v{stored.version}; in use now.")
                return redirect("scoring:declaration_detail", pk=stored.pk)
        with contextlib.suppress(ValidationError):  # show what was typed, beside the errors
            document = builder.apply_edits(document, edits)
    rows = [
        {"index": index, "field": field, "source": field.get("source") or field["name"]}
        for index, field in enumerate(document["fields"])
    ]
    target = document.get("target") or {}
    classes = [c["value"] for c in target.get("classes", [])]
    costs = cost_rows(classes, document)
    context = {
        "declaration": declaration,
        "document": document,
        "rows": rows,
        "classes": classes,
        "bad": set(target.get("bad") or classes[-1:]),
        "costs": costs,
        "errors": errors,
    }
    return render(
        request, "scoring/builder/declaration_edit.html", context, status=400 if errors else 200
    )
