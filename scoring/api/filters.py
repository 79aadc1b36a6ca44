"""django-filter FilterSets of the scoring API's lists. Ordering is a filter too (`ordering`),
as in the applicants' lists."""

import django_filters

from applicants.filters import scorecard_choices
from creditportal.filters import IdFilter

from ..models import Decision, ModelPromotion, ModelVersion, Prediction, Recommendation


class PredictionFilter(django_filters.FilterSet):
    application = IdFilter(field_name="application_id")
    applicant = IdFilter(field_name="application__applicant_id")
    model_version = IdFilter(field_name="model_version_id")
    scorecard = django_filters.ChoiceFilter(choices=scorecard_choices)
    recommendation = django_filters.ChoiceFilter(choices=Recommendation.choices)
    source = django_filters.ChoiceFilter(choices=Prediction.Source.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601)"
    )
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("points", "points"), ("risk", "risk"))
    )

    class Meta:
        model = Prediction
        fields = []


class DecisionFilter(django_filters.FilterSet):
    application = IdFilter(field_name="application_id")
    outcome = django_filters.ChoiceFilter(choices=Recommendation.choices)
    is_override = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter(
        field_name="reopened_at", lookup_expr="isnull", label="Not reopened"
    )
    decided_after = django_filters.IsoDateTimeFilter(field_name="decided_at", lookup_expr="gte")
    decided_before = django_filters.IsoDateTimeFilter(field_name="decided_at", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=(("decided_at", "decided"),))

    class Meta:
        model = Decision
        fields = []


class ModelVersionFilter(django_filters.FilterSet):
    scorecard = django_filters.ChoiceFilter(choices=scorecard_choices)
    status = django_filters.ChoiceFilter(choices=ModelVersion.Status.choices)
    is_synthetic = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=(("version", "version"), ("created_at", "created"), ("scorecard", "scorecard"))
    )

    class Meta:
        model = ModelVersion
        fields = []


class ModelPromotionFilter(django_filters.FilterSet):
    scorecard = django_filters.ChoiceFilter(choices=scorecard_choices)
    ordering = django_filters.OrderingFilter(fields=(("promoted_at", "promoted"),))

    class Meta:
        model = ModelPromotion
        fields = []
