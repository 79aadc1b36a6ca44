"""Scorecard declarations: a JSON document in, a validated `ml.schema.Scorecard` out.

A scorecard is data (docs/declarations.md), written by a lender's credit manager or
uploaded, so the document is read as hostile: every rule is checked, every error is
collected with the path it concerns and the rule it breaks
(`fields[3].max: must be greater than min (got 10 < 20)`), and sizes are bounded so a
document cannot exhaust memory or time. `to_document` is the inverse:
`load_declaration(to_document(sc))` is the same scorecard.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from ml import recipes as recipe_rules
from ml.schema import (
    CATEGORICAL_KINDS,
    DISPLAY_YEARS_MONTHS,
    NUMBER_KINDS,
    ON_INVALID_CHOICES,
    ON_INVALID_MISSING,
    PERIOD_UNITS,
    Field,
    FieldKind,
    Group,
    Scorecard,
    member_label,
    snake_case,
)

FORMAT = 1
MAX_FIELDS = 300
MAX_GROUPS = 100
MAX_DERIVED = 100
MAX_CLASSES = 20
MAX_CHOICES = 1000
MAX_LIST = 1000  # aliases, placeholders, id columns, value labels...
MAX_NAME = 64
MAX_LABEL = 200
MAX_TEXT = 2000  # help, description, provenance, rationale
MAX_TOKEN = 200  # sources, choice values, aliases
MAX_PERIOD = 600

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
INT_TOKEN = re.compile(r"^-?[0-9]{1,9}$")

TOP_KEYS = (
    "format",
    "key",
    "label",
    "description",
    "product",
    "provenance",
    "currency",
    "fields",
    "groups",
    "target",
    "id_columns",
    "grouping",
    "costs",
    "policy",
    "forest",
    "quality_bars",
    "derived",
    "synthetic",
    "data_files",
)
FIELD_KEYS = (
    "name",
    "source",
    "kind",
    "label",
    "help",
    "unit",
    "min",
    "max",
    "choices",
    "required",
    "protected",
    "never_reason",
    "on_invalid",
    "group",
    "period",
    "aliases",
    "placeholders",
    "undocumented",
    "value_labels",
    "phrase",
    "display",
)
GROUP_KEYS = ("name", "label", "period_unit")
TARGET_KEYS = ("name", "source", "classes", "bad", "aliases")
GROUPING_KEYS = ("key", "source", "period_source", "repairs", "item_counts")
REPAIRS = ("constant", "nearest", "months_elapsed")
PHRASE_PLACEHOLDERS = frozenset({"value", "choice", "label", "period"})

# Policy defaults: name -> (low, high) bounds.
POLICY_KEYS = {
    "approve_below": (0.0, 1.0),
    "decline_at_or_above": (0.0, 1.0),
    "refer_cost": (0.0, 1e6),
    "max_refer_rate": (0.0, 1.0),
}
QUALITY_BARS = {
    "roc_auc": (0.0, 1.0),
    "macro_f1": (0.0, 1.0),
    "precision_at_recall_0.68": (0.0, 1.0),
    "expected_cost_max": (0.0, 1e6),
}
FOREST_CHOICES = {
    "criterion": ("gini", "entropy", "log_loss"),
    "class_weight": (None, "balanced", "balanced_subsample"),
}


class DeclarationError(ValueError):
    """A declaration broke one or more rules; `errors` lists each as "path: rule"."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        shown = "; ".join(self.errors[:10])
        more = f" (and {len(self.errors) - 10} more)" if len(self.errors) > 10 else ""
        super().__init__(f"Invalid scorecard declaration: {shown}{more}")


# --- small checks ------------------------------------------------------------------------


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


class _Errors:
    """The errors of one document, in the order found."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, rule: str) -> None:
        self.items.append(f"{path}: {rule}")

    def object(self, value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
        """`value` as an object whose unknown keys are reported; None (and an error) when
        it is not an object."""
        if not isinstance(value, Mapping):
            self.add(path or "document", f"must be an object (got {type(value).__name__})")
            return None
        for key in value:
            if key not in keys:
                self.add(f"{path}.{key}" if path else str(key), "unknown key")
        return dict(value)

    def text(
        self,
        value: Any,
        path: str,
        *,
        limit: int = MAX_LABEL,
        required: bool = False,
        pattern: re.Pattern | None = None,
        rule: str = "",
    ) -> str:
        if value is None and not required:
            return ""
        if value is None:
            self.add(path, "is required")
            return ""
        if not isinstance(value, str):
            self.add(path, f"must be text (got {_echo(value)})")
            return ""
        if required and not value.strip():
            self.add(path, "is required")
        elif len(value) > limit:
            self.add(path, f"must be at most {limit} characters (got {len(value)})")
        elif pattern is not None and not pattern.match(value):
            self.add(path, f"{rule} (got {_echo(value)})")
        return value

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(path, f"must be true or false (got {_echo(value)})")
            return default
        return value

    def number(self, value: Any, path: str, low: float, high: float) -> float | None:
        if value is None:
            return None
        if not _is_number(value):
            self.add(path, f"must be a number (got {_echo(value)})")
            return None
        if not low <= value <= high:
            self.add(path, f"must be between {_plain(low)} and {_plain(high)} (got {_echo(value)})")
            return None
        return value

    def items_list(self, value: Any, path: str, limit: int = MAX_LIST) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"must be a list (got {type(value).__name__})")
            return []
        if len(value) > limit:
            self.add(path, f"must hold at most {limit} items (got {len(value)})")
            return []
        return value

    def texts(self, value: Any, path: str, limit: int = MAX_TOKEN) -> tuple[str, ...]:
        out = []
        for index, item in enumerate(self.items_list(value, path)):
            if isinstance(item, str) and item and len(item) <= limit:
                out.append(item)
            else:
                self.add(
                    f"{path}[{index}]", f"must be a non-empty text of at most {limit} characters"
                )
        return tuple(out)

    def mapping(self, value: Any, path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, f"must be an object (got {type(value).__name__})")
            return {}
        if len(value) > MAX_LIST:
            self.add(path, f"must hold at most {MAX_LIST} entries (got {len(value)})")
            return {}
        return dict(value)


def _phrase_error(phrase: str) -> str | None:
    """Why a phrase cannot be formatted safely, or None: only the known placeholders, with
    no format spec, conversion or attribute access ("{value:>999999999}" would be a
    gigabyte)."""
    try:
        parts = list(string.Formatter().parse(phrase))
    except ValueError as error:
        return f"is not a valid phrase ({error})"
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PHRASE_PLACEHOLDERS or spec or conversion:
            allowed = ", ".join("{" + p + "}" for p in sorted(PHRASE_PLACEHOLDERS))
            return f"may only use the placeholders {allowed} (got {_echo('{' + name + '}')})"
    return None


# --- the document ------------------------------------------------------------------------


def load_declaration(document: Any) -> Scorecard:
    """The scorecard a declaration document describes; `DeclarationError` listing every
    broken rule otherwise (nothing is built from a document with any error)."""
    errors = _Errors()
    doc = errors.object(document, "", TOP_KEYS)
    if doc is None:
        raise DeclarationError(errors.items)
    for key in ("format", "key", "label", "fields", "target"):
        if key not in doc:
            errors.add(key, "is required")
    if "format" in doc and doc["format"] != FORMAT:
        errors.add("format", f"must be {FORMAT} (got {_echo(doc['format'])})")
    key = errors.text(
        doc.get("key"),
        "key",
        limit=64,
        required="key" in doc,
        pattern=KEY_PATTERN,
        rule="must be 2-64 lower-case letters, digits or _, starting with a letter",
    )
    label = errors.text(doc.get("label"), "label", required="label" in doc)
    description = errors.text(doc.get("description"), "description", limit=MAX_TEXT)
    product = errors.text(doc.get("product"), "product")
    provenance = errors.text(doc.get("provenance"), "provenance", limit=MAX_TEXT)
    currency = errors.text(doc.get("currency"), "currency", limit=8)

    groups = _groups(doc.get("groups"), errors)
    fields = _fields(doc.get("fields"), groups, currency, errors)
    target = _target(doc.get("target"), fields, errors)
    classes = target.get("classes", ())
    cost_matrix, rationale = _costs(doc.get("costs"), classes, errors)
    grouping = _grouping(doc.get("grouping"), fields, errors)
    id_columns = errors.texts(doc.get("id_columns"), "id_columns")
    _check_names(fields, groups, target, grouping, errors)
    policy = _policy(doc.get("policy"), errors)
    forest = _forest(doc.get("forest"), errors)
    bars = _bars(doc.get("quality_bars"), errors)
    # Fields refused above are given the benefit of the doubt in recipes: one mistake,
    # one error.
    refused = _raw_names(doc.get("fields")) - set(fields)
    derived = _derived(doc.get("derived"), fields, groups, refused, errors)
    synthetic = _synthetic(doc.get("synthetic"), fields, classes, errors)
    data_files = _data_files(doc.get("data_files"), errors)
    if errors.items:
        raise DeclarationError(errors.items)

    return Scorecard(
        key=key,
        label=label,
        description=description,
        fields=tuple(fields.values()),
        target=target["name"],
        target_source=target["source"],
        classes=classes,
        class_labels=target["labels"],
        target_aliases=target["aliases"],
        cost_matrix=cost_matrix,
        cost_rationale=rationale,
        product=product or label.lower(),
        data_files=data_files,
        grouping_key=grouping.get("key"),
        grouping_source=grouping.get("source"),
        ignored_sources=id_columns,
        group_repairs=grouping.get("repairs", {}),
        period_source=grouping.get("period_source"),
        item_counts=grouping.get("item_counts", {}),
        provenance=provenance,
        currency=currency,
        groups=tuple(groups.values()),
        bad_classes=target["bad"],
        policy=policy,
        forest=forest,
        quality_bars=bars,
        derived=derived,
        synthetic=synthetic,
        format=FORMAT,
    )


def _groups(value: Any, errors: _Errors) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for index, item in enumerate(errors.items_list(value, "groups", MAX_GROUPS)):
        path = f"groups[{index}]"
        data = errors.object(item, path, GROUP_KEYS)
        if data is None:
            continue
        name = errors.text(
            data.get("name"),
            f"{path}.name",
            limit=MAX_NAME,
            required=True,
            pattern=NAME_PATTERN,
            rule="must be a snake_case identifier",
        )
        label = errors.text(data.get("label"), f"{path}.label", required=True)
        unit = data.get("period_unit", "month")
        if unit not in PERIOD_UNITS:
            errors.add(
                f"{path}.period_unit",
                f"must be one of {', '.join(PERIOD_UNITS)} (got {_echo(unit)})",
            )
            unit = "month"
        if name in groups:
            errors.add(f"{path}.name", f"{name!r} is declared twice")
        elif name:
            groups[name] = Group(name=name, label=label, period_unit=unit)
    return groups


def _fields(
    value: Any, groups: dict[str, Group], currency: str, errors: _Errors
) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    items = errors.items_list(value, "fields", MAX_FIELDS)
    if value is not None and isinstance(value, list) and not value:
        errors.add("fields", "must declare at least one field")
    sources: dict[str, str] = {}
    periods: dict[tuple[str, int], str] = {}
    for index, item in enumerate(items):
        path = f"fields[{index}]"
        built = _field(item, path, groups, currency, errors)
        if built is None:
            continue
        if built.name in fields:
            errors.add(f"{path}.name", f"{built.name!r} is declared twice")
            continue
        source_key = snake_case(built.source)
        if source_key in sources:
            errors.add(
                f"{path}.source",
                f"{built.source!r} is already the source of field {sources[source_key]!r}",
            )
            continue
        if built.group is not None:
            slot = (built.group, built.period)
            if slot in periods:
                errors.add(
                    f"{path}.period",
                    f"period {built.period} of group {built.group!r} is already "
                    f"field {periods[slot]!r}",
                )
                continue
            periods[slot] = built.name
        sources[source_key] = built.name
        fields[built.name] = built
    # A column is found by its name or its source: one field's source may not be another
    # field's name, or "duration" could read the column of another field.
    for name in fields:
        owner = sources.get(snake_case(name))
        if owner is not None and owner != name:
            errors.add(
                f"fields.{owner}.source",
                f"{fields[owner].source!r} is the name of another field ({name!r})",
            )
    for name in groups:
        if not any(f.group == name for f in fields.values()):
            errors.add(f"groups.{name}", "has no member field")
    return fields


def _field(
    item: Any, path: str, groups: dict[str, Group], currency: str, errors: _Errors
) -> Field | None:
    data = errors.object(item, path, FIELD_KEYS)
    if data is None:
        return None
    before = len(errors.items)
    name = errors.text(
        data.get("name"),
        f"{path}.name",
        limit=MAX_NAME,
        required=True,
        pattern=NAME_PATTERN,
        rule="must be a snake_case identifier (lower-case letters, digits and _)",
    )
    if name and "__" in name:
        errors.add(f"{path}.name", f"must not hold a double underscore (got {name!r})")
    source = errors.text(data.get("source"), f"{path}.source", limit=MAX_TOKEN) or name
    if "source" in data and not (isinstance(data["source"], str) and data["source"].strip()):
        errors.add(f"{path}.source", "must not be empty")
    kind_value = data.get("kind")
    try:
        kind = FieldKind(kind_value)
    except ValueError:
        kinds = ", ".join(k.value for k in FieldKind)
        errors.add(f"{path}.kind", f"must be one of {kinds} (got {_echo(kind_value)})")
        kind = None

    group_name = data.get("group")
    group = None
    period = None
    if group_name is not None:
        if not isinstance(group_name, str) or group_name not in groups:
            errors.add(f"{path}.group", f"names no declared group (got {_echo(group_name)})")
        else:
            group = groups[group_name]
        raw_period = data.get("period")
        if isinstance(raw_period, bool) or not isinstance(raw_period, int):
            errors.add(
                f"{path}.period",
                f"a group member needs a whole period of 1 or more (got {_echo(raw_period)})",
            )
        elif not 1 <= raw_period <= MAX_PERIOD:
            errors.add(f"{path}.period", f"must be between 1 and {MAX_PERIOD} (got {raw_period})")
        else:
            period = raw_period
    elif data.get("period") is not None:
        errors.add(f"{path}.period", "only a group member has a period")

    label_value = data.get("label")
    if group is not None and not label_value:
        label = member_label(group.label, period or 1, group.period_unit)
    else:
        label = errors.text(label_value, f"{path}.label", required=True)
    help_text = errors.text(data.get("help"), f"{path}.help", limit=MAX_TEXT)
    unit = errors.text(data.get("unit"), f"{path}.unit", limit=40)
    phrase = errors.text(data.get("phrase"), f"{path}.phrase", limit=MAX_LABEL)
    if phrase and (problem := _phrase_error(phrase)):
        errors.add(f"{path}.phrase", problem)
    display = data.get("display") or ""
    if display not in ("", DISPLAY_YEARS_MONTHS):
        errors.add(
            f"{path}.display", f"must be empty or {DISPLAY_YEARS_MONTHS!r} (got {_echo(display)})"
        )
    on_invalid = data.get("on_invalid", ON_INVALID_MISSING)
    if on_invalid not in ON_INVALID_CHOICES:
        errors.add(f"{path}.on_invalid", f"must be missing or refuse (got {_echo(on_invalid)})")
    required = errors.boolean(data.get("required"), f"{path}.required", True)
    protected = errors.boolean(data.get("protected"), f"{path}.protected", False)
    never_reason = errors.boolean(data.get("never_reason"), f"{path}.never_reason", False)
    placeholders = errors.texts(data.get("placeholders"), f"{path}.placeholders")
    undocumented = errors.texts(data.get("undocumented"), f"{path}.undocumented")

    numeric = kind in NUMBER_KINDS
    categorical = kind in CATEGORICAL_KINDS
    low = high = None
    for key in ("min", "max"):
        if data.get(key) is None:
            continue
        if not numeric:
            errors.add(f"{path}.{key}", "only numeric and integer fields have a range")
        elif not _is_number(data[key]):
            errors.add(f"{path}.{key}", f"must be a number (got {_echo(data[key])})")
        elif key == "min":
            low = data[key]
        else:
            high = data[key]
    if low is not None and high is not None and not high > low:
        sign = "<" if high < low else "="
        errors.add(
            f"{path}.max", f"must be greater than min (got {_plain(high)} {sign} {_plain(low)})"
        )
    if display and not numeric:
        errors.add(f"{path}.display", "only numeric and integer fields have a display")

    choices = _choices(data.get("choices"), f"{path}.choices", categorical, kind, errors)
    choice_values = {value for value, _ in choices}
    aliases = _aliases(data.get("aliases"), f"{path}.aliases", kind, choice_values, errors)
    value_labels: dict[int, str] = {}
    raw_labels = errors.mapping(data.get("value_labels"), f"{path}.value_labels")
    if raw_labels and not numeric:
        errors.add(f"{path}.value_labels", "only numeric and integer fields have value labels")
    elif raw_labels:
        for token, text in raw_labels.items():
            item_path = f"{path}.value_labels.{token}"
            if not isinstance(token, str) or not INT_TOKEN.match(token):
                errors.add(item_path, "keys must be whole numbers written as text")
            elif not isinstance(text, str) or not text.strip() or len(text) > MAX_LABEL:
                errors.add(item_path, f"must be a non-empty text of at most {MAX_LABEL} characters")
            else:
                value_labels[int(token)] = text
    if len(errors.items) > before or kind is None:
        return None
    return Field(
        name=name,
        kind=kind,
        label=label,
        help_text=help_text,
        unit=unit,
        min_value=low,
        max_value=high,
        choices=choices,
        value_labels=value_labels,
        protected=protected,
        required=required,
        source=source,
        aliases=aliases,
        placeholders=placeholders,
        undocumented=undocumented,
        phrase=phrase,
        display=display,
        never_reason=never_reason,
        on_invalid=on_invalid,
        group=group.name if group else None,
        period=period,
        group_label=group.label if group else "",
        period_unit=group.period_unit if group else "month",
        currency=currency,
    )


def _choices(
    value: Any, path: str, categorical: bool, kind: FieldKind | None, errors: _Errors
) -> tuple[tuple[str, str], ...]:
    if value is None or value == []:
        if categorical:
            errors.add(path, f"a {kind.value} field needs choices")
        return ()
    if not categorical:
        errors.add(path, "only categorical and multi_categorical fields have choices")
        return ()
    choices: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(errors.items_list(value, path, MAX_CHOICES)):
        item_path = f"{path}[{index}]"
        data = errors.object(item, item_path, ("value", "label"))
        if data is None:
            continue
        choice = errors.text(
            data.get("value"), f"{item_path}.value", limit=MAX_TOKEN, required=True
        )
        label = errors.text(data.get("label"), f"{item_path}.label") or choice
        if choice in seen:
            errors.add(f"{item_path}.value", f"{choice!r} is declared twice")
        elif choice:
            seen.add(choice)
            choices.append((choice, label))
    return tuple(choices)


def _aliases(
    value: Any, path: str, kind: FieldKind | None, choices: set[str], errors: _Errors
) -> dict[str, Any]:
    raw = errors.mapping(value, path)
    if not raw:
        return {}
    if kind not in (*CATEGORICAL_KINDS, FieldKind.BOOLEAN):
        errors.add(path, "only categorical and yes/no fields have aliases")
        return {}
    aliases: dict[str, Any] = {}
    for token, target in raw.items():
        item_path = f"{path}.{token}"
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            errors.add(item_path, f"must be a non-empty text of at most {MAX_TOKEN} characters")
        elif kind == FieldKind.BOOLEAN and not isinstance(target, bool):
            errors.add(item_path, f"must be true or false (got {_echo(target)})")
        elif kind != FieldKind.BOOLEAN and (not isinstance(target, str) or target not in choices):
            errors.add(item_path, f"must be one of the field's choice values (got {_echo(target)})")
        else:
            aliases[token] = target
    return aliases


def _target(value: Any, fields: dict[str, Field], errors: _Errors) -> dict[str, Any]:
    data = errors.object(value, "target", TARGET_KEYS)
    if data is None:
        return {}
    name = errors.text(
        data.get("name"),
        "target.name",
        limit=MAX_NAME,
        required=True,
        pattern=NAME_PATTERN,
        rule="must be a snake_case identifier",
    )
    source = errors.text(data.get("source"), "target.source", limit=MAX_TOKEN) or name
    classes: list[str] = []
    labels: dict[str, str] = {}
    raw_classes = errors.items_list(data.get("classes"), "target.classes", MAX_CLASSES)
    for index, item in enumerate(raw_classes):
        path = f"target.classes[{index}]"
        entry = errors.object(item, path, ("value", "label"))
        if entry is None:
            continue
        class_value = errors.text(
            entry.get("value"), f"{path}.value", limit=MAX_NAME, required=True
        )
        if any(class_value.lower() == c.lower() for c in classes):
            errors.add(f"{path}.value", f"{class_value!r} is declared twice")
        elif class_value:
            classes.append(class_value)
            labels[class_value] = errors.text(entry.get("label"), f"{path}.label") or class_value
    if isinstance(data.get("classes"), list) and len(raw_classes) < 2:
        errors.add("target.classes", f"must declare at least two classes (got {len(raw_classes)})")
    elif "classes" not in data:
        errors.add("target.classes", "is required")
    bad = errors.texts(data.get("bad"), "target.bad", MAX_NAME)
    for index, class_value in enumerate(bad):
        if class_value not in classes:
            errors.add(
                f"target.bad[{index}]", f"names no declared class (got {_echo(class_value)})"
            )
    if bad and len(set(bad)) >= len(classes) >= 2:
        errors.add("target.bad", "at least one class must count as good")
    if len(set(bad)) != len(bad):
        errors.add("target.bad", "lists a class twice")
    aliases: dict[str, str] = {}
    for token, class_value in errors.mapping(data.get("aliases"), "target.aliases").items():
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            errors.add(f"target.aliases.{token}", "must be a non-empty text")
        elif not isinstance(class_value, str) or class_value not in classes:
            errors.add(
                f"target.aliases.{token}", f"names no declared class (got {_echo(class_value)})"
            )
        else:
            aliases[token.strip().lower()] = class_value
    if name in fields:
        errors.add("target.name", f"{name!r} is also a field")
    if source and snake_case(source) in {snake_case(f.source) for f in fields.values()}:
        errors.add("target.source", f"{source!r} is also the source of a field")
    if source and snake_case(source) in fields:
        errors.add("target.source", f"{source!r} is the name of a field")
    if isinstance(name, str) and name in {snake_case(f.source) for f in fields.values()}:
        errors.add("target.name", f"{name!r} is the source of a field")
    return {
        "name": name,
        "source": source,
        "classes": tuple(classes),
        "labels": labels,
        "bad": tuple(c for c in classes if c in bad),
        "aliases": aliases,
    }


def _costs(value: Any, classes: tuple[str, ...], errors: _Errors):
    size = len(classes)
    if value is None:
        matrix = tuple(tuple(0.0 if i == j else 1.0 for j in range(size)) for i in range(size))
        return matrix, ""
    data = errors.object(value, "costs", ("matrix", "rationale")) or {}
    rationale = errors.text(data.get("rationale"), "costs.rationale", limit=MAX_TEXT)
    rows = data.get("matrix")
    if not isinstance(rows, list) or len(rows) != size or size == 0:
        errors.add("costs.matrix", f"must be {size}x{size}, one row and column per class")
        return (), rationale
    matrix = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != size:
            errors.add(f"costs.matrix[{i}]", f"must hold {size} costs, one per class")
            continue
        out_row = []
        for j, cost in enumerate(row):
            path = f"costs.matrix[{i}][{j}]"
            if not _is_number(cost):
                errors.add(path, f"must be a number (got {_echo(cost)})")
            elif i == j and cost != 0:
                errors.add(
                    path,
                    f"the diagonal must be 0: a right prediction costs nothing (got {_echo(cost)})",
                )
            elif cost < 0 or cost > 1e9:
                errors.add(path, f"must be between 0 and 1000000000 (got {_echo(cost)})")
            else:
                out_row.append(float(cost))
        matrix.append(tuple(out_row))
    return tuple(matrix), rationale


def _grouping(value: Any, fields: dict[str, Field], errors: _Errors) -> dict[str, Any]:
    if value is None:
        return {}
    data = errors.object(value, "grouping", GROUPING_KEYS)
    if data is None:
        return {}
    key = errors.text(
        data.get("key"),
        "grouping.key",
        limit=MAX_NAME,
        required=True,
        pattern=NAME_PATTERN,
        rule="must be a snake_case identifier",
    )
    source = errors.text(data.get("source"), "grouping.source", limit=MAX_TOKEN) or key
    period_source = errors.text(
        data.get("period_source"), "grouping.period_source", limit=MAX_TOKEN
    )
    repairs: dict[str, str] = {}
    for name, how in errors.mapping(data.get("repairs"), "grouping.repairs").items():
        if name not in fields:
            errors.add(f"grouping.repairs.{name}", "names no declared field")
        elif how not in REPAIRS:
            errors.add(
                f"grouping.repairs.{name}",
                f"must be one of {', '.join(REPAIRS)} (got {_echo(how)})",
            )
        else:
            repairs[name] = how
    counts: dict[str, str] = {}
    for name, items in errors.mapping(data.get("item_counts"), "grouping.item_counts").items():
        path = f"grouping.item_counts.{name}"
        if name not in fields or fields[name].kind not in NUMBER_KINDS:
            errors.add(path, "must name a numeric or integer field")
        elif not isinstance(items, str) or items not in fields:
            errors.add(path, f"names no declared field (got {_echo(items)})")
        elif fields[items].kind != FieldKind.MULTI_CATEGORICAL:
            errors.add(path, f"{items!r} is not a multi_categorical field")
        else:
            counts[name] = items
    if key in fields:
        errors.add("grouping.key", f"{key!r} is also a field")
    if source and snake_case(source) in {snake_case(f.source) for f in fields.values()}:
        errors.add("grouping.source", f"{source!r} is also the source of a field")
    return {
        "key": key or None,
        "source": source or None,
        "period_source": period_source or None,
        "repairs": repairs,
        "item_counts": counts,
    }


def _check_names(fields, groups, target, grouping, errors: _Errors) -> None:
    for name in groups:
        if name in fields:
            errors.add(f"groups.{name}", "a group and a field share this name")
    if grouping.get("key") and grouping["key"] == target.get("name"):
        errors.add("grouping.key", "must differ from the target's name")


def _policy(value: Any, errors: _Errors) -> dict[str, float]:
    data = (errors.object(value, "policy", tuple(POLICY_KEYS)) or {}) if value is not None else {}
    policy = {}
    for key, (low, high) in POLICY_KEYS.items():
        number = errors.number(data.get(key), f"policy.{key}", low, high)
        if number is not None:
            policy[key] = number
    approve, decline = policy.get("approve_below"), policy.get("decline_at_or_above")
    if approve is not None and decline is not None and approve > decline:
        errors.add(
            "policy.decline_at_or_above",
            f"must not be below approve_below (got {_plain(decline)} < {_plain(approve)})",
        )
    return policy


def _forest(value: Any, errors: _Errors) -> dict[str, Any]:
    keys = ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "max_samples")
    keys += tuple(FOREST_CHOICES)
    data = (errors.object(value, "forest", keys) or {}) if value is not None else {}
    forest: dict[str, Any] = {}
    checks: dict[str, Callable[[Any], bool]] = {
        "n_estimators": lambda v: _whole(v) and 10 <= v <= 2000,
        "max_depth": lambda v: v is None or (_whole(v) and 1 <= v <= 100),
        "min_samples_leaf": lambda v: (
            (_whole(v) and 1 <= v <= 100_000) or (_fraction(v) and v <= 0.5)
        ),
        "max_features": lambda v: (
            v in (None, "sqrt", "log2") or _fraction(v) or (_whole(v) and 1 <= v <= 10_000)
        ),
        "max_samples": lambda v: v is None or _fraction(v) or (_whole(v) and v >= 1),
    }
    rules = {
        "n_estimators": "a whole number from 10 to 2000",
        "max_depth": "null or a whole number from 1 to 100",
        "min_samples_leaf": "a whole number of 1 or more, or a fraction up to 0.5",
        "max_features": '"sqrt", "log2", null, a fraction in (0, 1] or a whole number',
        "max_samples": "null, a fraction in (0, 1] or a whole number",
    }
    for key in keys:
        if key not in data:
            continue
        candidate = data[key]
        if key in FOREST_CHOICES:
            ok = candidate in FOREST_CHOICES[key] and not isinstance(candidate, bool)
            rule = "one of " + ", ".join("null" if c is None else c for c in FOREST_CHOICES[key])
        else:
            ok = not isinstance(candidate, bool | dict | list) and checks[key](candidate)
            rule = rules[key]
        if ok:
            forest[key] = candidate
        else:
            errors.add(f"forest.{key}", f"must be {rule} (got {_echo(candidate)})")
    return forest


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fraction(value: Any) -> bool:
    return isinstance(value, float) and 0.0 < value <= 1.0


def _bars(value: Any, errors: _Errors) -> dict[str, float]:
    data = (
        (errors.object(value, "quality_bars", tuple(QUALITY_BARS)) or {})
        if value is not None
        else {}
    )
    bars = {}
    for key, (low, high) in QUALITY_BARS.items():
        number = errors.number(data.get(key), f"quality_bars.{key}", low, high)
        if number is not None:
            bars[key] = number
    return bars


def _raw_names(value: Any) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {
        item["name"]
        for item in value[:MAX_FIELDS]
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    }


def _derived(
    value, fields: dict[str, Field], groups: dict[str, Group], refused: set[str], errors: _Errors
):
    members = {
        name: tuple(
            f.name for f in sorted(fields.values(), key=lambda f: f.period or 0) if f.group == name
        )
        for name in groups
    }
    numeric = {f.name for f in fields.values() if f.kind in (*NUMBER_KINDS, FieldKind.BOOLEAN)}
    numeric |= refused
    protected = {f.name for f in fields.values() if f.protected}
    derived = []
    names: set[str] = set()
    for index, recipe in enumerate(errors.items_list(value, "derived", MAX_DERIVED)):
        path = f"derived[{index}]"
        problems = recipe_rules.recipe_errors(
            recipe,
            path,
            numeric=numeric,
            groups=members,
            protected=protected,
            fields=set(fields) | refused,
        )
        errors.items.extend(problems)
        name = recipe.get("name") if isinstance(recipe, Mapping) else None
        if isinstance(name, str):
            if name in fields or name in groups:
                errors.add(f"{path}.name", f"{name!r} is already a field or group")
            elif name in names:
                errors.add(f"{path}.name", f"{name!r} is declared twice")
            elif "__" in name:
                errors.add(f"{path}.name", f"must not hold a double underscore (got {name!r})")
            names.add(name)
        if not problems:
            derived.append(_json_copy(recipe))
    return tuple(derived)


def _synthetic(value, fields: dict[str, Field], classes: tuple[str, ...], errors: _Errors):
    if value is None:
        return None
    keys = ("class_shares", "numeric_drivers", "category_drivers")
    data = errors.object(value, "synthetic", keys) or {}
    shares = []
    for index, share in enumerate(
        errors.items_list(data.get("class_shares"), "synthetic.class_shares", MAX_CLASSES)
    ):
        number = errors.number(share, f"synthetic.class_shares[{index}]", 0.0, 1.0)
        if number is not None:
            if number <= 0:
                errors.add(f"synthetic.class_shares[{index}]", "must be above 0")
            shares.append(float(number))
    if "class_shares" not in data:
        errors.add("synthetic.class_shares", "is required")
    elif len(shares) != len(classes):
        errors.add("synthetic.class_shares", f"must hold one share per class ({len(classes)})")
    elif abs(sum(shares) - 1.0) > 1e-6:
        errors.add("synthetic.class_shares", f"must add up to 1 (got {sum(shares):.6g})")
    numeric_drivers = []
    for index, item in enumerate(
        errors.items_list(data.get("numeric_drivers"), "synthetic.numeric_drivers", MAX_FIELDS)
    ):
        path = f"synthetic.numeric_drivers[{index}]"
        if not (isinstance(item, list) and len(item) == 2 and _is_number(item[1])):
            errors.add(path, "must be [field, weight]")
        elif (
            not isinstance(item[0], str)
            or fields.get(item[0]) is None
            or (fields[item[0]].kind not in NUMBER_KINDS)
        ):
            errors.add(path, f"must name a numeric or integer field (got {_echo(item[0])})")
        else:
            numeric_drivers.append([item[0], float(item[1])])
    category_drivers = []
    for index, item in enumerate(
        errors.items_list(data.get("category_drivers"), "synthetic.category_drivers", MAX_FIELDS)
    ):
        path = f"synthetic.category_drivers[{index}]"
        if not (isinstance(item, list) and len(item) == 3 and _is_number(item[2])):
            errors.add(path, "must be [field, value, weight]")
        elif (
            not isinstance(item[0], str)
            or fields.get(item[0]) is None
            or (fields[item[0]].kind != FieldKind.CATEGORICAL)
        ):
            errors.add(path, f"must name a categorical field (got {_echo(item[0])})")
        elif not isinstance(item[1], str) or item[1] not in fields[item[0]].choice_values:
            errors.add(path, f"must name one of the field's choice values (got {_echo(item[1])})")
        else:
            category_drivers.append([item[0], item[1], float(item[2])])
    return {
        "class_shares": shares,
        "numeric_drivers": numeric_drivers,
        "category_drivers": category_drivers,
    }


def _data_files(value: Any, errors: _Errors) -> tuple[str, ...]:
    files = errors.texts(value, "data_files", 300)
    for index, path in enumerate(files):
        parts = path.replace("\\", "/").split("/")
        if path.startswith(("/", "\\")) or ":" in path or ".." in parts:
            errors.add(
                f"data_files[{index}]",
                f"must be a path inside the data directory (got {_echo(path)})",
            )
    return files


def _json_copy(value: Any) -> Any:
    """A deep copy as plain JSON types (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): _json_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(v) for v in value]
    return value


# --- back to a document ------------------------------------------------------------------


def _number_out(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if isinstance(value, int) else float(value)


def _field_document(field: Field) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": field.name}
    if field.source != field.name:
        doc["source"] = field.source
    doc["kind"] = field.kind.value
    derived_label = (
        member_label(field.group_label, field.period, field.period_unit)
        if field.group is not None and field.period is not None and field.group_label
        else None
    )
    if field.label != derived_label:
        doc["label"] = field.label
    optional = {
        "help": field.help_text,
        "unit": field.unit,
        "min": _number_out(field.min_value),
        "max": _number_out(field.max_value),
        "choices": [{"value": v, "label": label} for v, label in field.choices],
        "required": None if field.required else False,
        "protected": field.protected or None,
        "never_reason": field.never_reason or None,
        "on_invalid": None if field.on_invalid == ON_INVALID_MISSING else field.on_invalid,
        "group": field.group,
        "period": field.period,
        "aliases": dict(field.aliases),
        "placeholders": list(field.placeholders),
        "undocumented": list(field.undocumented),
        "value_labels": {str(k): v for k, v in field.value_labels.items()},
        "phrase": field.phrase,
        "display": field.display,
    }
    doc.update({k: v for k, v in optional.items() if v not in (None, "", [], {})})
    return doc


def to_document(scorecard: Scorecard) -> dict[str, Any]:
    """The declaration document of a scorecard: plain JSON, every top-level key present,
    field keys left out where they hold their default."""
    grouping = None
    if scorecard.grouping_key:
        grouping = {
            "key": scorecard.grouping_key,
            "source": scorecard.grouping_source or scorecard.grouping_key,
            "period_source": scorecard.period_source,
            "repairs": dict(scorecard.group_repairs),
            "item_counts": dict(scorecard.item_counts),
        }
    return {
        "format": FORMAT,
        "key": scorecard.key,
        "label": scorecard.label,
        "description": scorecard.description,
        "product": scorecard.product,
        "provenance": scorecard.provenance,
        "currency": scorecard.currency,
        "fields": [_field_document(f) for f in scorecard.fields],
        "groups": [
            {"name": g.name, "label": g.label, "period_unit": g.period_unit}
            for g in scorecard.groups
        ],
        "target": {
            "name": scorecard.target,
            "source": scorecard.target_source,
            "classes": [
                {"value": c, "label": scorecard.class_labels.get(c, c)} for c in scorecard.classes
            ],
            "bad": list(scorecard.bad_classes),
            "aliases": dict(scorecard.target_aliases),
        },
        "id_columns": list(scorecard.ignored_sources),
        "grouping": grouping,
        "costs": {
            "matrix": [[float(c) for c in row] for row in scorecard.cost_matrix],
            "rationale": scorecard.cost_rationale,
        },
        "policy": dict(scorecard.policy),
        "forest": dict(scorecard.forest),
        "quality_bars": dict(scorecard.quality_bars),
        "derived": [_json_copy(r) for r in scorecard.derived],
        "synthetic": _json_copy(scorecard.synthetic) if scorecard.synthetic is not None else None,
        "data_files": list(scorecard.data_files),
    }
