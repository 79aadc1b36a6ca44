"""Flags: values of a bulk or imported row that were read but implausible, scored as missing.

A bulk file is scored without anyone there to correct it, so a value outside a field's range
or none of its choices is set missing rather than refusing the row (unless the field says
`on_invalid="refuse"`; see `ml.schema.Field`). The prediction keeps a flag for each such
value, as `ml.cleaning.clean_frame` makes it and a prediction stores it (an audit record:
the keys and rules are stable):

    {"field": "annual_income", "rule": "out_of_range", "value": "5700000"}

`value` is the raw text of the file, at most `ml.schema.ECHO_LIMIT` characters. This module
says them in words: a sentence for an officer, a cell of the bulk result file, the counts and
summary of a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ml.schema import (
    NUMBER_KINDS,
    OUT_OF_RANGE,
    UNKNOWN_CHOICE,
    Field,
    Scorecard,
    is_missing,
    parse_number_text,
)

RULE_WORDS = {OUT_OF_RANGE: "out of range", UNKNOWN_CHOICE: "unknown choice"}
RULE_PHRASES = {
    OUT_OF_RANGE: "outside the usual range",
    UNKNOWN_CHOICE: "not one of the known choices",
}


def flags_cell(flags: Iterable[Mapping[str, Any]]) -> str:
    """The flags of one row as a cell of the bulk result file:
    "annual_income out of range: 5700000; occupation unknown choice: Pilot"."""
    return "; ".join(
        f"{flag['field']} {RULE_WORDS.get(flag['rule'], flag['rule'])}: {flag['value']}"
        for flag in flags
    )


def flag_counts_add(counts: dict[str, dict[str, int]], flags: Iterable[Mapping[str, Any]]) -> None:
    """Count flags into `counts[field][rule]` (a job's summary, kept chunk after chunk)."""
    for flag in flags:
        per_field = counts.setdefault(flag["field"], {})
        per_field[flag["rule"]] = per_field.get(flag["rule"], 0) + 1


def flag_summary(rows_flagged: int, counts: Mapping[str, Mapping[str, int]]) -> str:
    """ "312 rows scored with 1 or more values set missing: annual_income out of range 120,
    num_of_loan out of range 40"; "" when no row was flagged. Most frequent first."""
    if not rows_flagged:
        return ""
    items = sorted(
        ((n, name, rule) for name, rules in counts.items() for rule, n in rules.items()),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    parts = ", ".join(f"{name} {RULE_WORDS.get(rule, rule)} {n:,}" for n, name, rule in items)
    rows = "1 row" if rows_flagged == 1 else f"{rows_flagged:,} rows"
    return f"{rows} scored with 1 or more values set missing: {parts}"


def flag_sentence(scorecard: Scorecard | None, flag: Mapping[str, Any], scored: Any = None) -> str:
    """A flag in an officer's words: "Annual income 5,700,000 is outside the usual range (up
    to 1,000,000) and was scored as not given." `scored` is the value the prediction stored
    for the field: a value worked out from the rest of the row (a number of loans from the
    loans listed) replaced the implausible one, and the sentence says so."""
    field_ = _field(scorecard, flag["field"])
    label = field_.label if field_ else flag["field"]
    raw = str(flag.get("value", ""))
    rule = flag.get("rule")
    shown, number = f"“{raw}”", None
    if field_ is not None and field_.kind in NUMBER_KINDS:
        number, _ = parse_number_text(raw)
        if number is not None and abs(number) != float("inf"):
            shown = field_.format_value(number)
    phrase = RULE_PHRASES.get(rule, "implausible")
    if rule == OUT_OF_RANGE and field_ is not None:
        phrase += f" ({_range_words(field_, number)})"
    if scored is not None and not (isinstance(scored, list | tuple)) and not is_missing(scored):
        outcome = f"was replaced by {field_.format_value(scored) if field_ else scored}, worked "
        outcome += "out from the rest of the record"
    else:
        outcome = "was scored as not given"
    return f"{label} {shown} is {phrase} and {outcome}."


def flag_sentences(
    scorecard: Scorecard | None, flags: Iterable[Mapping[str, Any]], inputs: Mapping[str, Any]
) -> list[str]:
    """`flag_sentence` of each flag of a prediction, given the inputs it stored."""
    return [flag_sentence(scorecard, flag, inputs.get(flag["field"])) for flag in flags]


def _field(scorecard: Scorecard | None, name: str) -> Field | None:
    if scorecard is None:
        return None
    return scorecard.fields_by_name.get(name)


def _range_words(field_: Field, number: float | None) -> str:
    """ "up to 1,000,000" above the range, "at least 14 years" below it, else both bounds."""
    low, high = field_.min_value, field_.max_value
    if number is not None and high is not None and number > high:
        return f"up to {field_.format_value(high)}"
    if number is not None and low is not None and number < low:
        return f"at least {field_.format_value(low)}"
    if low is not None and high is not None:
        return f"{field_.format_value(low)} to {field_.format_value(high)}"
    return field_.range_text
