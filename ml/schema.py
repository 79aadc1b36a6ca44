"""Scorecard declarations as data, and the one validator every entry point uses.

A `Scorecard` names a prediction task, its `Field`s, its target and classes. The portal form,
the API serializer, bulk-CSV validation and cleaning are all derived from these declarations.

Values held by the cleaned frame and returned by `validate_inputs`:

- NUMERIC / INTEGER: `float` / `int` (in a cleaned DataFrame both are float64, NaN = missing);
- CATEGORICAL: the choice value (`str`), e.g. "university", "<0", "Media_Manager";
- BOOLEAN: `bool` (in a cleaned DataFrame the nullable "boolean" dtype);
- MULTI_CATEGORICAL: `list[str]` of choice values, repeats kept, `[]` = none (in a cleaned
  DataFrame the canonical string `", ".join(values)`, "" = none, NaN = unknown; see
  `split_multi`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd


class FieldKind(StrEnum):
    NUMERIC = "numeric"
    INTEGER = "integer"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    MULTI_CATEGORICAL = "multi_categorical"


CATEGORICAL_KINDS = frozenset({FieldKind.CATEGORICAL, FieldKind.MULTI_CATEGORICAL})
NUMBER_KINDS = frozenset({FieldKind.NUMERIC, FieldKind.INTEGER})

# Tokens that mean "not given" in any field. "none" is absent on purpose: it is a real
# category in the German credit data (other_parties, own_telephone, other_payment_plans).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "?"})
TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1", "1.0", "on"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0", "0.0", "off"})

REQUIRED_MESSAGE = "This field is required."
NUMBER_MESSAGE = "Enter a number."
WHOLE_NUMBER_MESSAGE = "Enter a whole number."
BOOLEAN_MESSAGE = "Enter yes or no."
DIGITS_MESSAGE = "Enter a number using the digits 0-9 (got {raw})."
FINITE_MESSAGE = "Enter a finite number, not infinity or NaN."
UNKNOWN_FIELD_MESSAGE = "Unknown field."
# How much of a refused raw value a message repeats (a 1 MB cell is not echoed back).
ECHO_LIMIT = 40

# Field.display values.
DISPLAY_YEARS_MONTHS = "years_months"
# Field.unit of an amount in the scorecard's currency.
UNIT_MONEY = "money"
PERIOD_UNITS = ("month", "quarter", "year", "week", "day")

# Field.on_invalid values: what imported and bulk rows do with a value that was read but is
# implausible (outside the range, or not one of the choices). The officer's form and the API
# for one applicant always refuse it: a person is there to correct it.
ON_INVALID_MISSING = "missing"  # scored as missing, and flagged on the prediction
ON_INVALID_REFUSE = "refuse"  # the row is an error
ON_INVALID_CHOICES = (ON_INVALID_MISSING, ON_INVALID_REFUSE)
# The rules a flagged value broke (stored on the prediction: keep them stable).
OUT_OF_RANGE = "out_of_range"
UNKNOWN_CHOICE = "unknown_choice"

# Numbers are written with the ASCII digits 0-9 only: Python's int() and float() also read
# full-width (１２３), Arabic-Indic (١٢٣) and other Unicode digits, and "1_000", "inf" and
# "nan", none of which a form, the API or a CSV file should take as a number.
_YEARS_MONTHS = re.compile(
    r"^\s*([0-9]+)\s*years?\s*(?:and\s*)?(?:([0-9]+)\s*months?)?\s*$", re.IGNORECASE
)
_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_NOT_FINITE |= {"nan", "+nan", "-nan", "snan", "-snan"}
_PROSE_AND = re.compile(r"^and\s+", re.IGNORECASE)
_PLURAL_UNITS = {"months": "month", "years": "year", "days": "day"}


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA and blank strings."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))  # pandas NA / NaT, numpy nan
    except (TypeError, ValueError):
        return False


def normalize_token(value: Any) -> str:
    """Lower-case, stripped text of a raw value, used to match choices and aliases."""
    return str(value).strip().lower()


def snake_case(header: str) -> str:
    """Snake case of a public column header: "LIMIT_BAL" -> "limit_bal", "a.b c" -> "a_b_c"."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().strip("'\"").lower()).strip("_")


def split_multi(value: Any) -> list[str] | None:
    """Split a prose or canonical list ("A, B, and C") into its items; None when unknown."""
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return []
    items = (_PROSE_AND.sub("", part.strip()) for part in text.split(","))
    return [item.strip() for item in items if item.strip()]


def parse_years_months(text: str) -> int | None:
    """Months in a phrase like "22 Years and 1 Months"; None if the text is not such a phrase."""
    match = _YEARS_MONTHS.match(text)
    if not match:
        return None
    return int(match.group(1)) * 12 + int(match.group(2) or 0)


def format_number(value: float) -> str:
    """A number with thousands separators and at most two decimals: 20000 -> "20,000"."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def plain_number(value: float) -> str:
    """A number as written in validation messages: 1000000 -> "1000000", 2.5 -> "2.5"."""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def format_years_months(months: float) -> str:
    """22 * 12 + 1 -> "22 years and 1 month"."""
    years, rest = divmod(int(months), 12)
    parts = []
    if years:
        parts.append(f"{years} year" + ("s" if years != 1 else ""))
    if rest or not years:
        parts.append(f"{rest} month" + ("s" if rest != 1 else ""))
    return " and ".join(parts)


def period_words(period: int, unit: str = "month") -> str:
    """1 -> "last month", 2 -> "2 months ago" (1 is the most recent period)."""
    if unit == "day":
        return "yesterday" if period == 1 else f"{period} days ago"
    if period == 1:
        return f"last {unit}"
    return f"{period} {unit}s ago"


def member_label(group_label: str, period: int, unit: str = "month") -> str:
    """The label of a group member: "Repayment status, last month"."""
    return f"{group_label}, {period_words(period, unit)}"


def _sentence_case(label: str) -> str:
    """Lower-case the first letter unless the label starts with an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


@dataclass(frozen=True)
class Field:
    """One input of a scorecard, declared as data."""

    name: str
    kind: FieldKind
    label: str
    help_text: str = ""
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    value_labels: Mapping[int, str] = field(default_factory=dict)
    protected: bool = False
    required: bool = True
    source: str = ""
    # Raw tokens (matched case-insensitively) that map onto a value: numeric codes of the
    # public files ("2" -> "university") or extra spellings ("none" -> False).
    aliases: Mapping[str, Any] = field(default_factory=dict)
    # Tokens that the public files use instead of an empty cell ("_______", "NM", ...).
    placeholders: tuple[str, ...] = ()
    # Codes the public documentation does not define; cleaning reports each one it reads.
    undocumented: tuple[str, ...] = ()
    # Optional wording for describe(): "{value}" is the formatted value with its unit,
    # "{choice}" the choice label, "{label}" the sentence-case label.
    phrase: str = ""
    display: str = ""
    # A model input never named as a reason for a decision (e.g. age).
    never_reason: bool = False
    # What imported and bulk rows do with an out-of-range value or an unseen choice:
    # ON_INVALID_MISSING (scored as missing, flagged) or ON_INVALID_REFUSE (a row error).
    on_invalid: str = ON_INVALID_MISSING
    # Member of a group (a monthly history): the group's name and the member's period,
    # 1 the most recent. `group_label` and `period_unit` are copied from the group by
    # ml.declaration so a field can word itself ("Repayment status, last month").
    group: str | None = None
    period: int | None = None
    group_label: str = ""
    period_unit: str = "month"
    # The scorecard's currency for a field whose unit is UNIT_MONEY ("" = no symbol).
    currency: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FieldKind(self.kind))
        if self.on_invalid not in ON_INVALID_CHOICES:
            raise ValueError(
                f"Field {self.name!r}: on_invalid must be one of {', '.join(ON_INVALID_CHOICES)} "
                f"(got {self.on_invalid!r})."
            )
        object.__setattr__(self, "value_labels", MappingProxyType(dict(self.value_labels)))
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))
        if not self.source:
            object.__setattr__(self, "source", self.name)
        if self.kind in CATEGORICAL_KINDS and not self.choices:
            raise ValueError(f"Field {self.name!r} of kind {self.kind} needs choices.")

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.source))

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    @cached_property
    def choice_labels(self) -> dict[str, str]:
        return dict(self.choices)

    @cached_property
    def token_map(self) -> dict[str, Any]:
        """Lower-cased accepted token -> value (choice values, their labels and the aliases)."""
        tokens: dict[str, Any] = {}
        for value, label in self.choices:
            tokens.setdefault(normalize_token(label), value)
        for value, _ in self.choices:
            tokens[normalize_token(value)] = value
        for alias, value in self.aliases.items():
            tokens[normalize_token(alias)] = value
        return tokens

    @cached_property
    def missing_tokens(self) -> frozenset[str]:
        """Lower-cased tokens that mean "not given" for this field."""
        return MISSING_TOKENS | {normalize_token(token) for token in self.placeholders}

    @property
    def unit_text(self) -> str:
        """The unit as written after a number: the currency for money, "" for none."""
        return self.currency if self.unit == UNIT_MONEY else self.unit

    @property
    def period_text(self) -> str:
        """ "last month", "2 months ago"; "" for a field outside any group."""
        if self.period is None:
            return ""
        return period_words(self.period, self.period_unit)

    @property
    def range_text(self) -> str:
        """ "between 10000 and 1000000 EUR" / "at least 0" / "" for an unbounded field."""
        unit_text = self.unit_text
        unit = "%" if unit_text == "%" else (f" {unit_text}" if unit_text else "")
        if self.min_value is not None and self.max_value is not None:
            low, high = plain_number(self.min_value), plain_number(self.max_value)
            return f"between {low} and {high}{unit}"
        if self.min_value is not None:
            return f"at least {plain_number(self.min_value)}{unit}"
        if self.max_value is not None:
            return f"at most {plain_number(self.max_value)}{unit}"
        return ""

    def range_message(self, number: float) -> str:
        return f"Must be {self.range_text} (got {plain_number(number)})."

    def choices_message(self, raw: Any) -> str:
        labels = ", ".join(label for _, label in self.choices)
        return f"Must be one of: {labels} (got {echo(raw)})."

    def in_range(self, number: float) -> bool:
        if self.min_value is not None and number < self.min_value:
            return False
        return self.max_value is None or number <= self.max_value

    def format_value(self, value: Any) -> str:
        """The value in words with its unit: "20,000 EUR", "35.5%", "3 months", "university"."""
        if not isinstance(value, list | tuple) and is_missing(value):
            return "not given"
        if self.kind == FieldKind.CATEGORICAL:
            return self.choice_labels.get(value, str(value))
        if self.kind == FieldKind.MULTI_CATEGORICAL:
            items = split_multi(value) or []
            return ", ".join(self.choice_labels.get(item, item) for item in items) or "none"
        if self.kind == FieldKind.BOOLEAN:
            return "yes" if _as_bool(value) else "no"
        number = float(value)
        if self.display == DISPLAY_YEARS_MONTHS:
            return format_years_months(number)
        text = format_number(number)
        unit = self.unit_text
        if unit == "%":
            return f"{text}%"
        if unit in _PLURAL_UNITS and number == 1:
            return f"{text} {_PLURAL_UNITS[unit]}"
        return f"{text} {unit}" if unit else text

    def describe(self, value: Any) -> str:
        """An officer-readable phrase for a value, e.g. "payment delayed 2 months, last month".

        A group member's phrase ends with its period ("…, last month") unless the phrase
        places it itself with "{period}"; without a phrase it is worded from the group's
        label, so the period is said once."""
        period = self.period_text
        label = _sentence_case(self.group_label if period and self.group_label else self.label)
        multi = self.kind == FieldKind.MULTI_CATEGORICAL
        if (not multi and is_missing(value)) or (multi and split_multi(value) is None):
            return _with_period(f"{label} not given", period)
        if self.value_labels and self.kind in NUMBER_KINDS:
            number = float(value)
            if number.is_integer() and int(number) in self.value_labels:
                return _with_period(self.value_labels[int(number)], period)
        formatted = self.format_value(value)
        if self.phrase:
            text = self.phrase.format(value=formatted, choice=formatted, label=label, period=period)
            return text if "{period}" in self.phrase else _with_period(text, period)
        if self.kind in NUMBER_KINDS:
            return _with_period(f"{label} of {formatted}", period)
        return _with_period(f"{label}: {formatted}", period)

    def reason_phrase(self, value: Any) -> str:
        """`describe` as the subject of a reason sentence: a group member's period is set
        off by commas on both sides ("payment delayed 2 months, last month, raised ...")."""
        text = self.describe(value)
        return f"{text}," if self.period_text and text.endswith(self.period_text) else text

    def plain_value(self, value: Any) -> Any:
        """A validated or cleaned value as plain JSON, the same whichever path it came by:
        None when missing, whole numbers of an integer field as int, numbers as float, a
        list of items for several choices."""
        if self.kind == FieldKind.MULTI_CATEGORICAL:
            items = split_multi(value)
            return None if items is None else items
        if self.kind in NUMBER_KINDS and type(value) in (int, float):  # most values, fast
            if value != value:  # NaN
                return None
            return int(value) if self.kind == FieldKind.INTEGER else float(value)
        if is_missing(value):
            return None
        if isinstance(value, np.generic):
            value = value.item()
        if self.kind == FieldKind.BOOLEAN:
            return _as_bool(value)
        if self.kind == FieldKind.INTEGER:
            return int(value)
        if self.kind == FieldKind.NUMERIC:
            return float(value)
        return str(value)

    def coerce(self, raw: Any) -> tuple[Any, str | None]:
        """(value, error message or None) for one raw value; missing gives (None, None)."""
        value, error, _ = _COERCERS[self.kind](self, raw)
        return value, error

    @property
    def out_of_range_note(self) -> str:
        return f"out of range (must be {self.range_text}), set missing"

    def dirty_rule(self, note: str | None) -> str | None:
        """The rule a refused value broke (OUT_OF_RANGE, UNKNOWN_CHOICE) when it is one a
        bulk or imported row may score as missing: the value was read, it is only
        implausible. None for a value that cannot be read at all (text in a number field,
        digits other than 0-9, NaN or infinity, a fraction in a whole-number field).

        `note` is the coercer's note for the refused value (`coerce_value`); the notes
        are written in this module, so the two cannot drift apart."""
        if note is None:
            return None
        if note == self.out_of_range_note:
            return OUT_OF_RANGE
        if self.kind not in NUMBER_KINDS and note.startswith(_UNKNOWN_NOTE_STARTS):
            return UNKNOWN_CHOICE
        return None


def _with_period(text: str, period: str) -> str:
    return f"{text}, {period}" if period else text


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return normalize_token(value) in TRUE_TOKENS
    return bool(value)


# Coercers return (value, error message or None, note or None). The note says what was done
# to a raw value ("stripped underscores", "placeholder '_' read as missing"); the cleaner
# counts notes for its report, validate_inputs ignores them.
Coerced = tuple[Any, str | None, str | None]
_UNKNOWN_NOTE_STARTS = ("unknown value ", "unknown item ")


def _unknown_note(raw: Any, *, item: bool = False) -> str:
    """The note of a value (or one item of a list) that is none of the field's choices;
    `Field.dirty_rule` recognises it by its start."""
    return f"{_UNKNOWN_NOTE_STARTS[item]}{echo(raw)}, set missing"


def _missing_note(field_: Field, raw: Any) -> tuple[bool, str | None]:
    """(is missing, note) for a raw value that may mean "not given"."""
    if raw is None:
        return True, None
    if isinstance(raw, str):
        token = raw.strip().lower()
        if not token:
            return True, None
        if token in field_.missing_tokens or not token.strip("_"):
            return True, f"placeholder {raw.strip()!r} read as missing"
        return False, None
    if isinstance(raw, list | tuple):
        return False, None
    return is_missing(raw), None


def echo(raw: Any) -> str:
    """A refused raw value as a message repeats it: quoted, at most ECHO_LIMIT characters."""
    if isinstance(raw, bool):
        return "true" if raw else "false"  # as the client wrote it (JSON)
    return repr(clipped(raw))


def clipped(raw: Any) -> str:
    """A raw value as text, stripped, at most ECHO_LIMIT characters (a flag stores it so)."""
    text = str(raw).strip()
    if len(text) > ECHO_LIMIT:
        text = text[: ECHO_LIMIT - 1] + "…"
    return text


def _has_foreign_digits(text: str) -> bool:
    """True when the text holds a digit other than 0-9 (１, ١, ۱, ०, ...)."""
    return any(not char.isascii() and unicodedata.category(char) == "Nd" for char in text)


def parse_number_text(text: str) -> tuple[float | None, str | None]:
    """(number, note) from form/CSV text: "5e+05", "52312.68_", "20,000"; None if no number.

    Only the ASCII digits make a number (see `_PLAIN_NUMBER`); a number too large for a float
    ("1e309", four hundred digits) comes back as infinity, for the caller to refuse by range.
    """
    cleaned = text.strip()
    note = None
    if cleaned.startswith("_") or cleaned.endswith("_"):
        cleaned = cleaned.strip("_")
        note = "stripped underscores"
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
        note = "removed thousands separators"
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        return None, None
    return float(cleaned), note


def _number_error(field_: Field, raw: Any) -> tuple[str, str]:
    """(message, note) for text that is not a number, naming the rule it breaks."""
    text = str(raw).strip()
    if _has_foreign_digits(text):
        return DIGITS_MESSAGE.format(raw=echo(raw)), "digits other than 0-9, set missing"
    if text.lower() in _NOT_FINITE:
        return FINITE_MESSAGE, "not a finite number, set missing"
    if field_.kind == FieldKind.INTEGER:
        return WHOLE_NUMBER_MESSAGE, "not a whole number, set missing"
    return NUMBER_MESSAGE, "not a number, set missing"


def _too_large(field_: Field) -> Coerced:
    if field_.range_text:
        message = f"Must be {field_.range_text} (got a number too large)."
    else:
        message = "Enter a smaller number."
    return None, message, field_.out_of_range_note


def _coerce_number(field_: Field, raw: Any) -> Coerced:
    missing, note = _missing_note(field_, raw)
    if missing:
        return None, None, note
    if isinstance(raw, bool):  # JSON true/false: bool is an int subclass, never a number here
        return None, NUMBER_MESSAGE, "not a number, set missing"
    if isinstance(raw, int | float | np.integer | np.floating):
        try:
            number = float(raw)
        except OverflowError:  # an integer of hundreds of digits (JSON allows it)
            return _too_large(field_)
        if math.isnan(number):
            return None, FINITE_MESSAGE, "not a finite number, set missing"
        if math.isinf(number):
            return _too_large(field_)
    elif isinstance(raw, str):
        number, note = parse_number_text(raw)
        if number is None and field_.display == DISPLAY_YEARS_MONTHS:
            months = parse_years_months(raw)
            if months is not None:
                number, note = float(months), "converted years and months to months"
        if number is None:
            message, note = _number_error(field_, raw)
            return None, message, note
        if math.isinf(number):
            return _too_large(field_)
    else:  # a list, an object...: never a number
        message, note = _number_error(field_, raw)
        return None, message, note
    number += 0.0  # -0 is 0
    if field_.kind == FieldKind.INTEGER and not number.is_integer():
        return None, WHOLE_NUMBER_MESSAGE, "not a whole number, set missing"
    if not field_.in_range(number):
        return None, field_.range_message(number), field_.out_of_range_note
    return (int(number) if field_.kind == FieldKind.INTEGER else number), None, note


def _choice_token(raw: Any) -> str:
    """Token of a raw categorical value; 2.0 (a code read as float) becomes "2"."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return normalize_token(raw)


def _match_choice(field_: Field, raw: Any) -> tuple[Any, str | None] | None:
    """(value, note) of a raw token among the field's choices and aliases, None if unknown."""
    token = _choice_token(raw)
    value = field_.token_map.get(token)
    note = None
    if value is None:
        unquoted = token.strip("'\"")
        value = field_.token_map.get(unquoted) if unquoted != token else None
        if value is None:
            return None
        token, note = unquoted, "stripped quotes"
    if token in field_.undocumented:
        note = f"undocumented code {token!r} read as {value!r}"
    return value, note


def _coerce_categorical(field_: Field, raw: Any) -> Coerced:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | np.generic | None):
        # JSON true is not the code 1, and a list or an object is not a choice.
        return None, field_.choices_message(raw), _unknown_note(raw)
    matched = _match_choice(field_, raw)
    if matched is not None:
        return matched[0], None, matched[1]
    missing, note = _missing_note(field_, raw)
    if missing:
        return None, None, note
    return None, field_.choices_message(raw), _unknown_note(raw)


def _coerce_boolean(field_: Field, raw: Any) -> Coerced:
    if isinstance(raw, bool):
        return raw, None, None
    matched = _match_choice(field_, raw)
    if matched is not None:
        return bool(matched[0]), None, matched[1]
    token = _choice_token(raw).strip("'\"")
    if token in TRUE_TOKENS:
        return True, None, None
    if token in FALSE_TOKENS:
        return False, None, None
    missing, note = _missing_note(field_, raw)
    if missing:
        return None, None, note
    return None, BOOLEAN_MESSAGE, _unknown_note(raw)


def _coerce_multi(field_: Field, raw: Any) -> Coerced:
    if isinstance(raw, list | tuple):
        for item in raw:
            if not isinstance(item, str):  # JSON true, a number, a nested list: not a choice
                return None, field_.choices_message(item), _unknown_note(item, item=True)
    elif raw is not None and not isinstance(raw, str | float):  # float: NaN of a frame
        return None, field_.choices_message(raw), _unknown_note(raw)
    if isinstance(raw, str) and raw.strip():
        missing, note = _missing_note(field_, raw)
        if missing:
            return None, None, note
    items = split_multi(raw)
    if items is None:
        return None, None, None
    values = []
    for item in items:
        matched = _match_choice(field_, item)
        if matched is None:
            return None, field_.choices_message(item), _unknown_note(item, item=True)
        values.append(matched[0])
    return values, None, None


_COERCERS = {
    FieldKind.NUMERIC: _coerce_number,
    FieldKind.INTEGER: _coerce_number,
    FieldKind.CATEGORICAL: _coerce_categorical,
    FieldKind.BOOLEAN: _coerce_boolean,
    FieldKind.MULTI_CATEGORICAL: _coerce_multi,
}


def coerce_value(field_: Field, raw: Any) -> Coerced:
    """(value, error message or None, note or None) for one raw value of `field_`."""
    return _COERCERS[field_.kind](field_, raw)


@dataclass(frozen=True)
class Group:
    """Fields that are one quantity over successive periods (a monthly history)."""

    name: str
    label: str
    period_unit: str = "month"


@dataclass(frozen=True)
class Scorecard:
    """A prediction task: its fields, target, classes (best to worst) and business costs.

    Made from a declaration document by `ml.declaration.load_declaration`; `to_document()`
    gives the document back."""

    key: str
    label: str
    description: str
    fields: tuple[Field, ...]
    target: str
    target_source: str
    classes: tuple[str, ...]
    class_labels: Mapping[str, str]
    # Raw target token (lower-cased) -> class value, e.g. "1" -> "default".
    target_aliases: Mapping[str, str]
    # cost_matrix[i][j]: cost of predicting classes[j] when the truth is classes[i].
    cost_matrix: tuple[tuple[float, ...], ...]
    cost_rationale: str
    product: str
    data_files: tuple[str, ...]
    grouping_key: str | None = None
    grouping_source: str | None = None
    # Public columns that are deliberately not inputs (ids, names, SSN, month).
    ignored_sources: tuple[str, ...] = ()
    # Multi-month files: field name -> how to repair it from the customer's other rows
    # ("constant", "nearest" or "months_elapsed"; see ml.cleaning.repair_by_group).
    group_repairs: Mapping[str, str] = field(default_factory=dict)
    # Column with the month name in multi-month files (orders a customer's rows).
    period_source: str | None = None
    # Count field -> multi-choice field whose number of items it must equal; cleaning
    # repairs a missing or contradicting count from the list (num_of_loan <- type_of_loan).
    item_counts: Mapping[str, str] = field(default_factory=dict)
    # Where the data come from: said once, on the product chooser and the model report,
    # never on an officer's form.
    provenance: str = ""
    # ISO 4217 code or symbol of the fields whose unit is "money"; "" for none.
    currency: str = ""
    groups: tuple[Group, ...] = ()
    # The classes that count as bad outcomes (default: the worst class).
    bad_classes: tuple[str, ...] = ()
    # Defaults of the decision policy; empty: the cost-minimising policy found at training.
    policy: Mapping[str, float] = field(default_factory=dict)
    # Random Forest parameters used without a search (see ml.pipeline.forest_params_for).
    forest: Mapping[str, Any] = field(default_factory=dict)
    # The bars the report checks on the test split (see ml.train.quality_summary).
    quality_bars: Mapping[str, float] = field(default_factory=dict)
    # Derived-feature recipe documents (ml.recipes), as declared.
    derived: tuple[Mapping[str, Any], ...] = ()
    # How seeded demo data are drawn (ml.synthetic); None: synthetic data are refused.
    synthetic: Mapping[str, Any] | None = None
    format: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_labels", MappingProxyType(dict(self.class_labels)))
        object.__setattr__(self, "policy", MappingProxyType(dict(self.policy)))
        object.__setattr__(self, "forest", MappingProxyType(dict(self.forest)))
        object.__setattr__(self, "quality_bars", MappingProxyType(dict(self.quality_bars)))
        if not self.bad_classes:
            object.__setattr__(self, "bad_classes", (self.classes[-1],))
        object.__setattr__(self, "target_aliases", MappingProxyType(dict(self.target_aliases)))
        object.__setattr__(self, "group_repairs", MappingProxyType(dict(self.group_repairs)))
        object.__setattr__(self, "item_counts", MappingProxyType(dict(self.item_counts)))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"Scorecard {self.key!r} declares a field twice.")
        size = len(self.classes)
        if len(self.cost_matrix) != size or any(len(row) != size for row in self.cost_matrix):
            raise ValueError(f"Scorecard {self.key!r}: cost_matrix must be {size}x{size}.")
        unknown = (set(self.group_repairs) | set(self.item_counts)) - set(names)
        if unknown:
            raise ValueError(f"Scorecard {self.key!r}: repairs name unknown fields {unknown}.")

    def __hash__(self) -> int:
        return hash(self.key)

    def to_document(self) -> dict[str, Any]:
        """The declaration document (plain JSON) this scorecard is made from."""
        from ml.declaration import to_document

        return to_document(self)

    @property
    def id_columns(self) -> tuple[str, ...]:
        """Columns of the lender's files that are never inputs (ids, names, free text)."""
        return self.ignored_sources

    @cached_property
    def groups_by_name(self) -> dict[str, Group]:
        return {g.name: g for g in self.groups}

    def group_members(self, name: str) -> tuple[str, ...]:
        """The field names of group `name`, most recent period first."""
        members = [f for f in self.fields if f.group == name]
        return tuple(f.name for f in sorted(members, key=lambda f: f.period or 0))

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def model_fields(self) -> tuple[Field, ...]:
        """Fields the model may see: every non-protected field."""
        return tuple(f for f in self.fields if not f.protected)

    @property
    def model_field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.model_fields)

    @property
    def protected_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.protected)

    @property
    def required_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def best_class(self) -> str:
        return self.classes[0]

    @property
    def worst_class(self) -> str:
        return self.classes[-1]

    @property
    def training_file(self) -> str:
        """The data file (relative to the data directory) a model is trained on by default;
        "" for a scorecard that names none."""
        return self.data_files[0] if self.data_files else ""

    @property
    def cost_table(self) -> dict[str, dict[str, float]]:
        """cost_table[true_class][predicted_class], the cost matrix keyed by class value."""
        return {
            truth: dict(zip(self.classes, row, strict=True))
            for truth, row in zip(self.classes, self.cost_matrix, strict=True)
        }

    def cost(self, true_class: str, predicted_class: str) -> float:
        return self.cost_table[true_class][predicted_class]

    def field(self, name: str) -> Field:
        """The field called `name` (snake_case or original header); KeyError if none."""
        found = self.column_lookup.get(name) or self.column_lookup.get(_header_key(name))
        if found is None or found not in self.fields_by_name:
            raise KeyError(f"Scorecard {self.key!r} has no field {name!r}.")
        return self.fields_by_name[found]

    @cached_property
    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def column_lookup(self) -> dict[str, str]:
        """Accepted column/key spelling -> canonical column name (fields, target, group key).

        Keys are the exact names plus a normalised form (see `_header_key`), so "LIMIT_BAL",
        "limit_bal", "'class'" and "default.payment.next.month" all resolve.
        """
        pairs: list[tuple[str, str]] = [(f.source, f.name) for f in self.fields]
        pairs += [(f.name, f.name) for f in self.fields]
        pairs += [(self.target_source, self.target), (self.target, self.target)]
        if self.grouping_key:
            pairs += [(self.grouping_source or self.grouping_key, self.grouping_key)]
            pairs += [(self.grouping_key, self.grouping_key)]
        lookup: dict[str, str] = {}
        for spelling, name in pairs:
            lookup.setdefault(spelling, name)
            lookup.setdefault(_header_key(spelling), name)
        return lookup

    def canonical_column(self, header: str) -> str | None:
        """Canonical name of a column header, or None when the scorecard does not know it."""
        return self.column_lookup.get(header) or self.column_lookup.get(_header_key(header))

    def class_index(self, value: str) -> int:
        return self.classes.index(value)

    def coerce_target(self, raw: Any) -> str | None:
        """Class value of a raw target cell ("1", 1, "good", "'good'"), None if invalid."""
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        token = normalize_token(raw).strip("'\"")
        if token in self.target_aliases:
            return self.target_aliases[token]
        for value in self.classes:
            if token == value.lower():
                return value
        return None


def _header_key(header: str) -> str:
    return snake_case(header)


@dataclass
class ValidationResult:
    """Coerced values of every field (missing -> None) and error messages by field name.

    A key of the input that names no field of the scorecard is an error under its own name
    (`UNKNOWN_FIELD_MESSAGE`) and is listed in `unknown`."""

    values: dict[str, Any]
    errors: dict[str, list[str]]
    unknown: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _resolve(scorecard: Scorecard, key: Any) -> str | None:
    """The field a key of the input names (its name or its column header), None if none."""
    name = scorecard.column_lookup.get(key)
    if name is None:
        name = scorecard.column_lookup.get(_header_key(str(key)))
    return name if name in scorecard.fields_by_name else None


def resolve_keys(scorecard: Scorecard, data: Mapping[str, Any]) -> dict[str, Any]:
    """Raw values keyed by field name; snake_case keys win over original headers."""
    resolved: dict[str, Any] = {}
    for key, raw in data.items():
        name = _resolve(scorecard, key)
        if name is None:
            continue
        if key == name or name not in resolved:
            resolved[name] = raw
    return resolved


def unknown_keys(scorecard: Scorecard, data: Mapping[str, Any]) -> list[str]:
    """Keys of the input that name no field of the scorecard (a typo, a field of another)."""
    return [str(key) for key in data if _resolve(scorecard, key) is None]


def validate_inputs(
    scorecard: Scorecard, data: Mapping[str, Any], *, partial: bool = False
) -> ValidationResult:
    """Coerce and check one applicant's inputs against the scorecard; the single validator.

    Every entry point (portal forms, the API, bulk rows through `validate_frame`'s use of
    `coerce_value`) goes through the same coercers, so one rule holds everywhere: numbers in
    the digits 0-9 and finite, JSON true/false only for yes/no fields, choices as text.
    Unknown keys are refused: a misspelt input silently dropped would be scored as missing.
    A value out of range or not one of the choices is refused here, whatever the field's
    `on_invalid` says: one applicant's inputs come from a person who can correct them.
    """
    raw_values = resolve_keys(scorecard, data)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field_ in scorecard.fields:
        value, error, _ = _COERCERS[field_.kind](field_, raw_values.get(field_.name))
        values[field_.name] = value
        if error is not None:
            errors[field_.name] = [error]
        elif value is None and field_.required and not partial:
            errors[field_.name] = [REQUIRED_MESSAGE]
    unknown = unknown_keys(scorecard, data)
    for key in unknown:
        errors[key] = [UNKNOWN_FIELD_MESSAGE]
    return ValidationResult(values=values, errors=errors, unknown=unknown)


def validate_frame(scorecard: Scorecard, df: Any) -> tuple[Any, dict[int, dict[str, list[str]]]]:
    """Vectorised validate_inputs for a DataFrame of raw rows, except that an implausible
    value of an `on_invalid="missing"` field is set missing, not an error; see
    ml.cleaning.validate_frame."""
    from ml.cleaning import validate_frame as _validate_frame

    return _validate_frame(scorecard, df)


def choices_from(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Choices whose label is the value itself."""
    return tuple((value, value) for value in values)
