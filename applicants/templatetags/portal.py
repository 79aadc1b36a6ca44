"""Template helpers for showing scorecard values the way an officer reads them."""

from django import template

register = template.Library()


@register.simple_tag
def field_value(field, value) -> str:
    """A stored input in words, as the scorecard formats it ("not given" when missing)."""
    return field.format_value(value)
