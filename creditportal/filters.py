"""Filters every app's lists share (django-filter)."""

import django_filters
from django import forms

# The largest id any supported database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number from 1 to MAX_ID, else a 400 naming the filter. An id the
    user may not see filters to nothing, exactly like one that does not exist (no "not a
    valid choice" that would tell them apart)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
