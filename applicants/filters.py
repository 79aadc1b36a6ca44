"""django-filter FilterSets for the applicant and application lists (portal and API)."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from ml.scorecards import SCORECARDS

from .encryption import blind_indexes
from .models import Applicant, Application

User = get_user_model()

# The longest search text: a name or a reference is at most 200 characters, and SQLite
# refuses a LIKE pattern over 50,000 bytes with an error (a 500) rather than no match.
SEARCH_MAX_LENGTH = 200


def scorecard_choices() -> list[tuple[str, str]]:
    return [(key, scorecard.label) for key, scorecard in SCORECARDS.items()]


def national_id_matches(value: str, prefix: str = "") -> Q:
    """Applicants whose national id is `value` (any spacing, dashes or case): the column is
    encrypted, so the match is on its blind index, under every configured key."""
    indexes = blind_indexes(value)
    return Q(**{f"{prefix}national_id_index__in": indexes}) if indexes else Q(pk__in=[])


class ApplicantFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search name, reference or national ID (exact)",
        max_length=SEARCH_MAX_LENGTH,
    )
    status = django_filters.ChoiceFilter(
        field_name="applications__status",
        choices=Application.Status.choices,
        label="Application status",
        distinct=True,
    )
    product = django_filters.ChoiceFilter(
        field_name="applications__scorecard",
        choices=scorecard_choices,
        label="Product",
        distinct=True,
    )
    archived = django_filters.ChoiceFilter(
        method="filter_archived",
        choices=[("active", "Active"), ("archived", "Archived"), ("all", "All")],
        empty_label=None,
        null_label=None,
        label="Show",
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True).order_by("username"), label="Officer"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("full_name", "name"),
            ("external_reference", "reference"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Applicant
        fields = ["q", "status", "product", "archived", "owner"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(full_name__icontains=value)
            | Q(external_reference__icontains=value)
            | national_id_matches(value)
        )

    def filter_archived(self, queryset, name, value):
        if value == "archived":
            return queryset.filter(is_archived=True)
        if value == "all":
            return queryset
        return queryset.filter(is_archived=False)

    def filter_queryset(self, queryset):
        # "Active" is the default view when the archived filter is not given at all.
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(is_archived=False)
        return super().filter_queryset(queryset)


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search applicant, reference or national ID (exact)",
        max_length=SEARCH_MAX_LENGTH,
    )
    status = django_filters.ChoiceFilter(choices=Application.Status.choices)
    product = django_filters.ChoiceFilter(
        field_name="scorecard", choices=scorecard_choices, label="Product"
    )
    owner = django_filters.ModelChoiceFilter(
        field_name="applicant__owner",
        queryset=User.objects.filter(is_active=True).order_by("username"),
        label="Officer",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("created_at", "created"),
            ("updated_at", "updated"),
            ("requested_amount", "amount"),
            ("applicant__full_name", "applicant"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Application
        fields = ["q", "status", "product", "owner"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(applicant__full_name__icontains=value)
            | Q(applicant__external_reference__icontains=value)
            | national_id_matches(value, prefix="applicant__")
        )
