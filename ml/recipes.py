"""Derived features from a closed set of declarative recipes, as vectorised numpy.

A scorecard declares its derived features as data (see docs/declarations.md), never as
code, so a lender's own scorecard can have them without Python being written. A recipe is
a plain dict:

    {"name": "utilisation_mean", "label": "...", "unit": "percent", "recipe": "ratio",
     "numerator": {"mean": [{"group": "bill"}]}, "denominator": "limit_bal"}

Operands are numeric field names, groups (``{"group": "bill"}``: its members, most recent
first; only where several values are expected) and nested operands (``{"sum": [...]}``,
``{"mean": [...]}``, ``{"max": [...]}``, ``{"min": [...]}``, ``{"difference": [a, b]}``).

`resolve` replaces every group by its members, so a resolved recipe needs nothing but the
columns: `evaluate(recipe, columns)` works on a mapping of column name to float64 array
(NaN = missing), the same mapping `ml.features.ScorecardFeatures.transform_columns` builds
for one row or a million. Missing-value rules:

- `ratio`: missing when either side is; a denominator of 0 or less gives
  `if_not_positive` (missing when not given); `clip` bounds the result.
- `sum`, `mean`, `max`, `min`, `count_at_least`: missing operands are ignored; missing
  when all are.
- `difference`: missing when either side is.
- `trend`: least-squares slope per period over the known values (oldest to most recent);
  missing with fewer than two known values.
- `floor` (any recipe): values below it become it; missing stays missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Columns = Mapping[str, np.ndarray]

AGGREGATES = ("sum", "mean", "max", "min")
RECIPES = ("ratio", "difference", *AGGREGATES, "count_at_least", "trend")
UNITS = ("percent", "count", "money", "")
# Operand keys each recipe takes besides name, label, recipe, unit and floor.
RECIPE_KEYS: dict[str, tuple[str, ...]] = {
    "ratio": ("numerator", "denominator", "if_not_positive", "clip"),
    "difference": ("of",),
    **{name: ("of",) for name in AGGREGATES},
    "count_at_least": ("of", "threshold"),
    "trend": ("of",),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "ratio": ("numerator", "denominator"),
    "count_at_least": ("of", "threshold"),
}
COMMON_KEYS = ("name", "label", "recipe", "unit", "floor")
STRICT_KEY = "_missing_propagates"
MAX_DEPTH = 4
MAX_OPERANDS = 300
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


# --- evaluation ----------------------------------------------------------------------


def evaluate(recipe: Mapping[str, Any], columns: Columns) -> np.ndarray:
    """The feature's values for every row of `columns` (a resolved recipe: no groups)."""
    kind = recipe["recipe"]
    # Models trained before declarations summed and averaged with missing values
    # propagating; ml.features' table for reading them sets this key. Documents cannot:
    # the validator refuses keys it does not know.
    strict = bool(recipe.get(STRICT_KEY))
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "ratio":
            values = _ratio(
                _operand(recipe["numerator"], columns, strict),
                _operand(recipe["denominator"], columns, strict),
                recipe.get("if_not_positive"),
                recipe.get("clip"),
            )
        elif kind == "difference":
            first, second = (_operand(op, columns, strict) for op in _as_list(recipe["of"]))
            values = first - second
        elif kind in AGGREGATES:
            values = _aggregate(kind, _operands(recipe["of"], columns, strict), strict)
        elif kind == "count_at_least":
            values = _count_at_least(_operands(recipe["of"], columns, strict), recipe["threshold"])
        elif kind == "trend":
            values = _trend(_operands(recipe["of"], columns, strict))
        else:
            raise ValueError(f"Unknown recipe {kind!r}.")
        if recipe.get("floor") is not None:
            values = np.maximum(values, float(recipe["floor"]))  # NaN stays NaN
    return np.asarray(values, dtype=np.float64)


def _as_list(operands: Any) -> list:
    return list(operands) if isinstance(operands, list | tuple) else [operands]


def _operands(operands: Any, columns: Columns, strict: bool) -> list[np.ndarray]:
    return [_operand(op, columns, strict) for op in _as_list(operands)]


def _operand(operand: Any, columns: Columns, strict: bool) -> np.ndarray:
    if isinstance(operand, str):
        return np.asarray(columns[operand], dtype=np.float64)
    ((kind, inner),) = operand.items()
    if kind == "difference":
        first, second = (_operand(op, columns, strict) for op in inner)
        return first - second
    return _aggregate(kind, _operands(inner, columns, strict), strict)


def _ratio(numerator, denominator, if_not_positive=None, clip=None) -> np.ndarray:
    positive = denominator > 0
    fill = np.nan if if_not_positive is None else float(if_not_positive)
    values = np.where(positive, numerator / np.where(positive, denominator, 1), fill)
    if if_not_positive is not None:
        values = np.where(np.isnan(numerator) | np.isnan(denominator), np.nan, values)
    if clip is not None:
        values = np.clip(values, float(clip[0]), float(clip[1]))
    return values


def _aggregate(kind: str, arrays: Sequence[np.ndarray], strict: bool = False) -> np.ndarray:
    stacked = np.column_stack(arrays)
    if strict and kind in ("sum", "mean"):
        return stacked.sum(axis=1) if kind == "sum" else stacked.mean(axis=1)
    missing = np.isnan(stacked)
    if kind == "max":
        return np.fmax.reduce(stacked, axis=1)  # NaN only where all are NaN
    if kind == "min":
        return np.fmin.reduce(stacked, axis=1)
    all_missing = missing.all(axis=1)
    # Filling with 0 and summing along the row keeps the order of the additions, so rows
    # without a missing value give exactly `stacked.sum(axis=1)` / `.mean(axis=1)`.
    total = np.where(missing, 0.0, stacked).sum(axis=1)
    if kind == "mean":
        total = total / (~missing).sum(axis=1).astype(np.float64)
    return np.where(all_missing, np.nan, total)


def _count_at_least(arrays: Sequence[np.ndarray], threshold: float) -> np.ndarray:
    stacked = np.column_stack(arrays)
    counts = (stacked >= threshold).sum(axis=1).astype(np.float64)
    return np.where(np.isnan(stacked).all(axis=1), np.nan, counts)


def _trend(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Least-squares slope per period; operands come most recent first."""
    stacked = np.column_stack(arrays[::-1])  # oldest first: time runs left to right
    known = ~np.isnan(stacked)
    count = known.sum(axis=1).astype(np.float64)
    time = np.broadcast_to(np.arange(stacked.shape[1], dtype=np.float64), stacked.shape)
    values = np.where(known, stacked, 0.0)
    time_known = np.where(known, time, 0.0)
    time_mean = time_known.sum(axis=1) / count
    value_mean = values.sum(axis=1) / count
    time_dev = np.where(known, time - time_mean[:, None], 0.0)
    value_dev = np.where(known, stacked - value_mean[:, None], 0.0)
    slope = (time_dev * value_dev).sum(axis=1) / (time_dev**2).sum(axis=1)
    return np.where(count >= 2, slope, np.nan)


# --- groups and sources ----------------------------------------------------------------


def resolve(
    recipe: Mapping[str, Any], groups: Mapping[str, Sequence[str]], currency: str = ""
) -> dict[str, Any]:
    """The recipe with every `{"group": g}` replaced by g's members (most recent first),
    and the scorecard's currency for a money amount, so it needs nothing else."""
    resolved = dict(recipe)
    if resolved.get("unit") == "money" and currency:
        resolved["currency"] = currency
    for key in ("numerator", "denominator"):
        if key in resolved:
            resolved[key] = _resolve_operand(resolved[key], groups)
    if "of" in resolved:
        resolved["of"] = _resolve_list(resolved["of"], groups)
    if "clip" in resolved and resolved["clip"] is not None:
        resolved["clip"] = list(resolved["clip"])
    return resolved


def _resolve_list(operands: Any, groups: Mapping[str, Sequence[str]]) -> list:
    out: list = []
    for operand in _as_list(operands):
        if isinstance(operand, Mapping) and set(operand) == {"group"}:
            out.extend(groups[operand["group"]])
        else:
            out.append(_resolve_operand(operand, groups))
    return out


def _resolve_operand(operand: Any, groups: Mapping[str, Sequence[str]]) -> Any:
    if isinstance(operand, str):
        return operand
    ((kind, inner),) = operand.items()
    return {kind: _resolve_list(inner, groups)}


def sources(recipe: Mapping[str, Any]) -> tuple[str, ...]:
    """The field names a resolved recipe reads, in order of first use."""
    found: list[str] = []

    def walk(operand: Any) -> None:
        if isinstance(operand, str):
            if operand not in found:
                found.append(operand)
        elif isinstance(operand, Mapping):
            for inner in operand.values():
                walk(inner)
        else:
            for inner in operand:
                walk(inner)

    for key in ("numerator", "denominator", "of"):
        if key in recipe:
            walk(recipe[key])
    return tuple(found)


# --- validation ------------------------------------------------------------------------


class _Checker:
    """Collects the errors of one recipe document, each naming its path and rule."""

    def __init__(
        self,
        path: str,
        numeric: set[str],
        groups: Mapping[str, Sequence[str]],
        protected: set[str],
        fields: set[str],
    ):
        self.path = path
        self.numeric = numeric
        self.groups = groups
        self.protected = protected
        self.fields = fields
        self.errors: list[str] = []
        self.count = 0

    def error(self, path: str, rule: str) -> None:
        self.errors.append(f"{path}: {rule}")

    def scalar(self, operand: Any, path: str, depth: int = 0) -> None:
        """An operand that gives one value per row."""
        self.count += 1
        if self.count > MAX_OPERANDS:
            if self.count == MAX_OPERANDS + 1:
                self.error(path, f"too many operands (at most {MAX_OPERANDS})")
            return
        if isinstance(operand, str):
            self.field_name(operand, path)
            return
        if not isinstance(operand, Mapping) or len(operand) != 1:
            self.error(
                path,
                "must be a numeric field name or one of "
                '{"sum"|"mean"|"max"|"min": [...]}, {"difference": [a, b]}',
            )
            return
        ((kind, inner),) = operand.items()
        if kind == "group":
            self.error(path, "a group gives several values: take its sum, mean, max or min")
            return
        if depth >= MAX_DEPTH:
            self.error(path, f"operands nest too deep (at most {MAX_DEPTH} levels)")
            return
        if kind == "difference":
            self.pair(inner, f"{path}.difference", depth + 1)
        elif kind in AGGREGATES:
            self.many(inner, f"{path}.{kind}", depth + 1)
        else:
            allowed = ", ".join([*AGGREGATES, "difference"])
            self.error(path, f"unknown operand {_echo(kind)} (allowed: {allowed})")

    def pair(self, operands: Any, path: str, depth: int) -> None:
        if not isinstance(operands, list) or len(operands) != 2:
            self.error(path, "must be a list of two operands [a, b]")
            return
        for index, operand in enumerate(operands):
            self.scalar(operand, f"{path}[{index}]", depth)

    def many(self, operands: Any, path: str, depth: int) -> None:
        """A list of operands (groups allowed) or a single group."""
        if isinstance(operands, Mapping) and set(operands) == {"group"}:
            self.group(operands["group"], path)
            return
        if not isinstance(operands, list) or not operands:
            self.error(path, 'must be a non-empty list of operands or {"group": name}')
            return
        for index, operand in enumerate(operands):
            item_path = f"{path}[{index}]"
            if isinstance(operand, Mapping) and set(operand) == {"group"}:
                self.group(operand["group"], item_path)
            else:
                self.scalar(operand, item_path, depth)

    def group(self, name: Any, path: str) -> None:
        if not isinstance(name, str) or name not in self.groups:
            known = ", ".join(self.groups) or "none declared"
            self.error(f"{path}.group", f"names no declared group (got {_echo(name)}; {known})")
            return
        for member in self.groups[name]:
            if member in self.protected:
                self.error(
                    f"{path}.group", f"member {member!r} is protected: never used by recipes"
                )
            elif member not in self.numeric:
                self.error(f"{path}.group", f"member {member!r} is not a numeric field")

    def field_name(self, name: str, path: str) -> None:
        if name in self.groups and name not in self.fields:
            self.error(path, f'{name!r} is a group: write {{"group": "{name}"}}')
        elif name not in self.fields:
            self.error(path, f"names no declared field (got {_echo(name)})")
        elif name in self.protected:
            self.error(path, f"{name!r} is protected: never used by recipes")
        elif name not in self.numeric:
            self.error(path, f"{name!r} is not a numeric field")


def recipe_errors(
    recipe: Any,
    path: str,
    *,
    numeric: set[str],
    groups: Mapping[str, Sequence[str]],
    protected: set[str],
    fields: set[str],
) -> list[str]:
    """Every error of one recipe document; `numeric` are the numeric, integer and yes/no
    fields, `groups` maps a group to its members, `protected` the protected fields."""
    if not isinstance(recipe, Mapping):
        return [f"{path}: must be an object"]
    check = _Checker(path, numeric, groups, protected, fields)
    kind = recipe.get("recipe")
    if kind not in RECIPES:
        check.error(f"{path}.recipe", f"must be one of {', '.join(RECIPES)} (got {_echo(kind)})")
        return check.errors
    allowed = set(COMMON_KEYS) | set(RECIPE_KEYS[kind])
    for key in recipe:
        if key not in allowed:
            check.error(f"{path}.{key}", f"unknown key for recipe {kind!r}")
    for key in ("name", "label", *REQUIRED_KEYS.get(kind, ("of",))):
        if key not in recipe:
            check.error(f"{path}.{key}", "is required")
    name = recipe.get("name")
    if "name" in recipe and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
        check.error(f"{path}.name", f"must be a snake_case identifier (got {_echo(name)})")
    label = recipe.get("label")
    if "label" in recipe and (not isinstance(label, str) or not label.strip() or len(label) > 200):
        check.error(f"{path}.label", "must be a non-empty text of at most 200 characters")
    if recipe.get("unit", "") not in UNITS:
        check.error(
            f"{path}.unit",
            f"must be one of percent, count, money or empty (got {_echo(recipe.get('unit'))})",
        )
    for key in ("floor", "if_not_positive", "threshold"):
        if recipe.get(key) is not None and not _is_number(recipe[key]):
            check.error(f"{path}.{key}", f"must be a number (got {_echo(recipe[key])})")
    if "threshold" in recipe and recipe["threshold"] is None:
        check.error(f"{path}.threshold", "must be a number (got null)")
    clip = recipe.get("clip")
    if clip is not None:
        if not (isinstance(clip, list) and len(clip) == 2 and all(map(_is_number, clip))):
            check.error(f"{path}.clip", "must be [low, high], two numbers")
        elif clip[0] >= clip[1]:
            check.error(f"{path}.clip", f"low must be below high (got {clip[0]} >= {clip[1]})")
    if kind == "ratio":
        for key in ("numerator", "denominator"):
            if key in recipe:
                check.scalar(recipe[key], f"{path}.{key}")
    elif kind == "difference" and "of" in recipe:
        check.pair(recipe["of"], f"{path}.of", 0)
    elif "of" in recipe:
        if kind == "trend" and not (
            isinstance(recipe["of"], Mapping) and set(recipe["of"]) == {"group"}
        ):
            check.error(f"{path}.of", 'a trend is taken over a group: {"group": name}')
        else:
            check.many(recipe["of"], f"{path}.of", 0)
    return check.errors


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer of hundreds of digits
        return False


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
