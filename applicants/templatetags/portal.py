"""Template helpers for showing scorecard values the way an officer reads them."""

from django import template

register = template.Library()


@register.simple_tag
def field_value(field, value) -> str:
    """A stored input in words, as the scorecard formats it ("not given" when missing).

    Coded values (e.g. repayment status -1) show their documented meaning instead.
    """
    if field.value_labels and isinstance(value, int | float) and value in field.value_labels:
        return f"{field.value_labels[int(value)]} ({value:g})"
    return field.format_value(value)


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.234 -> '23.4%'; empty for missing values."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def get_item(container, key):
    """container[key] in a template: a dict by key or a list by index (None when absent)."""
    if hasattr(container, "get"):
        return container.get(key)
    try:
        return container[int(key)]
    except (IndexError, TypeError, ValueError):
        return None


@register.filter
def number(value, digits: int = 3) -> str:
    """Whole numbers as they are, others rounded: 238 -> '238', 0.07912 -> '0.079'."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(number(item, digits) for item in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:.{int(digits)}f}"
