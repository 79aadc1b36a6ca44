"""Reads on applicants and applications. Every query here takes the user asking.

An officer sees only the applicants they own (and those applicants' applications); a credit
manager or administrator sees all. Asking for a row you may not see is indistinguishable from
asking for one that does not exist: both raise Http404.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, ForeignKey, Max, QuerySet
from django.http import Http404
from django.utils.text import capfirst

from creditportal.roles import can_see_all_applicants
from ml.scorecards import SCORECARDS

from .filters import ApplicantFilter, ApplicationFilter
from .models import Applicant, Application

User = get_user_model()


def applicant_visible_to(*, user) -> QuerySet[Applicant]:
    queryset = Applicant.objects.select_related("owner")
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(owner=user)


def application_visible_to(*, user) -> QuerySet[Application]:
    queryset = Application.objects.select_related("applicant", "applicant__owner", "created_by")
    if can_see_all_applicants(user):
        return queryset
    return queryset.filter(applicant__owner=user)


def applicant_list(*, user, filters: dict[str, Any] | None = None) -> ApplicantFilter:
    """The applicants the user may see, filtered; the FilterSet carries the form and `.qs`."""
    queryset = (
        applicant_visible_to(user=user)
        .annotate(
            application_count=Count("applications", distinct=True),
            last_application_at=Max("applications__created_at"),
        )
        .order_by("full_name", "id")  # Meta.ordering is not applied to GROUP BY queries
    )
    filterset = ApplicantFilter(filters or {}, queryset=queryset)
    if not can_see_all_applicants(user):
        del filterset.filters["owner"]
    return filterset


def application_list(*, user, filters: dict[str, Any] | None = None) -> ApplicationFilter:
    # No list shows the applicant's national id: not read, so not decrypted row by row.
    queryset = application_visible_to(user=user).defer("applicant__national_id")
    filterset = ApplicationFilter(filters or {}, queryset=queryset)
    if not can_see_all_applicants(user):
        del filterset.filters["owner"]
    return filterset


def applicant_get_for_user(*, user, applicant_id: int) -> Applicant:
    try:
        return applicant_visible_to(user=user).get(pk=applicant_id)
    except Applicant.DoesNotExist:
        raise Http404("No such applicant.") from None


def application_get_for_user(*, user, application_id: int) -> Application:
    try:
        return application_visible_to(user=user).get(pk=application_id)
    except Application.DoesNotExist:
        raise Http404("No such application.") from None


def officer_list() -> QuerySet:
    """Active users who can own applicants: the choices when a manager reassigns."""
    return (
        User.objects.filter(is_active=True)
        .filter(groups__permissions__codename="add_applicant")
        .distinct()
        .order_by("username")
    )


def application_list_for_applicant(*, applicant: Applicant) -> QuerySet[Application]:
    """An applicant's applications, newest first (the caller has already got the applicant
    through `applicant_get_for_user`)."""
    return applicant.applications.select_related(
        "applicant", "applicant__owner", "created_by"
    ).order_by("-created_at", "-id")


# --- change history (django-simple-history) --------------------------------------------------

HISTORY_SHOWN = 50  # newest entries on a page; the admin keeps every one


@dataclass
class FieldChange:
    label: str
    old: str = ""
    new: str = ""
    only_changed: bool = False  # shown as "changed", the values never (the national id)


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    subject: str  # "Application" or "Applicant"
    action: str  # "Created", "Changed", "Deleted", or why the record was written
    changes: list[FieldChange] = field(default_factory=list)


def application_change_history(*, application: Application) -> tuple[list[HistoryEntry], bool]:
    """Every change to the application and to its applicant, newest first, with who made it
    and what changed; and whether older entries were left out (HISTORY_SHOWN).

    A fixed number of queries however long the history: the records of each model in one
    query with their users, the users named in changed owner fields in one more.
    """
    scorecard = SCORECARDS.get(application.scorecard)
    input_fields = {f.name: f for f in scorecard.fields} if scorecard else {}
    application_entries, application_cut = _history_entries(
        Application.history.filter(id=application.pk), "Application", input_fields
    )
    applicant_entries, applicant_cut = _history_entries(
        Applicant.history.filter(id=application.applicant_id), "Applicant", {}
    )
    return _newest(application_entries + applicant_entries, application_cut or applicant_cut)


def applicant_change_history(*, applicant: Applicant) -> tuple[list[HistoryEntry], bool]:
    """Every change to the applicant (identity, owner, archiving), newest first."""
    return _newest(*_history_entries(Applicant.history.filter(id=applicant.pk), "Applicant", {}))


def _newest(entries: list[HistoryEntry], cut: bool) -> tuple[list[HistoryEntry], bool]:
    """The newest HISTORY_SHOWN entries, and whether older ones exist (each model's records
    were read up to HISTORY_SHOWN only: `cut` says there were more)."""
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:HISTORY_SHOWN], cut or len(entries) > HISTORY_SHOWN


def _history_entries(
    records: QuerySet, subject: str, input_fields: dict
) -> tuple[list[HistoryEntry], bool]:
    """The entries of the newest HISTORY_SHOWN records, and whether older records exist."""
    records = list(
        records.select_related("history_user").order_by("-history_date", "-history_id")[
            : HISTORY_SHOWN
            + 1  # one more: the state the oldest shown change started from
        ]
    )
    records.reverse()
    if not records:
        return [], False
    opts = records[0].instance_type._meta
    compared = [f.name for f in records[0].tracked_fields if f.editable]
    secret = "national_id_index" if hasattr(records[0], "national_id_index") else None
    user_ids: set[int] = set()
    pairs = []
    for previous, record in zip([None, *records], records, strict=False):
        delta = record.diff_against(previous, included_fields=compared) if previous else None
        pairs.append((record, delta))
        for change in delta.changes if delta else ():
            if isinstance(opts.get_field(change.field), ForeignKey):
                user_ids.update(v for v in (change.old, change.new) if isinstance(v, int))
    names = _user_names(user_ids)
    entries = []
    for index, (record, delta) in enumerate(pairs):
        if index == 0 and len(records) > HISTORY_SHOWN:
            continue  # only the starting point of the next one
        changes = [
            _field_change(opts, change, names, input_fields)
            for change in (delta.changes if delta else ())
        ]
        previous = records[index - 1] if index else None
        if secret and previous and getattr(previous, secret) != getattr(record, secret):
            # The id itself is not in the history; its blind index tells that it changed.
            changes.append(FieldChange("National ID", only_changed=True))
        if record.history_type == "~" and not changes:
            continue  # saved without a change worth showing (only its timestamp moved)
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=_user_name(record.history_user),
                subject=subject,
                action=record.history_change_reason or record.get_history_type_display(),
                changes=changes,
            )
        )
    return entries, len(records) > HISTORY_SHOWN


def _field_change(opts, change, names: dict[int, str], input_fields: dict) -> FieldChange:
    model_field = opts.get_field(change.field)
    label = capfirst(model_field.verbose_name)
    if change.field == "inputs":
        old, new = change.old or {}, change.new or {}
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        return FieldChange(
            "Scorecard inputs",
            old="; ".join(_input_shown(input_fields, k, old.get(k)) for k in keys),
            new="; ".join(_input_shown(input_fields, k, new.get(k)) for k in keys),
        )
    if isinstance(model_field, ForeignKey) and model_field.related_model is User:
        return FieldChange(label, names.get(change.old, "—"), names.get(change.new, "—"))
    if model_field.choices:
        labels = dict(model_field.flatchoices)
        return FieldChange(label, labels.get(change.old, change.old), labels.get(change.new))
    return FieldChange(label, _shown(change.old), _shown(change.new))


def _input_shown(input_fields: dict, name: str, value) -> str:
    """ "Credit limit: 20,000", as the scorecard words it (its raw value if it cannot)."""
    field = input_fields.get(name)
    if field is None:
        return f"{name}: {_shown(value)}"
    try:
        return f"{field.label}: {field.format_value(value)}"
    except (TypeError, ValueError):
        return f"{field.label}: {_shown(value)}"


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value)
    return str(value)


def _user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {user.pk: _user_name(user) for user in User.objects.filter(pk__in=user_ids)}


def _user_name(user) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.username
