"""The scorecard builder: a labelled CSV → a worker's profile and proposed declaration → the
credit manager's review → a stored declaration, its training dataset and a training job.

From the moment the declaration is stored, the scorecard is a product everywhere (see
`applicants.scorecards`); its first model goes to production through the usual promotion.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction

from applicants.scorecards import declaration_store, latest_declaration
from creditportal.errors import ApplicationError, JobQueueUnavailable
from ml.cleaning import CleaningError
from ml.declaration import DeclarationError
from ml.profiling import ProfileError, field_spec, profile_csv, propose
from ml.scorecards import SCORECARDS
from scoring.jobs import lifecycle
from scoring.models import ScorecardDraft, TrainingDataset, TrainingJob

from .datasets import training_dataset_create
from .training import training_job_create
from .uploads import stored_name, upload_check, upload_sha256

MANAGE_PERMISSION = "applicants.manage_scorecards"
COLUMN_ROLES = ("input", "protected", "ignored", "id")
MAX_CLASSES = 20  # as a declaration allows (ml.declaration)
INPUT_KINDS = ("integer", "numeric", "categorical", "boolean", "multi_categorical")


def _require_manager(user) -> None:
    if not user.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied("Only a credit manager can define scorecards.")


def scorecard_draft_create(*, upload, by) -> ScorecardDraft:
    """Store a labelled CSV and queue its profiling. The file's size and name are checked now;
    what it holds is the worker's to read (a large file is not read in the request)."""
    from scoring import tasks

    _require_manager(by)
    upload_check(upload, max_mb=settings.MAX_TRAINING_UPLOAD_MB)
    draft = ScorecardDraft(
        original_name=os.path.basename(upload.name)[:255],
        sha256=upload_sha256(upload),
        size_bytes=upload.size,
        created_by=by,
    )
    draft.file.save(stored_name(upload.name), upload, save=False)
    try:
        with transaction.atomic(durable=True):
            draft.save()
    except Exception:
        draft.file.delete(save=False)
        raise
    try:
        lifecycle.queue(draft, tasks.profile_scorecard_draft)
    except JobQueueUnavailable:
        draft.file.delete(save=False)
        raise
    return draft


def scorecard_draft_profile(*, draft_id: int) -> None:
    """The worker's side: profile every column and propose a declaration."""
    lifecycle.run(ScorecardDraft, draft_id, _profile, readable=(ProfileError, CleaningError))


def _profile(draft: ScorecardDraft, token: str) -> None:
    lifecycle.beat(ScorecardDraft, draft.pk, token, stage="profiling", progress=0.1)
    with draft.file.open("rb") as handle:
        profile = profile_csv(
            handle, name=draft.original_name, max_columns=settings.UPLOAD_MAX_COLUMNS
        )
    lifecycle.beat(ScorecardDraft, draft.pk, token, stage="proposing", progress=0.8)
    proposal = propose(
        profile,
        target=draft.requested_target or None,
        key=_free_key(_stem(draft.original_name)),
    )
    used = {f.get("source") for f in proposal.declaration["fields"]}
    stored = profile.to_dict()
    stored["roles"] = proposal.roles
    stored["notes"] = proposal.notes
    # A field for each column the proposal left out, should the manager make it an input.
    stored["spare_fields"] = {
        column.header: field_spec(column)
        for column in profile.columns
        if column.header not in used and column.kind in INPUT_KINDS
    }
    lifecycle.finish(
        ScorecardDraft,
        draft.pk,
        status=lifecycle.JobStatus.SUCCEEDED,
        token=token,
        stage="done",
        progress=1.0,
        profile=stored,
        proposal=proposal.declaration,
    )


def _stem(name: str) -> str:
    return os.path.splitext(os.path.basename(name))[0]


def _free_key(stem: str) -> str:
    """A scorecard key from the file's name that no scorecard has yet."""
    base = "".join(c if c.isalnum() else "_" for c in stem.lower()).strip("_")[:48]
    if not base or not base[0].isalpha():
        base = f"scorecard_{base}".strip("_")
    key, number = base, 2
    while latest_declaration(key) is not None:
        key, number = f"{base}_{number}", number + 1
    return key


def scorecard_draft_retarget(*, draft: ScorecardDraft, target: str, by) -> ScorecardDraft:
    """Profile the same file again with another column as the outcome (its classes, their
    order and the costs follow from it): a new draft, so each proposal keeps its own record."""
    from scoring import tasks

    _require_manager(by)
    columns = [c.get("header") for c in (draft.profile or {}).get("columns", [])]
    if target not in columns:
        raise ValidationError({"target": f"No column {target[:60]!r} in the file."})
    again = ScorecardDraft.objects.create(
        file=draft.file.name,
        original_name=draft.original_name,
        sha256=draft.sha256,
        size_bytes=draft.size_bytes,
        created_by=by,
        requested_target=target,
    )
    lifecycle.queue(again, tasks.profile_scorecard_draft)
    return again


def draft_document(draft: ScorecardDraft, edits: dict[str, Any] | None = None) -> dict:
    """The proposal with the manager's edits applied (see `apply_edits`)."""
    if not draft.proposal:
        raise ApplicationError("The file has not been profiled yet.")
    spare = (draft.profile or {}).get("spare_fields") or {}
    return apply_edits(draft.proposal, edits or {}, spare=spare)


def apply_edits(proposal: dict, edits: dict[str, Any], *, spare: dict | None = None) -> dict:
    """A declaration document from the proposal and the review page's edits.

    `edits` may hold the scorecard's `key`, `label`, `description`, `currency`, `classes`
    (values, best to worst), `bad` (values), `costs` (matrix) and, per column source,
    `columns[source] = {"role", "label", "help", "unit", "min", "max", "never_reason"}`.
    Validation is the declaration's own (`ml.declaration.load_declaration`), at save."""
    _check_edits(edits)
    document = copy.deepcopy(proposal)
    for name in ("key", "label", "description", "currency", "product"):
        if name in edits:
            document[name] = edits[name]
    columns = edits.get("columns") or {}
    if columns:
        _apply_column_edits(document, columns, spare or {})
    target = document.get("target") or {}
    if "classes" in edits:
        labels = {c["value"]: c.get("label", c["value"]) for c in target.get("classes", [])}
        target["classes"] = [{"value": v, "label": labels.get(v, v)} for v in edits["classes"]]
    if "bad" in edits:
        target["bad"] = list(edits["bad"])
    if "costs" in edits:
        document.setdefault("costs", {})["matrix"] = edits["costs"]
    return document


EDIT_TEXTS = ("key", "label", "description", "currency", "product")
COLUMN_EDITS = {"role", "label", "help", "unit", "min", "max", "never_reason"}


def _check_edits(edits: Any) -> None:
    """Edits of the right shapes (the API takes them as JSON): else a ValidationError
    naming the part, before anything is built from them."""
    problems = {}
    if not isinstance(edits, dict):
        raise ValidationError({"edits": "Send the edits as a JSON object."})
    for name in EDIT_TEXTS:
        if name in edits and not isinstance(edits[name], str):
            problems[name] = "Must be text."
    for name in ("classes", "bad"):
        value = edits.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems[name] = "Must be a list of class values (text)."
        elif len(value) > MAX_CLASSES:
            problems[name] = f"At most {MAX_CLASSES} classes."
    matrix = edits.get("costs", [])
    if (
        not isinstance(matrix, list)
        or len(matrix) > MAX_CLASSES
        or not all(isinstance(row, list) and len(row) <= MAX_CLASSES for row in matrix)
    ):
        problems["costs"] = "Must be a square matrix of numbers, one row per class."
    columns = edits.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(change, dict) and set(change) <= COLUMN_EDITS for change in columns.values()
    ):
        problems["columns"] = (
            "Must map a column's header to its changes: " + ", ".join(sorted(COLUMN_EDITS)) + "."
        )
    else:
        for source, change in columns.items():
            if (change.get("role") or "input") not in COLUMN_ROLES:
                problems["columns"] = (
                    f"Column {source[:60]!r}: the use must be one of {', '.join(COLUMN_ROLES)} "
                    "(the outcome column is chosen on its own)."
                )
    unknown = set(edits) - {*EDIT_TEXTS, "classes", "bad", "costs", "columns"}
    for name in sorted(unknown)[:10]:
        problems[str(name)[:60]] = "Unknown edit."
    if problems:
        raise ValidationError(problems)


def _apply_column_edits(document: dict, columns: dict[str, dict], spare: dict) -> None:
    fields = {f.get("source") or f["name"]: f for f in document.get("fields", [])}
    taken = {(document.get("target") or {}).get("source")}
    taken.add((document.get("grouping") or {}).get("source"))
    spare = {
        source: copy.deepcopy(f)
        for source, f in spare.items()
        if source not in fields and source not in taken
    }
    ids = list(document.get("id_columns") or [])
    kept = []
    for source, field in {**fields, **spare}.items():
        change = columns.get(source, {})
        current = ("protected" if field.get("protected") else "input") if source in fields else ""
        role = change.get("role") or current or "ignored"
        if role not in COLUMN_ROLES:
            raise ValidationError({"columns": f"Column {source!r}: unknown role {role!r}."})
        for name in ("label", "help", "unit", "min", "max", "never_reason"):
            if name in change:
                field[name] = change[name]
        if role in ("input", "protected"):
            field["protected"] = role == "protected"
            kept.append(field)
            if source in ids:
                ids.remove(source)
        elif role in ("ignored", "id") and source not in ids:
            ids.append(source)
    document["fields"] = kept
    document["id_columns"] = ids


@transaction.atomic
def scorecard_draft_save(*, draft: ScorecardDraft, document: dict, by):
    """Store the reviewed declaration. Raises ValidationError listing every rule the
    document breaks (nothing stored then)."""
    _require_manager(by)
    locked = ScorecardDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.status != lifecycle.JobStatus.SUCCEEDED:
        raise ApplicationError("The file has not been profiled yet.")
    key = document.get("key") if isinstance(document, dict) else None
    if isinstance(key, str) and (key in SCORECARDS or latest_declaration(key) is not None):
        raise ValidationError(
            {
                "declaration": [
                    f"key: {key[:64]!r} is already a scorecard; choose another key "
                    "(an existing scorecard is edited from its own page)."
                ]
            }
        )
    try:
        declaration = declaration_store(
            document=document, user=by, note=f"Made with the builder from {draft.original_name}"
        )
    except DeclarationError as error:
        raise ValidationError({"declaration": error.errors}) from None
    locked.declaration = draft.declaration = declaration
    locked.save(update_fields=["declaration"])
    return declaration


def scorecard_draft_train(*, draft: ScorecardDraft, by, search: bool = True) -> TrainingJob:
    """Make the draft's file the scorecard's training dataset and queue a training job."""
    _require_manager(by)
    if draft.declaration is None:
        raise ApplicationError("Save the scorecard before training it.")
    key = draft.declaration.key
    dataset = draft.dataset
    if dataset is None or dataset.scorecard != key:
        with draft.file.open("rb") as handle:
            upload = File(handle, name=draft.original_name)
            dataset = training_dataset_create(scorecard_key=key, upload=upload, by=by)
        ScorecardDraft.objects.filter(pk=draft.pk).update(dataset=dataset)
        draft.dataset = dataset
    if dataset.status != TrainingDataset.Status.READY:
        raise ApplicationError(
            "The training file is still being checked by a worker; train once it is ready."
        )
    job = training_job_create(scorecard_key=key, dataset=dataset, search=search, by=by)
    ScorecardDraft.objects.filter(pk=draft.pk).update(training_job=job)
    draft.training_job = job
    return job


def declaration_edit(*, declaration, edits: dict[str, Any], by, note: str = ""):
    """Store the next version of a scorecard from one of its versions and the edit page's
    changes (`apply_edits`). Raises ValidationError listing every rule broken. A change of
    words, ranges or costs is used at once; one that changes what the production model
    reads waits for a model trained on it (`applicants.scorecards.declaration_waits_for`)."""
    _require_manager(by)
    latest = latest_declaration(declaration.key)
    if latest is not None and latest.pk != declaration.pk:
        raise ValidationError(
            {
                "declaration": [
                    f"Edit the latest version (v{latest.version}): v{declaration.version}"
                    " is older, and editing it would drop what came after it."
                ]
            }
        )
    document = apply_edits(declaration.document, edits)
    try:
        return declaration_store(
            document=document,
            user=by,
            note=note or f"Edited from v{declaration.version}",
            key=declaration.key,
        )
    except DeclarationError as error:
        raise ValidationError({"declaration": error.errors}) from None
