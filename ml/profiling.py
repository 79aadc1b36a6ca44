"""Profile a lender's labelled CSV and propose a scorecard declaration (format 1) from it.

The scorecard builder's first step: a credit manager uploads a file nobody here has seen; a
worker calls `profile_csv` (what every column holds), `check_training_file` (can a model be
trained on it at all: part 6 of issue 14) and `propose_declaration` (a first draft of the
declaration the manager then reviews). Nothing here is final: every guess says it is one.

Reading goes through `ml.cleaning` (one reading rule for training and bulk files: byte-order
marks, strict UTF-8, NUL, the longest value, malformed rows). Memory stays bounded on big
files: the file is streamed in chunks; row counts, missing shares, value counts of columns
with at most `EXACT_DISTINCT` distinct values and "unique on every row" are exact over all
rows; quantiles, ranges of high-cardinality columns and the leakage check use a seeded
sample of at most `max_rows` rows (the profile says which, in `Profile.sampling`).
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ml.cleaning import (
    DEFAULT_CHUNK_SIZE,
    MONTH_NUMBERS,
    CleaningError,
    Source,
    _sniff_quotechar,  # the reading rule's own header quoting (ARFF-style files)
    csv_text_check,
    head_text,
    read_csv_chunks,
)
from ml.schema import (
    FALSE_TOKENS,
    MISSING_TOKENS,
    TRUE_TOKENS,
    parse_number_text,
    parse_years_months,
    snake_case,
    split_multi,
)

DEFAULT_MAX_ROWS = 200_000
# The same default as the portal's CREDITPORTAL_UPLOAD_MAX_COLUMNS; the portal passes its
# setting as `max_columns`, so the two can't disagree.
DEFAULT_MAX_COLUMNS = 300
MIN_CLASS_ROWS = 50
MAX_CLASSES = 10
# Columns with at most this many distinct values are counted exactly over every row.
EXACT_DISTINCT = 1_000
# A text column with more distinct values than this is not offered as a list of choices.
MAX_CHOICES = 50
TOP_N = 20
LEAKAGE_AUC = 0.98
LEAKAGE_ROWS = 20_000
SEED = 0
QUANTILES = (0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999)

# Tokens that stand for "not given" beyond ml.schema.MISSING_TOKENS (which every field
# already treats as missing): proposed as the field's `placeholders`.
PLACEHOLDER_WORDS = frozenset(
    {"nm", "n.a.", "#n/a", "none given", "unknown", "missing", "not available", "-", "--"}
)
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DATE_PATTERNS = (
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$"), "day/month/year or month/day/year"),
    (re.compile(r"^\d{4}-\d{2}$"), "%Y-%m"),
    (re.compile(r"^\d{1,2}[ -][A-Za-z]{3,9}[ -]\d{2,4}$"), "%d %b %Y"),
    (re.compile(r"^[A-Za-z]{3,9}[ -]\d{4}$"), "%b %Y"),
)
_SERIES = re.compile(
    r"^(?P<prefix>[a-z][a-z0-9_]*?[a-z])_?(?:m|month|mon|p|period)?_?(?P<n>\d{1,2})$"
)

TARGET_WORDS = frozenset(
    {
        "target",
        "default",
        "defaulted",
        "label",
        "class",
        "outcome",
        "status",
        "bad",
        "y",
        "score",
        "risk",
        "result",
        "response",
        "repaid",
        "delinquent",
        "delinquency",
        "churn",
    }
)
ID_WORDS = frozenset({"id", "ids", "uuid", "guid", "key", "ref", "reference", "no", "nr", "num"})
ID_NAMES = frozenset({"id", "index", "row", "rownum", "row_number", "record", "unnamed_0"})
PERSONAL_WORDS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "surname",
        "ssn",
        "email",
        "phone",
        "telephone_number",
        "address",
        "street",
        "passport",
        "iban",
        "mobile",
    }
)
PROTECTED_WORDS = frozenset(
    {
        "sex",
        "gender",
        "marital",
        "marriage",
        "married",
        "race",
        "ethnic",
        "ethnicity",
        "religion",
        "religious",
        "nationality",
        "citizenship",
    }
)
PROTECTED_NAMES = frozenset({"personal_status"})
PERIOD_WORDS = frozenset({"month", "period", "year_month", "yearmonth", "snapshot"})
MONEY_WORDS = frozenset(
    {
        "amount",
        "amt",
        "income",
        "salary",
        "balance",
        "bal",
        "debt",
        "limit",
        "price",
        "emi",
        "invested",
        "loan_amount",
        "revenue",
        "spend",
        "spending",
        "savings",
        "payment",
        "instalment",
        "installment_amount",
        "wage",
        "wages",
        "value",
        "principal",
        "collateral",
    }
)
PERCENT_WORDS = frozenset({"rate", "ratio", "pct", "percent", "percentage", "utilization"})
GOOD_WORDS = (
    "excellent",
    "very good",
    "good",
    "no",
    "n",
    "false",
    "0",
    "paid",
    "repaid",
    "fully paid",
    "current",
    "performing",
    "non-default",
    "no default",
    "ok",
    "standard",
    "fair",
    "average",
)
BAD_WORDS = (
    "poor",
    "bad",
    "very bad",
    "yes",
    "y",
    "true",
    "1",
    "default",
    "defaulted",
    "charged off",
    "charged-off",
    "written off",
    "late",
    "delinquent",
    "non-performing",
    "loss",
    "fail",
    "failed",
)
# Ordering of graded words, best first, for targets of three classes or more.
GRADE_ORDER = (
    "excellent",
    "very good",
    "good",
    "fair",
    "standard",
    "average",
    "medium",
    "poor",
    "bad",
    "very bad",
    "default",
    "defaulted",
)


class ProfileError(ValueError):
    """The file cannot be profiled or trained on; `.errors` lists every reason in words."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = list(errors)


@dataclass
class ColumnProfile:
    """What one column of the file holds, and whether it is excluded (with the reason)."""

    header: str
    name: str
    position: int
    kind: str = (
        "categorical"  # integer numeric categorical boolean multi_categorical date text id empty
    )
    rows: int = 0
    missing: int = 0
    missing_share: float = 0.0
    distinct: int = 0
    distinct_exact: bool = True
    unique_per_row: bool = False
    constant: bool = False
    top: list[list[Any]] = field(default_factory=list)  # [value, count], most common first
    choices: list[list[Any]] = field(default_factory=list)  # every choice with its count
    items: list[list[Any]] = field(default_factory=list)  # multi_categorical: items, counts
    placeholders: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)  # values the kind cannot read
    minimum: float | None = None
    maximum: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)  # "1": 1 % quantile ...
    proposed_min: float | None = None
    proposed_max: float | None = None
    years_months: bool = False
    date_format: str = ""
    id_like: bool = False
    repeated_id: bool = False  # an id repeated over rows: a customer with several rows
    period: bool = False  # month names / a period column
    excluded: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Profile:
    """Every column's profile, how the file was read, and (not serialised) the sample."""

    source_name: str
    rows: int
    columns: list[ColumnProfile]
    sampled_rows: int
    sampling: str
    encoding: str
    malformed_rows: int = 0
    seconds: float = 0.0
    sample: pd.DataFrame | None = field(default=None, repr=False)

    def column(self, header: str) -> ColumnProfile:
        for column in self.columns:
            if column.header == header or column.name == header:
                return column
        raise KeyError(f"The file has no column {header!r}.")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sample")
        return data


# --- reading ---------------------------------------------------------------------------------


def _header(source: Source) -> list[str]:
    """The header as the file writes it (before read_csv_chunks makes repeats unique)."""
    text = head_text(source)
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), quotechar=_sniff_quotechar(text)))
    return [str(name).strip().strip("'\"").strip() for name in first]


def _check_header(header: list[str], max_columns: int) -> list[str]:
    errors = []
    if len(header) > max_columns:
        errors.append(
            f"The file has {len(header):,} columns; the limit is {max_columns:,}. "
            "Remove the columns that are not needed and upload it again."
        )
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        names = ", ".join(f"'{name}'" if name else "(an empty header)" for name in repeated)
        errors.append(f"Column names must be unique; repeated: {names}.")
    blank = [str(i + 1) for i, name in enumerate(header) if not name]
    if blank and len(blank) < len(header):
        errors.append(f"Every column needs a name; column {', '.join(blank)} has none.")
    if len(header) < 2:
        errors.append("The file needs at least two columns: the inputs and the outcome.")
    return errors


@dataclass
class _Tally:
    """Exact, streamed counts of one column."""

    counts: Counter | None = field(default_factory=Counter)
    missing: int = 0
    unique: bool = True
    hashes: list[np.ndarray] | None = field(default_factory=list)


def _missing_mask(tokens: pd.Index) -> np.ndarray:
    return np.array([t.strip().lower() in MISSING_TOKENS for t in tokens.tolist()], dtype=bool)


def profile_csv(
    source: Source,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    name: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_SIZE,
    seed: int = SEED,
) -> Profile:
    """Profile every column of a labelled CSV; ProfileError when the file can't be read.

    Exact over all rows: the row count, missing shares, counts of every value of a column
    with at most EXACT_DISTINCT distinct values, and whether a column is unique on every
    row. From a seeded sample of at most `max_rows` rows (all rows when the file is
    smaller): quantiles and ranges of columns with more distinct values, and the sample
    `propose_declaration` checks leakage on.
    """
    started = time.perf_counter()
    if name is None:
        name = Path(source).name if isinstance(source, str | Path) else "upload.csv"
    try:
        encoding = csv_text_check(source)
        header = _header(source)
    except CleaningError as error:
        raise ProfileError([str(error)]) from None
    except (csv.Error, StopIteration):
        raise ProfileError(["The file is empty or not a CSV text file."]) from None
    errors = _check_header(header, max_columns)
    if errors:
        raise ProfileError(errors)

    rng = np.random.default_rng(seed)
    tallies = {h: _Tally() for h in header}
    sample: pd.DataFrame | None = None
    sample_keys = np.empty(0)
    rows = malformed = 0
    try:
        for chunk in read_csv_chunks(source, rows=chunk_rows):
            frame = chunk.frame
            frame.columns = header
            rows += len(frame)
            malformed += len(chunk.malformed)
            for column in header:
                _tally(tallies[column], frame[column])
            keys = rng.random(len(frame))
            if len(sample_keys) >= max_rows:
                threshold = sample_keys.max()
                chosen = keys < threshold
                frame, keys = frame[chosen], keys[chosen]
            if len(frame):
                sample, sample_keys = _merge_sample(sample, sample_keys, frame, keys, max_rows)
    except CleaningError as error:
        raise ProfileError([str(error)]) from None
    if rows == 0:
        raise ProfileError(["The file has a header but no data rows."])
    sample = sample.reset_index(drop=True)
    names = _field_names(header)
    columns = [
        _profile_column(h, names[i], i, tallies[h], sample[h], rows) for i, h in enumerate(header)
    ]
    _mark_series_and_periods(columns)
    sampled = len(sample)
    sampling = (
        f"all {rows:,} rows"
        if sampled == rows
        else f"exact counts over all {rows:,} rows; quantiles and leakage from a seeded "
        f"sample of {sampled:,} rows (seed {seed})"
    )
    return Profile(
        source_name=name,
        rows=rows,
        columns=columns,
        sampled_rows=sampled,
        sampling=sampling,
        encoding=encoding,
        malformed_rows=malformed,
        seconds=round(time.perf_counter() - started, 3),
        sample=sample,
    )


def _tally(tally: _Tally, values: pd.Series) -> None:
    if tally.counts is None and not tally.unique:
        # many values, repeats seen: only the missing ones are still counted, and a
        # missing token is short
        short = values[values.str.len() <= 6]
        tally.missing += int(_missing_mask(pd.Index(short)).sum())
        return
    counts = values.value_counts(sort=False)
    tokens = counts.index
    missing = _missing_mask(tokens)
    tally.missing += int(counts.to_numpy()[missing].sum())
    if tally.unique and (len(counts) < len(values) or missing.any()):
        tally.unique, tally.hashes = False, None
    if tally.unique:
        tally.hashes.append(pd.util.hash_array(values.to_numpy(dtype=object)))
    if tally.counts is not None and len(counts) > EXACT_DISTINCT:
        tally.counts = None
    if tally.counts is not None:
        stripped = pd.Index(tokens, dtype=object).str.strip().tolist()
        for token, n in zip(stripped, counts.to_numpy().tolist(), strict=True):
            tally.counts[token] += n
        if len(tally.counts) > EXACT_DISTINCT:
            tally.counts = None


def _merge_sample(
    sample: pd.DataFrame | None,
    keys: np.ndarray,
    frame: pd.DataFrame,
    frame_keys: np.ndarray,
    max_rows: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows with the smallest random keys so far, text held as categories (compact)."""
    frame = frame.apply(lambda column: column.str.strip().astype("category"))
    if sample is None:
        merged, merged_keys = frame, frame_keys
    else:
        merged = pd.DataFrame(
            {
                column: pd.Series(
                    union_categoricals([sample[column], frame[column]], ignore_order=True)
                )
                for column in frame.columns
            }
        )
        merged_keys = np.concatenate([keys, frame_keys])
    if len(merged) > max_rows:
        keep = np.sort(np.argpartition(merged_keys, max_rows - 1)[:max_rows])
        merged = merged.iloc[keep].reset_index(drop=True)
        merged = merged.apply(lambda column: column.cat.remove_unused_categories())
        merged_keys = merged_keys[keep]
    return merged.reset_index(drop=True), merged_keys


def _field_names(header: list[str]) -> list[str]:
    """snake_case, unique field names for the headers ("LoanAmount" -> "loan_amount")."""
    names, seen = [], set()
    for position, text in enumerate(header):
        name = snake_case(_CAMEL.sub("_", text)) or f"column_{position + 1}"
        if not name[0].isalpha():
            name = f"c_{name}"
        name = name[:60]
        candidate, n = name, 2
        while candidate in seen:
            candidate, n = f"{name}_{n}", n + 1
        seen.add(candidate)
        names.append(candidate)
    return names


def _words(name: str) -> list[str]:
    return [word for word in name.split("_") if word]


# --- one column ------------------------------------------------------------------------------


def _profile_column(
    header: str, name: str, position: int, tally: _Tally, sampled: pd.Series, rows: int
) -> ColumnProfile:
    column = ColumnProfile(header=header, name=name, position=position, rows=rows)
    column.missing = tally.missing
    column.missing_share = round(tally.missing / rows, 4)
    if tally.counts is not None:
        counts = pd.Series(tally.counts, dtype="int64")
        total = rows
    else:
        counts = sampled.value_counts(sort=False)
        counts = counts[counts > 0]
        total = len(sampled)
        column.distinct_exact = False
        column.notes.append(
            f"more than {EXACT_DISTINCT:,} distinct values: figures from the sample"
        )
    counts.index = counts.index.astype(str)
    counts = counts.groupby(level=0).sum()
    present = counts[~_missing_mask(counts.index)]
    if tally.unique and tally.hashes is not None:
        hashes = np.concatenate(tally.hashes)
        column.unique_per_row = len(np.unique(hashes)) == rows
    if present.empty:
        column.kind, column.excluded = "empty", "always empty"
        return column
    placeholders = _placeholders(present)
    column.placeholders = {token: int(n) for token, n in placeholders.items()}
    scale = rows / total
    if len(placeholders):
        column.missing += int(round(placeholders.sum() * scale))
        column.missing_share = round(column.missing / rows, 4)
        present = present.drop(placeholders.index)
    column.distinct = rows if column.unique_per_row else int(len(present))
    column.top = [[value, int(n)] for value, n in present.nlargest(TOP_N).items()]
    if present.empty:
        column.kind, column.excluded = "empty", "always empty or a placeholder"
        return column
    column.constant = len(present) == 1
    _infer_kind(column, present)
    _flag_identifiers(column, present)
    if column.constant and not column.excluded:
        column.excluded = f"one value only ({column.top[0][0]!r})"
    return column


def _placeholders(present: pd.Series) -> pd.Series:
    """Values that stand for "not given": punctuation-only tokens ("_______", "!@9#%8") and
    known words ("NM", "unknown"), when the rest of the column is not all like them."""
    tokens = present.index.tolist()
    numeric = pd.to_numeric(pd.Series(tokens, dtype=object), errors="coerce").notna().to_numpy()
    mask = np.array(
        [
            not number and _looks_like_placeholder(t)
            for t, number in zip(tokens, numeric, strict=True)
        ],
        dtype=bool,
    )
    if mask.all():
        return present.iloc[0:0]
    return present[mask]


def _looks_like_placeholder(token: str) -> bool:
    """Punctuation only, a known word, or mostly symbols ("!@9#%8", "#F%$D@*&8"); never a
    comparison label such as "<0" or "0<=X<200", nor a signed number."""
    if _PUNCTUATION_ONLY.match(token) or token.lower() in PLACEHOLDER_WORDS:
        return True
    if re.search(r"[<>=]", token):
        return False
    symbols = sum(not (char.isalnum() or char.isspace()) for char in token)
    return symbols >= 3 and symbols * 2 >= len(token)


def _numbers(tokens: pd.Index) -> tuple[np.ndarray, int]:
    """The numbers the tokens hold (NaN where none), as ml.schema reads a form's text, and
    how many tokens needed a repair (a trailing "_", thousands separators)."""
    fast = np.array(
        pd.to_numeric(pd.Series(tokens, dtype=object), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    )
    repaired = 0
    for i in np.flatnonzero(~np.isfinite(fast)):
        number, note = parse_number_text(tokens[i])
        if number is not None and math.isfinite(number):
            fast[i] = number
            repaired += note is not None
    fast[~np.isfinite(fast)] = np.nan
    return fast, repaired


def _infer_kind(column: ColumnProfile, present: pd.Series) -> None:
    tokens = pd.Index(present.index.tolist(), dtype=object)
    counts = present.to_numpy()
    n = counts.sum()
    lowered = {t.lower() for t in tokens}
    if (
        len(lowered) == 2
        and lowered <= (TRUE_TOKENS | FALSE_TOKENS)
        and (lowered & TRUE_TOKENS and lowered & FALSE_TOKENS)
    ):
        column.kind = "boolean"
        column.choices = [[v, int(c)] for v, c in present.sort_values(ascending=False).items()]
        return
    numbers, repaired = _numbers(tokens)
    parsed = np.isfinite(numbers)
    if counts[parsed].sum() >= 0.95 * n and parsed.sum() >= 1:
        whole = bool(np.all(numbers[parsed] % 1 == 0))
        column.kind = "integer" if whole else "numeric"
        if (~parsed).any():
            column.invalid = {
                t: int(c) for t, c in zip(tokens[~parsed], counts[~parsed], strict=True)
            }
            column.notes.append(f"{int(counts[~parsed].sum()):,} values are not numbers")
        if repaired:
            column.notes.append("some numbers carry stray characters (e.g. a trailing '_')")
        _number_stats(column, numbers[parsed], counts[parsed])
        return
    months = [parse_years_months(t) for t in tokens]
    if sum(c for m, c in zip(months, counts, strict=True) if m is not None) >= 0.95 * n:
        column.kind, column.years_months = "integer", True
        values = np.array([np.nan if m is None else m for m in months], dtype=float)
        ok = np.isfinite(values)
        column.notes.append('"N Years and M Months": read as a number of months')
        _number_stats(column, values[ok], counts[ok])
        return
    date_format = _date_format(tokens, counts)
    if date_format:
        column.kind, column.date_format = "date", date_format
        column.excluded = "a date: not an input (derive a duration from it if it matters)"
        return
    if all(t.strip().lower() in MONTH_NUMBERS for t in tokens):
        column.kind, column.period = "categorical", True
        column.excluded = "a period (month names): orders a customer's rows, not an input"
        column.choices = [[v, int(c)] for v, c in present.sort_values(ascending=False).items()]
        return
    multi = _multi_items(tokens, counts)
    if multi is not None:
        column.kind = "multi_categorical"
        column.items = [[item, int(c)] for item, c in multi.most_common()]
        return
    column.choices = [[v, int(c)] for v, c in present.sort_values(ascending=False).items()]
    if len(tokens) <= MAX_CHOICES:
        column.kind = "categorical"
        return
    column.choices = []
    mean_length = float(np.average([len(t) for t in tokens], weights=counts))
    spaced = float(np.average([" " in t for t in tokens], weights=counts))
    if mean_length > 25 or spaced > 0.5:
        column.kind = "text"
        column.excluded = f"free text ({column.distinct:,} different values): not an input"
    else:
        column.kind = "text"
        column.excluded = (
            f"very high cardinality ({column.distinct:,} different values): "
            "too many to offer as choices"
        )


def _date_format(tokens: pd.Index, counts: np.ndarray) -> str:
    for pattern, label in _DATE_PATTERNS:
        matching = np.array([bool(pattern.match(t)) for t in tokens])
        if counts[matching].sum() >= 0.95 * counts.sum():
            sample = pd.Series(tokens[matching][:200])
            parsed = pd.to_datetime(sample, errors="coerce", format="mixed", dayfirst=True)
            if parsed.notna().mean() >= 0.9:
                return label
    return ""


def _multi_items(tokens: pd.Index, counts: np.ndarray) -> Counter | None:
    """Item counts when the cells are clearly lists ("A, B, and C"), else None."""
    with_comma = np.array(["," in t for t in tokens])
    if counts[with_comma].sum() < 0.1 * counts.sum() or len(tokens) < 5:
        return None
    items: Counter = Counter()
    for token, n in zip(tokens, counts, strict=True):
        for item in split_multi(token) or []:
            items[item] += int(n)
    if len(items) > MAX_CHOICES or len(items) * 2 > len(tokens):
        return None
    return items


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray) -> list[float]:
    order = np.argsort(values)
    values, weights = values[order], weights[order].astype(float)
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return [float(np.interp(q, cumulative, values)) for q in QUANTILES]


def _number_stats(column: ColumnProfile, values: np.ndarray, counts: np.ndarray) -> None:
    if not len(values):
        return
    column.minimum, column.maximum = float(values.min()), float(values.max())
    qs = _weighted_quantiles(values, counts)
    column.quantiles = {_percent(q): _tidy(v) for q, v in zip(QUANTILES, qs, strict=True)}
    column.proposed_min, column.proposed_max = _plausible_range(
        values, qs, whole=column.kind == "integer"
    )
    if "age" in _words(column.name) and not column.years_months and qs[5] <= 120:
        # an age in years, whatever the file says: nobody is 150
        column.proposed_min = max(column.proposed_min, 0.0)
        column.proposed_max = min(column.proposed_max, 120.0)
    outside = (values < column.proposed_min) | (values > column.proposed_max)
    if outside.any():
        share = counts[outside].sum() / counts.sum()
        examples = ", ".join(_plain(v) for v in np.unique(values[outside])[:3])
        column.notes.append(
            f"{share:.2%} of values outside the proposed range (e.g. {examples}): "
            "implausible, read as missing"
        )


def _percent(q: float) -> str:
    return f"{q * 100:g}"


def _tidy(value: float) -> float:
    return float(round(value, 6))


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _plausible_range(values: np.ndarray, qs: list[float], *, whole: bool) -> tuple[float, float]:
    """A readable range holding every plausible value and none of the impossible ones.

    The core is the 5-95 % range and its span. The range reaches one span beyond the core,
    and further to every observed value within ten spans of it; values farther out are
    typing errors or sentinels (an age of 7580, 5318 % interest, a balance of -3e26), which
    a forest would otherwise learn from. Too wide costs little (trees don't care how far out
    a value is), too narrow turns real values into missing ones, hence the generosity. A
    column never negative in its core gets 0 as its lower bound. Codes (at most 12 distinct
    whole numbers) keep their observed bounds.
    """
    q = dict(zip(QUANTILES, qs, strict=True))
    if whole and len(np.unique(values)) <= 12:
        return float(values.min()), float(values.max())
    low5, high95 = q[0.05], q[0.95]
    span = high95 - low5
    if span <= 0:
        span = max(abs(high95), 1.0) * 0.5
    inside = values[(values >= low5 - 10 * span) & (values <= high95 + 10 * span)]
    low = min(low5 - span, float(inside.min()))
    high = max(high95 + span, float(inside.max()))
    if low5 >= 0 and inside.min() >= 0:
        low = 0.0
    return _nice(low, floor=True), _nice(high, floor=False)


def _nice(value: float, *, floor: bool) -> float:
    """Rounded outwards to half a power of ten of the value: 98 -> 100, 1.62e6 -> 2e6."""
    if value == 0:
        return 0.0
    step = 10 ** math.floor(math.log10(abs(value))) / 2
    rounded = (math.floor if floor else math.ceil)(value / step) * step
    return float(round(rounded, 10))


def _flag_identifiers(column: ColumnProfile, present: pd.Series) -> None:
    """Ids, personal data and customer keys repeated over rows."""
    words = set(_words(column.name))
    named_id = (
        column.name in ID_NAMES
        or bool(words & ID_WORDS)
        and (
            column.name.endswith(("id", "_no", "_nr", "key", "ref", "number", "uuid"))
            or column.name.startswith("id_")
        )
    )
    personal = bool(words & PERSONAL_WORDS)
    sequence = False
    if column.kind == "integer" and column.unique_per_row and column.minimum is not None:
        sequence = column.maximum - column.minimum + 1 <= 1.5 * column.rows
    textual = column.kind in ("categorical", "text")
    free_text = column.excluded.startswith("free text")
    if personal and (textual or column.unique_per_row):
        column.id_like = True
        column.excluded = "personal data (a name or an identifier): not an input"
    elif column.unique_per_row and (named_id or sequence or textual and not free_text):
        column.id_like, column.kind = True, "id"
        column.excluded = "unique on every row: an id"
    elif named_id and (textual or column.kind == "integer") and column.distinct > MAX_CHOICES:
        column.id_like, column.kind = True, "id"
        if column.distinct < column.rows:
            column.repeated_id = True
            per = column.rows / max(column.distinct, 1)
            column.excluded = (
                f"an id repeated over rows ({per:.1f} rows each on average): a customer key"
            )
        else:
            column.excluded = "an id"
    if column.name in PERIOD_WORDS or words & {"month", "period"} and column.kind == "categorical":
        column.period = True


def _mark_series_and_periods(columns: list[ColumnProfile]) -> None:
    """Note the members of a numbered series (Status_M1..M6, PAY_0, PAY_2..PAY_6)."""
    for prefix, members in _series(columns).items():
        for period, column in enumerate(members, start=1):
            column.notes.append(f"member {period} of the series '{prefix}'")


def _series(columns: list[ColumnProfile]) -> dict[str, list[ColumnProfile]]:
    found: dict[str, list[tuple[int, ColumnProfile]]] = {}
    for column in columns:
        match = _SERIES.match(column.name)
        if match and not column.excluded:
            found.setdefault(match["prefix"], []).append((int(match["n"]), column))
    series = {}
    for prefix, members in found.items():
        kinds = {c.kind in ("integer", "numeric") for _, c in members}
        if len(members) >= 3 and len(kinds) == 1:
            series[prefix] = [c for _, c in sorted(members, key=lambda m: m[0])]
    return series


# --- the target and the checks of a training file ---------------------------------------------


def _class_counts(column: ColumnProfile) -> list[list[Any]]:
    if column.kind in ("categorical", "boolean", "integer", "numeric") and column.distinct_exact:
        return [list(pair) for pair in column.choices] or column.top
    return []


def _target_score(column: ColumnProfile, last_position: int) -> float:
    """How plausible a column is as the outcome: 0 for impossible."""
    if column.excluded and not column.constant or column.id_like:
        return 0.0
    if column.kind not in ("categorical", "boolean", "integer") or column.distinct > MAX_CLASSES:
        return 0.0
    if column.missing_share > 0.2 or _SERIES.match(column.name):
        return 0.0
    words = set(_words(column.name))
    if column.distinct < 2 and not words & TARGET_WORDS:
        return 0.0
    score = 1.0
    if words & TARGET_WORDS:
        score += 10.0
    if column.name in TARGET_WORDS:
        score += 5.0
    if column.position == last_position:
        score += 2.0
    if column.distinct == 2:
        score += 1.0
    if column.distinct < 2:  # an outcome of one class: found, so that it is refused by name
        score -= 1.5
    return score


def find_target(profile: Profile) -> ColumnProfile | None:
    """The column most like an outcome: named like target/default/label/class/outcome/status
    with 2 to 10 classes, else the most plausible low-cardinality column (the last column
    first); None when no column has between 2 and 10 classes."""
    last = len(profile.columns) - 1
    scored = [(_target_score(c, last), -abs(last - c.position), c) for c in profile.columns]
    scored = [entry for entry in scored if entry[0] > 0]
    if not scored:
        return None
    return max(scored, key=lambda entry: entry[:2])[2]


def check_training_file(profile: Profile, *, target: str | None = None) -> ColumnProfile:
    """The target column, or ProfileError listing why no model can be trained on the file:
    no target column, one class only, more than MAX_CLASSES classes, a class with fewer
    than MIN_CLASS_ROWS rows."""
    errors: list[str] = []
    if target is None:
        column = find_target(profile)
        if column is None:
            raise ProfileError(
                [
                    "No target column: no column holds between 2 and "
                    f"{MAX_CLASSES} outcomes (e.g. a column 'default' of 0/1 or "
                    "'status' of repaid/defaulted). Add the outcome column to the file."
                ]
            )
    else:
        try:
            column = profile.column(target)
        except KeyError:
            headers = ", ".join(c.header for c in profile.columns[:20])
            raise ProfileError(
                [f"No target column: the file has no column '{target}' (it has {headers})."]
            ) from None
    counts = _class_counts(column)
    present = sum(n for _, n in counts)
    if column.distinct <= 1 or len(counts) == 1:
        only = counts[0][0] if counts else "(empty)"
        errors.append(
            f"Target column '{column.header}': one class only ('{only}'); a model needs rows "
            "of at least two outcomes."
        )
    elif not counts or len(counts) > MAX_CLASSES:
        errors.append(
            f"Target column '{column.header}': {column.distinct:,} different values; an "
            f"outcome has 2 to {MAX_CLASSES} classes."
        )
    else:
        small = [(value, n) for value, n in counts if n < MIN_CLASS_ROWS]
        if small:
            listed = ", ".join(f"'{value}' has {n}" for value, n in small)
            errors.append(
                f"Target column '{column.header}': every class needs at least "
                f"{MIN_CLASS_ROWS} rows; {listed} (of {present:,} rows)."
            )
    if errors:
        raise ProfileError(errors)
    return column


# --- leakage -----------------------------------------------------------------------------------


def leakage_auc(profile: Profile, column: ColumnProfile, target: ColumnProfile) -> float | None:
    """Hold-out ROC-AUC of a depth-4 tree on this one column (macro one-vs-rest for more
    than two classes), on at most LEAKAGE_ROWS sampled rows; None without a sample."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    if profile.sample is None:
        return None
    frame = profile.sample[[column.header, target.header]]
    y = frame[target.header].astype(str).to_numpy()
    known = ~_missing_mask(pd.Index(y))
    frame, y = frame[known], y[known]
    if len(frame) > LEAKAGE_ROWS:
        keep = np.random.default_rng(SEED).choice(len(frame), LEAKAGE_ROWS, replace=False)
        frame, y = frame.iloc[np.sort(keep)], y[np.sort(keep)]
    classes, y_codes = np.unique(y, return_inverse=True)
    if len(classes) < 2 or np.bincount(y_codes).min() < 4:
        return None
    raw = frame[column.header].astype(str)
    train, test = train_test_split(
        np.arange(len(y_codes)), test_size=0.5, random_state=SEED, stratify=y_codes
    )
    X = _encode_one(raw, column, y_codes, train, len(classes))
    tree = DecisionTreeClassifier(
        max_depth=4, min_samples_leaf=max(5, len(train) // 500), random_state=SEED
    )
    tree.fit(X[train], y_codes[train])
    proba = tree.predict_proba(X[test])
    if len(classes) == 2:
        return float(roc_auc_score(y_codes[test], proba[:, 1]))
    if len(np.unique(y_codes[test])) < len(classes):
        return None
    return float(roc_auc_score(y_codes[test], proba, multi_class="ovr", average="macro"))


def _encode_one(
    raw: pd.Series, column: ColumnProfile, y: np.ndarray, train: np.ndarray, k: int
) -> np.ndarray:
    """Numbers as numbers (missing below the minimum), categories as their class shares
    on the training half (so a tree needs no one-hot)."""
    if column.kind in ("integer", "numeric"):
        uniques, inverse = np.unique(raw.to_numpy(dtype=str), return_inverse=True)
        if column.years_months:
            numbers = np.array([parse_years_months(u) or np.nan for u in uniques], dtype=float)
        else:
            numbers, _ = _numbers(pd.Index(uniques))
        values = numbers[inverse]
        floor = np.nanmin(values) - 1 if np.isfinite(values).any() else 0.0
        return np.where(np.isfinite(values), values, floor).reshape(-1, 1)
    codes = pd.factorize(raw)[0]
    table = np.zeros((codes.max() + 1, k))
    np.add.at(table, (codes[train], y[train]), 1.0)
    prior = np.bincount(y[train], minlength=k) / len(train)
    seen = table.sum(axis=1, keepdims=True)
    shares = (table + prior) / (seen + 1.0)
    return shares[codes][:, 1:] if k == 2 else shares[codes]


# --- the proposal ------------------------------------------------------------------------------


@dataclass
class Proposal:
    """A format-1 declaration and, per column, the role proposed for it with why."""

    declaration: dict[str, Any]
    roles: dict[str, dict[str, Any]]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def propose_declaration(
    profile: Profile,
    *,
    target: str | None = None,
    key: str | None = None,
    label: str | None = None,
    currency: str = "",
) -> dict[str, Any]:
    """A format-1 declaration proposed from a profile (see docs/declarations.md, "Proposed
    by the builder"); ProfileError when the file cannot be trained on."""
    return propose(profile, target=target, key=key, label=label, currency=currency).declaration


def propose(
    profile: Profile,
    *,
    target: str | None = None,
    key: str | None = None,
    label: str | None = None,
    currency: str = "",
) -> Proposal:
    """`propose_declaration`, with each column's proposed role and its reason."""
    target_column = check_training_file(profile, target=target)
    notes: list[str] = []
    roles: dict[str, dict[str, Any]] = {}
    key = _key(key or Path(profile.source_name).stem)
    label = label or _label(key)

    classes, aliases, class_note = _classes(target_column)
    notes.append(class_note)
    roles[target_column.header] = {"role": "target", "reason": "the outcome to predict"}

    grouping = None
    group_column = _group_column(profile)
    period_column = next((c for c in profile.columns if c.period and c is not target_column), None)
    if group_column is not None:
        grouping = {
            "key": group_column.name,
            "source": group_column.header,
            "period_source": period_column.header if period_column else None,
            "repairs": {},
            "item_counts": {},
        }
        roles[group_column.header] = {
            "role": "group",
            "reason": "a customer key repeated over rows: the rows of one customer are kept "
            "together when the data are split",
        }

    leaks: dict[str, float] = {}
    for column in profile.columns:
        if column is target_column or column is group_column or column.excluded:
            continue
        auc = leakage_auc(profile, column, target_column)
        if auc is not None and auc >= LEAKAGE_AUC:
            leaks[column.header] = round(auc, 4)

    fields = []
    id_columns = []
    for column in profile.columns:
        if column.header in roles:
            continue
        if column.excluded:
            role = "id" if column.id_like else "ignored"
            roles[column.header] = {"role": role, "reason": column.excluded}
            id_columns.append(column.header)
            continue
        if column.header in leaks:
            auc = leaks[column.header]
            roles[column.header] = {
                "role": "ignored",
                "reason": f"leakage suspect: alone it predicts {target_column.header} almost "
                f"perfectly (ROC-AUC {auc:.3f}); it is probably known only after the outcome",
                "leakage_roc_auc": auc,
            }
            id_columns.append(column.header)
            notes.append(f"{column.header}: leakage suspect (ROC-AUC {auc:.3f}), ignored.")
            continue
        spec = field_spec(column)
        roles[column.header] = {
            "role": "protected" if spec["protected"] else "input",
            "reason": "a protected characteristic: used by the fairness report only, never "
            "by the model"
            if spec["protected"]
            else "an input",
        }
        fields.append(spec)

    groups = _groups(profile, fields)
    if grouping is not None:
        grouping["repairs"] = _group_repairs(profile, group_column, fields)
    declaration = {
        "format": 1,
        "key": key,
        "label": label,
        "description": f"Proposed from {profile.source_name} ({profile.rows:,} rows); "
        "review every field before training.",
        "product": label.lower(),
        "provenance": f"The lender's file {profile.source_name}.",
        "currency": currency,
        "fields": fields,
        "groups": groups,
        "target": {
            "name": target_column.name,
            "source": target_column.header,
            "classes": classes,
            "bad": [classes[-1]["value"]],
            "aliases": aliases,
        },
        "id_columns": id_columns,
        "grouping": grouping,
        "costs": _costs(len(classes)),
        "policy": {},
        "forest": {},
        "quality_bars": {},
        "derived": [],
        "synthetic": None,
        "data_files": [],
    }
    return Proposal(declaration=declaration, roles=roles, notes=notes)


def _key(text: str) -> str:
    key = snake_case(_CAMEL.sub("_", text))
    if not key or not key[0].isalpha():
        key = f"scorecard_{key}".strip("_")
    return key[:64] if len(key) >= 2 else "scorecard"


def _label(name: str) -> str:
    """A label from a header: "LoanAmount" -> "Loan amount", "LIMIT_BAL" -> "Limit bal"."""
    words = [w for w in re.split(r"[\W_]+", _CAMEL.sub(" ", name.strip().strip("'\""))) if w]
    if not words:
        return name
    shouting = all(not w.isalpha() or w.isupper() for w in words)
    out = []
    for word in words:
        keep = not shouting and word.isupper() and len(word) <= 4 and len(word) > 1
        out.append(word if keep else word.lower())
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def _choice_label(value: str) -> str:
    text = re.sub(r"\s+", " ", value.replace("_", " ")).strip()
    return text if text.isupper() and len(text) <= 4 else text.lower() if text else value


def field_spec(column: ColumnProfile) -> dict[str, Any]:
    """The proposed field (format 1) for one column, as if it were an input."""
    words = set(_words(column.name))
    protected = bool(words & PROTECTED_WORDS) or column.name in PROTECTED_NAMES
    kind = column.kind
    choices: list[dict[str, str]] = []
    listed = column.choices
    if kind in ("integer", "numeric") and protected and column.distinct <= MAX_CLASSES:
        # a coded protected characteristic (SEX 1/2): groups for the fairness report
        kind, listed = "categorical", column.top
    if kind == "categorical":
        choices = [{"value": v, "label": _choice_label(v)} for v, _ in listed]
    elif kind == "multi_categorical":
        choices = [{"value": v, "label": _choice_label(v)} for v, _ in column.items]
    unit = ""
    if kind in ("integer", "numeric"):
        unit = _unit(column, words)
    number = kind in ("integer", "numeric")
    return {
        "name": column.name,
        "source": column.header,
        "kind": kind,
        "label": _label(column.header),
        "help": "",
        "unit": unit,
        "min": column.proposed_min if number else None,
        "max": column.proposed_max if number else None,
        "choices": choices,
        # A protected value is for the fairness report only: never needed to score.
        "required": column.missing == 0 and not protected,
        "protected": protected,
        "never_reason": "age" in words and not protected,
        "on_invalid": "missing",
        "group": None,
        "period": None,
        "aliases": {},
        "placeholders": sorted(column.placeholders),
        "undocumented": [],
        "value_labels": {},
        "phrase": "",
        "display": "years_months" if column.years_months else "",
    }


def _unit(column: ColumnProfile, words: set[str]) -> str:
    if column.years_months:
        return "months"
    if words & MONEY_WORDS:
        return "money"
    if words & PERCENT_WORDS:
        return "%"
    if "age" in words:
        return "years"
    if words & {"days", "day"}:
        return "days"
    if words & {"months", "duration", "term", "tenure"}:
        return "months"
    if words & {"years"}:
        return "years"
    return ""


def _classes(column: ColumnProfile) -> tuple[list[dict[str, str]], dict[str, str], str]:
    """Classes best to worst, raw-token aliases, and a sentence on how sure the order is."""
    values = [str(v) for v, _ in _class_counts(column)]
    lowered = [v.lower() for v in values]
    if len(values) == 2:
        good = [_word_rank(v, GOOD_WORDS) for v in lowered]
        bad = [_word_rank(v, BAD_WORDS) for v in lowered]
        if bad[0] is not None and good[1] is not None or good[0] is None and good[1] is not None:
            values.reverse()
            lowered.reverse()
        elif bad[0] is None and bad[1] is None and good[0] is None and good[1] is None:
            values.sort(key=lambda v: -dict(_class_counts(column))[v])
            lowered = [v.lower() for v in values]
            note = (
                f"Class order guessed: '{values[0]}' (the most common) taken as the good "
                f"outcome, '{values[1]}' as bad. Check it."
            )
            return _class_entries(values), {}, note
        if set(lowered) <= (TRUE_TOKENS | FALSE_TOKENS | {"0.0", "1.0"}):
            aliases = {lowered[0]: "good", lowered[1]: "bad"}
            entries = [
                {"value": "good", "label": f"good ({values[0]})"},
                {"value": "bad", "label": f"bad ({values[1]})"},
            ]
            return (
                entries,
                aliases,
                (
                    f"Classes: {values[0]} = good, {values[1]} = bad (the usual coding of "
                    f"'{column.header}'). Check it."
                ),
            )
        return _class_entries(values), {}, f"Classes: '{values[0]}' good, '{values[1]}' bad."
    ranks = [_grade(v) for v in lowered]
    if all(r is not None for r in ranks):
        values = [v for _, v in sorted(zip(ranks, values, strict=True))]
        how = "by their words"
    elif all(_is_number(v) for v in values):
        values = sorted(values, key=float)
        how = "by number, lowest first"
    else:
        counts = dict(_class_counts(column))
        values = sorted(values, key=lambda v: -counts[v])
        how = "by frequency, most common first"
    note = (
        f"Class order is a guess ({how}): {' > '.join(values)}, best first; the worst "
        f"('{values[-1]}') counts as bad. Check it."
    )
    return _class_entries(values), {}, note


def _class_entries(values: list[str]) -> list[dict[str, str]]:
    return [{"value": v, "label": _choice_label(v)} for v in values]


def _word_rank(value: str, words: tuple[str, ...]) -> int | None:
    value = value.strip().strip("'\"")
    return words.index(value) if value in words else None


def _grade(value: str) -> int | None:
    value = value.strip().strip("'\"").replace("_", " ")
    if value in GRADE_ORDER:
        return GRADE_ORDER.index(value)
    for word in ("good", "bad", "poor", "default"):
        if word in value:
            return GRADE_ORDER.index(word)
    return None


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _costs(k: int) -> dict[str, Any]:
    """Approving a bad outcome costs 5, declining a good one 1 (two classes); with more,
    the cost grows with how far the prediction is from the truth, 5 for the worst overrating."""
    if k == 2:
        matrix = [[0, 1], [5, 0]]
    else:
        matrix = [
            [
                round(5 * (i - j) / (k - 1), 2) if i > j else round((j - i) / (k - 1), 2)
                for j in range(k)
            ]
            for i in range(k)
        ]
    rationale = (
        "A default guess: approving a customer who turns out bad costs five times what "
        "declining a good one costs (a lost loan against a lost margin)"
        + (
            "; an error between classes costs in proportion to how far apart they are"
            if k > 2
            else ""
        )
        + ". Replace it with your own losses."
    )
    return {"matrix": matrix, "rationale": rationale}


def _group_column(profile: Profile) -> ColumnProfile | None:
    repeated = [c for c in profile.columns if c.repeated_id]
    return max(repeated, key=lambda c: c.distinct) if repeated else None


def _groups(profile: Profile, fields: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Numbered series of inputs become monthly histories; period 1 is the lowest number."""
    by_header = {f["source"]: f for f in fields}
    groups = []
    for prefix, members in _series(profile.columns).items():
        specs = [by_header.get(c.header) for c in members]
        if any(spec is None for spec in specs):
            continue
        if len({spec["kind"] for spec in specs}) != 1:
            continue
        groups.append({"name": prefix, "label": _label(prefix), "period_unit": "month"})
        for period, spec in enumerate(specs, start=1):
            spec["group"], spec["period"] = prefix, period
    return groups


def _group_repairs(
    profile: Profile, group_column: ColumnProfile, fields: list[dict[str, Any]]
) -> dict[str, str]:
    """Inputs that hold one value per customer in most customers ("constant"): repaired
    from the customer's other rows. Measured on the sample."""
    if profile.sample is None:
        return {}
    sample = profile.sample
    keys = sample[group_column.header].astype(str)
    repairs = {}
    for spec in fields:
        values = sample[spec["source"]].astype(str)
        values = values.where(~_missing_mask(pd.Index(values)).astype(bool))
        frame = pd.DataFrame({"key": keys, "value": values}).dropna()
        sizes = frame.groupby("key").size()
        several = sizes[sizes >= 2].index
        if len(several) < 10:
            continue
        frame = frame[frame["key"].isin(several)]
        top_share = frame.groupby("key")["value"].agg(lambda s: s.value_counts().iloc[0] / len(s))
        if (top_share >= 0.75).mean() >= 0.9 and (top_share == 1).mean() < 1.0:
            repairs[spec["name"]] = "constant"
    return repairs
