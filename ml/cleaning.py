"""Read and clean raw scorecard CSVs (public layouts and their quirks) into a tidy frame.

The cleaned frame has one column per scorecard field (named by `Field.name`), plus the target
column when the source has it, plus the grouping key when the scorecard has one, plus
`row_number`: the 1-based data row of the source (the header is row 0). Column dtypes:

- NUMERIC and INTEGER fields: float64, NaN = missing (whole numbers for INTEGER fields);
- CATEGORICAL fields and the target: object holding the choice/class value, NaN = missing;
- BOOLEAN fields: pandas "boolean" (True / False / <NA>);
- MULTI_CATEGORICAL fields: object holding the canonical string `", ".join(values)` (repeats
  kept, "" = none, NaN = unknown); `ml.schema.split_multi` turns it back into a list.

Every value goes through the same coercion as `ml.schema.validate_inputs`: a value it rejects
becomes missing and is counted in the report. A value that was read but is implausible (outside
the field's range, not one of its choices) is listed in `CleaningResult.row_flags`, so bulk
scoring scores the row with it missing and says so on the prediction; unless the field says
`on_invalid="refuse"`, and for any value that cannot be read at all (text in a number field,
NaN, infinity), the row is listed in `CleaningResult.row_errors` (with the validator's message),
so bulk scoring rejects the row. Training imputes all of them.
Columns the scorecard does not use are not dropped silently: they are listed in the report and
kept, as raw text, in `CleaningResult.extra_frame` (same index as `frame`) for carry-through.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ml.schema import (
    ON_INVALID_MISSING,
    OUT_OF_RANGE,
    REQUIRED_MESSAGE,
    WHOLE_NUMBER_MESSAGE,
    Field,
    FieldKind,
    Scorecard,
    clipped,
    coerce_value,
    snake_case,
    split_multi,
)

ROW_NUMBER = "row_number"
MAX_EXAMPLES = 5
DEFAULT_CHUNK_SIZE = 50_000
# The longest value any reader accepts, training and bulk alike (one rule): characters of one
# field. Below the csv module's own limit (131,072), so this check, which names the row and
# the column, is the one that refuses.
MAX_FIELD_CHARS = 100_000
# A chunk of `read_csv_chunks` ends at its number of rows or after about this many bytes of
# input, whichever comes first, so a chunk of very wide rows or very long values holds no
# more than a chunk of ordinary ones.
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024
# The text layer reads its buffer in blocks of this size, so the input's position, as
# `_csv_rows` reports it, is exact to within one block.
_TEXT_BLOCK = 8192
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august")
MONTHS += ("september", "october", "november", "december")
MONTH_NUMBERS = {month: number for number, month in enumerate(MONTHS, start=1)}

Source = str | Path | IO[bytes] | IO[str] | bytes


class CleaningError(ValueError):
    """The file cannot be used for this scorecard at all (empty, not CSV, columns missing)."""


@dataclass
class CleaningReport:
    """What cleaning read, kept, dropped and changed; `to_dict()` is JSON-able."""

    scorecard: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped_reasons: dict[str, int] = field(default_factory=dict)
    dropped_examples: dict[str, list[int]] = field(default_factory=dict)
    coerced: dict[str, dict[str, int]] = field(default_factory=dict)
    repaired: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_with_errors: int = 0
    # Rows kept with a value set missing because it was out of range or an unseen choice.
    rows_with_flags: int = 0
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    has_target: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return self.rows_read - self.rows_kept

    def drop(self, reason: str, row_numbers: pd.Series) -> None:
        if row_numbers.empty:
            return
        self.dropped_reasons[reason] = self.dropped_reasons.get(reason, 0) + len(row_numbers)
        examples = self.dropped_examples.setdefault(reason, [])
        room = MAX_EXAMPLES - len(examples)
        examples.extend(int(number) for number in row_numbers.iloc[:room])

    def count(self, table: dict[str, dict[str, int]], column: str, what: str, n: int) -> None:
        if n:
            per_column = table.setdefault(column, {})
            per_column[what] = per_column.get(what, 0) + int(n)

    def merge(self, other: CleaningReport) -> CleaningReport:
        """This report plus the report of the next chunk of the same file."""
        merged = CleaningReport(**asdict(self))
        merged.rows_read += other.rows_read
        merged.rows_kept += other.rows_kept
        merged.rows_with_errors += other.rows_with_errors
        merged.rows_with_flags += other.rows_with_flags
        for reason, n in other.dropped_reasons.items():
            merged.dropped_reasons[reason] = merged.dropped_reasons.get(reason, 0) + n
            examples = merged.dropped_examples.setdefault(reason, [])
            room = MAX_EXAMPLES - len(examples)
            examples.extend(other.dropped_examples.get(reason, [])[:room])
        for table_name in ("coerced", "repaired"):
            for column, counts in getattr(other, table_name).items():
                for what, n in counts.items():
                    merged.count(getattr(merged, table_name), column, what, n)
        merged.has_target = self.has_target or other.has_target
        merged.warnings += [w for w in other.warnings if w not in merged.warnings]
        return merged

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_dropped"] = self.rows_dropped
        return data

    def summary_lines(self) -> list[str]:
        """The report as short lines of text for a console or a log."""
        lines = [
            f"{self.scorecard}: read {self.rows_read} rows, kept {self.rows_kept}, "
            f"dropped {self.rows_dropped}, {self.rows_with_errors} rows with invalid values, "
            f"{self.rows_with_flags} rows with implausible values set missing"
        ]
        for reason, n in self.dropped_reasons.items():
            lines.append(f"  dropped {n}: {reason} (e.g. rows {self.dropped_examples[reason]})")
        for title, table in (("fixed", self.coerced), ("repaired", self.repaired)):
            for column, counts in table.items():
                for what, n in counts.items():
                    lines.append(f"  {title} {column}: {what} x{n}")
        for title, names in (
            ("missing columns", self.missing_columns),
            ("ignored columns", self.ignored_columns),
            ("extra columns", self.extra_columns),
        ):
            if names:
                lines.append(f"  {title}: {', '.join(names)}")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return lines


@dataclass
class CleaningResult:
    """The cleaned frame, its report, raw extra columns and per-row validation errors."""

    frame: pd.DataFrame
    report: CleaningReport
    extra_frame: pd.DataFrame
    # row_number -> field name -> the validator's messages, for rows kept in `frame`.
    row_errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # row_number -> the values set missing because they were implausible, for rows kept in
    # `frame`: [{"field": name, "rule": OUT_OF_RANGE | UNKNOWN_CHOICE, "value": raw text
    # (at most ECHO_LIMIT characters)}] in field order. A row may have flags and errors.
    row_flags: dict[int, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def has_target(self) -> bool:
        return self.report.has_target

    @property
    def valid_frame(self) -> pd.DataFrame:
        """Rows of `frame` without any invalid or missing required value."""
        return self.frame[~self.frame[ROW_NUMBER].isin(self.row_errors)]


# --- reading -----------------------------------------------------------------------------


def _head_bytes(source: Source, size: int = 65_536) -> tuple[bytes, Source]:
    """The first bytes of a source, and a source that can still be read from the start."""
    if isinstance(source, bytes):
        return source[:size], io.BytesIO(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise CleaningError(f"No such file: {path.name}.")
        with path.open("rb") as handle:
            return handle.read(size), path
    if hasattr(source, "seekable") and source.seekable():
        position = source.tell()
        head = source.read(size)
        source.seek(position)
        if isinstance(head, str):  # a text file object: its text, as UTF-8 bytes
            source = io.BytesIO(source.read().encode())
            head = source.read(size)
            source.seek(0)
    else:
        content = source.read()
        source = io.BytesIO(content.encode() if isinstance(content, str) else content)
        head = source.read(size)
        source.seek(0)
    return (head.encode() if isinstance(head, str) else head), source


def _sniff_quotechar(head: str) -> str:
    """ "'" for ARFF-style files whose header names are single-quoted (OpenML credit-g)."""
    first_line = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    return "'" if first_line.startswith("'") else '"'


# --- encodings --------------------------------------------------------------------------------

# Byte-order marks, longest first (UTF-32 LE's begins with UTF-16 LE's), and the codec that
# reads the file after them. A file without one is read as UTF-8 ("utf-8-sig" also drops
# a UTF-8 BOM); nothing is decoded with replacement characters.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}
_CHECK_BLOCK = 1024 * 1024
_HOW_TO_FIX = 'Save it as UTF-8 (in Excel: "CSV UTF-8") and upload it again.'


def csv_encoding(head: bytes) -> str:
    """The codec a CSV is read with, by its byte-order mark (UTF-8 without one)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return "utf-8-sig"


def head_text(source: Source, size: int = 65_536) -> str:
    """The first characters of a CSV, decoded as its readers decode it (a character cut at
    the end is left out)."""
    head, _ = _head_bytes(source, size)
    decoder = codecs.getincrementaldecoder(csv_encoding(head))("replace")
    return decoder.decode(head, final=False)


def csv_text_check(source: Source) -> str:
    """Decode the whole file once, strictly, and return its encoding's name ("UTF-8",
    "UTF-16", "UTF-32"). CleaningError naming the line (the header is line 1) when a byte
    is not of that encoding (a Windows-1252/Latin-1 file, say) or a NUL character appears
    anywhere: such a file is refused, never read with replacement characters or with NULs
    copied into a result. Every reader here calls it first, so training and bulk uploads
    are decoded by one rule."""
    head, source = _head_bytes(source)
    codec = csv_encoding(head)
    if codec == "utf-8-sig" and b"\x00" in head:
        raise CleaningError(_nul_message(codec, head, 0))
    decoder = codecs.getincrementaldecoder(codec)("strict")
    line = 1
    for block in [*_blocks(source), None]:
        try:
            text = decoder.decode(block or b"", final=block is None)
        except UnicodeDecodeError as error:
            raise CleaningError(_decode_message(codec, error, line)) from None
        nul = text.find("\x00")
        if nul >= 0:
            raise CleaningError(_nul_message(codec, head, line + text.count("\n", 0, nul)))
        line += text.count("\n")
    return ENCODING_NAMES[codec]


def _blocks(source: Source) -> Iterator[bytes]:
    """The bytes of a source `_head_bytes` returned, in blocks; a file object is left where
    it was."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield from iter(lambda: handle.read(_CHECK_BLOCK), b"")
        return
    position = source.tell()
    try:
        while block := source.read(_CHECK_BLOCK):
            yield block.encode() if isinstance(block, str) else block
    finally:
        source.seek(position)


def _decode_message(codec: str, error: UnicodeDecodeError, line: int) -> str:
    line += error.object[: error.start].count(b"\n")
    bad = error.object[error.start : error.start + 1]
    if codec != "utf-8-sig":
        return (
            f"The file starts with a {ENCODING_NAMES[codec]} byte-order mark, but line "
            f"{line:,} is not valid {ENCODING_NAMES[codec]}. {_HOW_TO_FIX}"
        )
    as_cp1252 = bad.decode("cp1252", errors="ignore")
    looks = f" ('{as_cp1252}' in Windows-1252/Latin-1)" if as_cp1252.isprintable() else ""
    return (
        f"The file is not UTF-8: line {line:,} has the byte 0x{bad.hex().upper()}{looks}, so "
        f"it looks like a Windows-1252 or Latin-1 file. {_HOW_TO_FIX}"
    )


def _nul_message(codec: str, head: bytes, line: int) -> str:
    """Why a NUL refuses the file: at line 0 (in its first bytes) it is binary, or UTF-16
    without a byte-order mark when every other byte is one."""
    if codec == "utf-8-sig" and line == 0:
        start = head[:64]
        if start[0::2].count(0) == len(start[0::2]) or start[1::2].count(0) == len(start[1::2]):
            return (
                "The file looks like UTF-16 without a byte-order mark. Save it as UTF-8 (in "
                'Excel: "CSV UTF-8") or as UTF-16 with a byte-order mark, and upload it again.'
            )
        return "The file is not a CSV text file (it contains binary data)."
    return (
        f"Line {line:,} contains a NUL character (byte 0x00): the file is binary or "
        "damaged. Remove it and upload the file again."
    )


def _field_too_long(row_number: int, column: str, length: int) -> CleaningError:
    return CleaningError(
        f"Row {row_number:,}, column '{column}': the value is {length:,} characters long; "
        f"the limit is {MAX_FIELD_CHARS:,}."
    )


def read_csv(source: Source, *, chunksize: int | None = None) -> Any:
    """Raw CSV as text columns (or an iterator of chunks); CleaningError for non-CSV input."""
    head, source = _head_bytes(source)
    codec = csv_encoding(head)
    text = head_text(head)
    if not text.strip("\ufeff \t\r\n"):
        raise CleaningError("The file is empty.")
    csv_text_check(source)
    # pandas decodes a path or a BytesIO itself; another file object (an upload) it could
    # take for text, so it gets the text, decoded by the same codec.
    stream = None
    if not isinstance(source, Path | io.BytesIO):
        stream = io.TextIOWrapper(source, encoding=codec, errors="strict", newline="")
    try:
        reader = pd.read_csv(
            stream or source,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quotechar=_sniff_quotechar(text),
            encoding=None if stream else codec,
            encoding_errors="strict",
            skip_blank_lines=True,
            chunksize=chunksize,
        )
    except pd.errors.EmptyDataError as error:
        raise CleaningError("The file is empty.") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise CleaningError(f"The file is not a readable CSV file: {error}") from error
    finally:
        if stream is not None and chunksize is None:
            with contextlib.suppress(ValueError):
                stream.detach()  # the caller's file stays open
    if chunksize is None:
        return _checked_fields(_strip_header(reader), first_row=1)
    return _checked_chunks(reader)


def _checked_fields(frame: pd.DataFrame, *, first_row: int) -> pd.DataFrame:
    """The frame, after refusing a value longer than MAX_FIELD_CHARS (the bulk reader's rule)."""
    for position, column in enumerate(frame.columns):
        lengths = frame.iloc[:, position].str.len()
        if len(lengths) and lengths.max() > MAX_FIELD_CHARS:
            row = int(np.argmax(lengths.to_numpy() > MAX_FIELD_CHARS))
            raise _field_too_long(first_row + row, str(column), int(lengths.iloc[row]))
    return frame


@dataclass
class CsvChunk:
    """Consecutive data rows of a CSV: the well-formed ones as a frame of text columns, and
    the malformed ones (a number of values unlike the header's) by row number with why."""

    frame: pd.DataFrame
    row_numbers: np.ndarray  # the frame's rows' data row numbers (1 = the first after the header)
    malformed: dict[int, str]
    first_row: int
    last_row: int


def read_csv_chunks(
    source: Source, *, rows: int, max_bytes: int | None = DEFAULT_CHUNK_BYTES
) -> Iterator[CsvChunk]:
    """A CSV in chunks of `rows` data rows or about `max_bytes` bytes of input (None: no byte
    bound), whichever comes first, without ever stopping at a malformed row: a row with more
    or fewer values than the header has columns is reported in its chunk's `malformed`, so a
    bulk job can record it and go on. (pandas' fast reader stops at a row with too many
    values, and reads a row with too few as if the missing ones were the last, which would
    score values under the wrong fields.) CleaningError when the file is empty, binary, not
    in its encoding, has a value longer than MAX_FIELD_CHARS, or stops being CSV text."""
    with _csv_rows(source) as (header, reader, position):
        columns = _unique_names([str(name).strip().strip("'\"").strip() for name in header])
        width, row_number = len(columns), 0
        rows_checked = _rows_checked(reader, position, columns)
        while block := _block(rows_checked, rows, max_bytes, position):
            malformed: dict[int, str] = {}
            if set(map(len, block)) == {width}:  # every row well-formed: the usual case
                numbers = np.arange(row_number + 1, row_number + len(block) + 1)
            else:
                block = [values for values in block if not _blank(values)]
                numbers = []
                for number, values in enumerate(block, start=row_number + 1):
                    if len(values) == width:
                        numbers.append(number)
                    else:
                        plural = "" if len(values) == 1 else "s"
                        malformed[number] = (
                            f"{len(values)} value{plural} where the header has {width} columns."
                        )
                if malformed:
                    block = [values for values in block if len(values) == width]
                numbers = np.array(numbers, dtype="int64")
            first_row = row_number + 1
            row_number += len(numbers) + len(malformed)
            if first_row > row_number:  # nothing but lines of spaces
                continue
            yield CsvChunk(
                frame=pd.DataFrame(block, columns=columns, dtype="str"),
                row_numbers=numbers,
                malformed=malformed,
                first_row=first_row,
                last_row=row_number,
            )


def _rows_checked(
    reader: Iterator[list[str]], position: Callable[[], int], columns: list[str]
) -> Iterator[list[str]]:
    """The rows, after refusing one holding a value longer than MAX_FIELD_CHARS, with its row
    number (counted as `read_csv_chunks` counts them) and column. Only a row that took more
    input than such a value needs looking at: the input's position tells, for a few
    nanoseconds a row."""
    number, last = 0, position()
    for values in reader:
        now = position()
        if now - last > MAX_FIELD_CHARS - 2 * _TEXT_BLOCK:
            longest = max(range(len(values)), key=lambda i: len(values[i]))
            if len(values[longest]) > MAX_FIELD_CHARS:
                column = columns[longest] if longest < len(columns) else f"#{longest + 1}"
                raise _field_too_long(number + 1, column, len(values[longest]))
        last = now
        if not _blank(values):
            number += 1
        yield values


def _block(
    rows_checked: Iterator[list[str]],
    rows: int,
    max_bytes: int | None,
    position: Callable[[], int],
) -> list[list[str]]:
    """The next rows of a chunk: up to `rows` of them, or fewer once about `max_bytes` bytes
    of input were read for them."""
    block: list[list[str]] = []
    start = position()
    for values in rows_checked:
        block.append(values)
        if len(block) >= rows or (max_bytes is not None and position() - start >= max_bytes):
            break
    return block


def count_csv_rows(source: Source) -> int:
    """The data rows `read_csv_chunks` reads (one fast pass; nothing is kept). It refuses a
    value over MAX_FIELD_CHARS as `read_csv_chunks` does, so a bulk job fails on one before
    it scores a row."""
    with _csv_rows(source) as (header, reader, position):
        return sum(1 for values in _rows_checked(reader, position, header) if not _blank(values))


def _blank(values: list[str]) -> bool:
    return len(values) == 1 and not values[0].strip()


@contextlib.contextmanager
def _csv_rows(source: Source):
    """(header, iterator of the rows after it, the input's position in bytes) of a CSV read
    as text. Empty lines are left out; a line of nothing but spaces is not, and `_blank`
    tells it (pandas skips both)."""
    head, source = _head_bytes(source)
    codec = csv_encoding(head)
    text = head_text(head)
    if not text.strip("\ufeff \t\r\n"):
        raise CleaningError("The file is empty.")
    csv_text_check(source)
    opened = open(source, "rb") if isinstance(source, Path) else None  # noqa: SIM115
    stream = io.TextIOWrapper(opened or source, encoding=codec, errors="strict", newline="")
    reader = csv.reader(stream, quotechar=_sniff_quotechar(text))
    try:
        rows = filter(None, reader)
        header = next((values for values in rows if not _blank(values)), None)
        if header is None:
            raise CleaningError("The file is empty.")
        yield header, rows, (opened or source).tell
    except csv.Error as error:
        if "field limit" in str(error):
            raise CleaningError(
                f"Line {reader.line_num:,} has a value longer than {MAX_FIELD_CHARS:,} "
                "characters, the limit for any value."
            ) from error
        raise CleaningError(
            f"The file is not a readable CSV file at line {reader.line_num}: {error}"
        ) from error
    finally:
        if opened is not None:
            opened.close()
        else:
            with contextlib.suppress(ValueError):  # the caller closed it first
                stream.detach()  # the caller's file stays open


def _unique_names(names: list[str]) -> list[str]:
    """Repeated column names made unique as pandas does: `a`, `a.1`, `a.2`..."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        candidate = name
        while candidate in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        seen[candidate] = 0
        unique.append(candidate)
    return unique


def _checked_chunks(reader: Any) -> Iterator[pd.DataFrame]:
    first_row = 1
    try:
        for chunk in reader:
            yield _checked_fields(_strip_header(chunk), first_row=first_row)
            first_row += len(chunk)
    except pd.errors.ParserError as error:
        raise CleaningError(f"The file is not a readable CSV file: {error}") from error


def _strip_header(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(name).strip().strip("'\"").strip() for name in df.columns]
    return df


# --- column mapping ------------------------------------------------------------------------


@dataclass
class _ColumnPlan:
    """Which raw column feeds which canonical column, and what is left over."""

    mapping: dict[str, str]  # raw header -> canonical name (field, target or grouping key)
    ignored: list[str]
    extra: list[str]


def _plan_columns(scorecard: Scorecard, headers: list[str]) -> _ColumnPlan:
    ignored_keys = {snake_case(name) for name in scorecard.ignored_sources}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    extra: list[str] = []
    taken: dict[str, str] = {}
    for header in headers:
        canonical = scorecard.canonical_column(header)
        # A snake_case column beats the original header when a file carries both.
        if canonical is not None and (canonical not in taken or header == canonical):
            if canonical in taken:
                del mapping[taken[canonical]]
                extra.append(taken[canonical])
            mapping[header] = canonical
            taken[canonical] = header
        elif snake_case(header) in ignored_keys:
            ignored.append(header)
        else:
            extra.append(header)
    return _ColumnPlan(mapping=mapping, ignored=ignored, extra=extra)


def _describe_column(scorecard: Scorecard, name: str) -> str:
    field_ = scorecard.fields_by_name.get(name)
    if field_ is not None and field_.source != field_.name:
        return f"{field_.source} ({field_.name})"
    if name == scorecard.target and scorecard.target_source != name:
        return f"{scorecard.target_source} ({name})"
    return name


def _check_columns(
    scorecard: Scorecard, plan: _ColumnPlan, *, require_target: bool, report: CleaningReport
) -> None:
    present = set(plan.mapping.values())
    missing_required = [f.name for f in scorecard.required_fields if f.name not in present]
    needed = list(missing_required)
    if require_target and scorecard.target not in present:
        needed.append(scorecard.target)
    if needed:
        names = ", ".join(_describe_column(scorecard, name) for name in needed)
        raise CleaningError(f"The file lacks required columns for {scorecard.key}: {names}.")
    report.missing_columns = [f.name for f in scorecard.fields if f.name not in present]
    if scorecard.grouping_key and scorecard.grouping_key not in present:
        report.missing_columns.append(scorecard.grouping_key)
        if require_target:
            report.warnings.append(
                f"No {scorecard.grouping_source or scorecard.grouping_key} column: every row "
                "is treated as a different customer when splitting."
            )
    report.ignored_columns = list(plan.ignored)
    report.extra_columns = list(plan.extra)
    report.renamed_columns = {raw: name for raw, name in plan.mapping.items() if raw != name}
    report.has_target = scorecard.target in present


# --- per-column cleaning -------------------------------------------------------------------


@dataclass
class _CleanColumn:
    values: pd.Series
    errors: pd.Series  # message per row, None where the value is fine
    blank: np.ndarray  # the raw cell is blank
    # Per row, the rule a refused but readable value broke (OUT_OF_RANGE, UNKNOWN_CHOICE;
    # see Field.dirty_rule), None elsewhere: such a value may be scored as missing.
    rules: pd.Series


def _clean_column(field_: Field, raw: pd.Series, report: CleaningReport) -> _CleanColumn:
    """Coerce each distinct raw value once, with the validator's rules, then map back."""
    codes, uniques = pd.factorize(raw, sort=False)
    uniques = np.asarray(uniques, dtype=object)
    counts = np.bincount(codes, minlength=len(uniques))
    if field_.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
        coerced = _coerce_numbers(field_, uniques, counts, report)
    else:
        coerced = _coerce_uniques(field_, uniques, counts, report)
    unique_values, unique_errors, unique_rules = coerced
    blank = np.zeros(len(uniques), dtype=bool)
    # Only values that ended up missing can be blank (a multi-choice blank means "none").
    if field_.kind == FieldKind.MULTI_CATEGORICAL:
        candidates = np.arange(len(uniques))
    else:
        candidates = np.flatnonzero(pd.isna(unique_values))
    blank[candidates] = [not str(u).strip() for u in uniques[candidates]]
    if field_.kind == FieldKind.MULTI_CATEGORICAL:
        report.count(report.coerced, field_.name, "blank read as none", counts[blank].sum())
    values = pd.Series(unique_values[codes], index=raw.index)
    if field_.kind == FieldKind.BOOLEAN:
        values = values.astype("boolean")
    elif field_.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
        values = values.astype("float64")
    else:
        values = values.where(values.notna(), np.nan).astype(object)
    errors = pd.Series(unique_errors[codes], index=raw.index, dtype=object)
    rules = pd.Series(unique_rules[codes], index=raw.index, dtype=object)
    return _CleanColumn(values=values, errors=errors, blank=blank[codes], rules=rules)


_Coerced = tuple[np.ndarray, np.ndarray, np.ndarray]  # values, errors, rules per unique


def _coerce_uniques(
    field_: Field, uniques: np.ndarray, counts: np.ndarray, report: CleaningReport
) -> _Coerced:
    """(values, errors, rules) per distinct raw value, through ml.schema.coerce_value."""
    values = np.empty(len(uniques), dtype=object)
    errors = np.full(len(uniques), None, dtype=object)
    rules = np.full(len(uniques), None, dtype=object)
    for position, unique in enumerate(uniques):
        value, error, note = coerce_value(field_, unique)
        if note:
            report.count(report.coerced, field_.name, note, counts[position])
        if isinstance(value, list):
            value = ", ".join(value)
        values[position] = np.nan if value is None else value
        errors[position] = error
        if error is not None:
            rules[position] = field_.dirty_rule(note)
    return values, errors, rules


def _coerce_numbers(
    field_: Field, uniques: np.ndarray, counts: np.ndarray, report: CleaningReport
) -> _Coerced:
    """Vectorised path for plain numbers; other text goes through coerce_value."""
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce")
    numbers = numbers.to_numpy(dtype="float64", na_value=np.nan)
    parsed = np.isfinite(numbers)
    errors = np.full(len(uniques), None, dtype=object)
    rules = np.full(len(uniques), None, dtype=object)
    scientific = np.zeros(len(uniques), dtype=bool)
    scientific[parsed] = [("e" in text or "E" in text) for text in uniques[parsed]]
    report.count(
        report.coerced,
        field_.name,
        "read scientific notation (e.g. 5e+05)",
        counts[scientific].sum(),
    )
    plain = parsed.copy()
    if field_.kind == FieldKind.INTEGER:
        fractional = plain & (np.where(plain, numbers, 0.0) % 1 != 0)  # no inf % 1
        errors[fractional] = WHOLE_NUMBER_MESSAGE
        report.count(
            report.coerced, field_.name, "not a whole number, set missing", counts[fractional].sum()
        )
        plain &= ~fractional
    low = -np.inf if field_.min_value is None else field_.min_value
    high = np.inf if field_.max_value is None else field_.max_value
    outside = plain & ((numbers < low) | (numbers > high))
    if outside.any():
        errors[outside] = [field_.range_message(number) for number in numbers[outside]]
        rules[outside] = OUT_OF_RANGE
        report.count(report.coerced, field_.name, field_.out_of_range_note, counts[outside].sum())
    values = np.where(plain & ~outside, numbers, np.nan).astype(object)
    rest = ~parsed
    if rest.any():
        slow_values, slow_errors, slow_rules = _coerce_uniques(
            field_, uniques[rest], counts[rest], report
        )
        values[rest] = slow_values
        errors[rest] = slow_errors
        rules[rest] = slow_rules
    return values, errors, rules


def _empty_column(field_: Field, index: pd.Index) -> pd.Series:
    if field_.kind == FieldKind.BOOLEAN:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    if field_.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series(np.nan, index=index, dtype=object)


def _repair_item_counts(scorecard: Scorecard, frame: pd.DataFrame, report: CleaningReport) -> None:
    """Set a count field from its list where the list is known and the count is not or differs."""
    for count_name, list_name in scorecard.item_counts.items():
        listed = frame[list_name].map(lambda text: len(split_multi(text) or []), na_action="ignore")
        repair = listed.notna() & frame[count_name].ne(listed)
        if repair.any():
            report.count(
                report.repaired,
                count_name,
                f"set to the number of items of {list_name}",
                repair.sum(),
            )
            frame.loc[repair, count_name] = listed[repair].astype("float64")


# --- per-customer repair -------------------------------------------------------------------


def _period_order(extra: pd.DataFrame, scorecard: Scorecard, size: int) -> np.ndarray:
    """Month number of each row when the file has a month column, else the row position."""
    if scorecard.period_source:
        for header in extra.columns:
            if snake_case(header) == snake_case(scorecard.period_source):
                months = extra[header].str.strip().str.lower().map(MONTH_NUMBERS)
                if months.notna().all():
                    return months.to_numpy(dtype=float)
    return np.arange(size, dtype=float)


def repair_by_group(
    scorecard: Scorecard, frame: pd.DataFrame, period: np.ndarray, report: CleaningReport
) -> pd.DataFrame:
    """Repair per-customer fields from the customer's other rows (multi-month files).

    constant: missing values, and values that disagree with a value held by a strict majority
    of the customer's rows, take that majority value (or, without a majority, missing values
    take the nearest row's); nearest: missing values take the nearest earlier (else later) row's
    value; months_elapsed: missing values are the nearest row's value shifted by the months
    between the two rows (credit history age grows by one month per month).
    """
    key = scorecard.grouping_key
    if key is None or key not in frame or frame.empty:
        return frame
    if not frame[key].duplicated().any():
        return frame
    order = np.lexsort((frame[ROW_NUMBER].to_numpy(), period, frame[key].to_numpy(dtype=str)))
    ordered = frame.iloc[order].copy()
    ordered_period = pd.Series(period[order], index=ordered.index)
    groups = ordered[key]
    for name, strategy in scorecard.group_repairs.items():
        if name not in ordered:
            continue
        column = ordered[name]
        before_missing = column.isna()
        if strategy == "months_elapsed":
            origin = (column - ordered_period).groupby(groups).ffill()
            origin = origin.fillna((column - ordered_period).groupby(groups).bfill())
            repaired = column.fillna(origin + ordered_period)
        elif strategy == "constant":
            majority = _majority_value(column, groups)
            disagree = column.notna() & majority.notna() & (column != majority)
            repaired = column.where(~disagree, majority).fillna(majority)
            report.count(
                report.repaired,
                name,
                "replaced by the value of most of the customer's months",
                int(disagree.sum()),
            )
            repaired = _fill_nearest(repaired, groups)
        else:
            repaired = _fill_nearest(column, groups)
        filled = before_missing & repaired.notna()
        report.count(report.repaired, name, "filled from the customer's other months", filled.sum())
        ordered[name] = repaired.astype(column.dtype)
    return ordered.loc[frame.index]


def _fill_nearest(column: pd.Series, groups: pd.Series) -> pd.Series:
    forward = column.groupby(groups).ffill()
    return forward.fillna(column.groupby(groups).bfill())


def _majority_value(column: pd.Series, groups: pd.Series) -> pd.Series:
    """Per row, the value held by more than half of its group's non-missing rows, else NaN."""
    present = pd.DataFrame({"group": groups, "value": column}).dropna()
    if present.empty:
        return pd.Series(np.nan, index=column.index, dtype=object)
    tallies = present.groupby(["group", "value"], sort=False).size().rename("n").reset_index()
    totals = present.groupby("group").size()
    tallies = tallies.sort_values("n", ascending=False).drop_duplicates("group")
    tallies = tallies[tallies["n"] * 2 > tallies["group"].map(totals)]
    majority = groups.map(tallies.set_index("group")["value"])
    return majority.astype(column.dtype) if column.dtype != "boolean" else majority


# --- the cleaner ---------------------------------------------------------------------------


def clean_frame(
    scorecard: Scorecard,
    df: pd.DataFrame,
    *,
    require_target: bool = False,
    first_row_number: int = 1,
    row_numbers: np.ndarray | None = None,
    repair_groups: bool = True,
) -> CleaningResult:
    """Clean an already-read frame of raw text (one chunk or a whole file).

    `first_row_number` is the source row number of df's first row, so chunks keep the
    file's numbering; `row_numbers`, when given, is every row's (a chunk that left out
    malformed rows). With `require_target`, rows whose target or grouping key is missing or
    invalid are dropped with a reason. Per-customer repair (`repair_groups`) only sees the
    rows of this frame: run it on the whole file, not per chunk.
    """
    report = CleaningReport(scorecard=scorecard.key, rows_read=len(df))
    df = df.reset_index(drop=True)
    for column in df.columns:
        if df[column].dtype != "str":
            df[column] = df[column].astype(object).where(df[column].notna(), "").astype(str)
    df.columns = [str(name).strip().strip("'\"").strip() for name in df.columns]
    plan = _plan_columns(scorecard, list(df.columns))
    _check_columns(scorecard, plan, require_target=require_target, report=report)
    by_name = {canonical: raw for raw, canonical in plan.mapping.items()}
    index = df.index
    if row_numbers is None:
        row_numbers = np.arange(len(df)) + first_row_number
    row_numbers = pd.Series(row_numbers, index=index)

    columns: dict[str, pd.Series] = {}
    errors: dict[str, pd.Series] = {}
    flagged: dict[str, pd.Series] = {}  # field -> rule per row (None where not flagged)
    empty_rows = np.ones(len(df), dtype=bool)
    for field_ in scorecard.fields:
        raw_header = by_name.get(field_.name)
        if raw_header is None:
            columns[field_.name] = _empty_column(field_, index)
            continue
        cleaned = _clean_column(field_, df[raw_header], report)
        columns[field_.name] = cleaned.values
        errors[field_.name] = cleaned.errors
        empty_rows &= cleaned.blank
        if field_.on_invalid == ON_INVALID_MISSING and cleaned.rules.notna().any():
            # Read but implausible: scored as missing and flagged, not an error. Such a
            # value was given, so a required field holding one is not "required" missing.
            flagged[field_.name] = cleaned.rules
            errors[field_.name] = cleaned.errors.where(cleaned.rules.isna(), None)
        if field_.required:
            missing_required = cleaned.values.isna() & cleaned.errors.isna()
            errors[field_.name] = errors[field_.name].mask(missing_required, REQUIRED_MESSAGE)

    frame = pd.DataFrame(columns, index=index)
    keep = pd.Series(True, index=index)

    empty_rows = pd.Series(empty_rows, index=index)
    report.drop("empty row", row_numbers[empty_rows])
    keep &= ~empty_rows

    if scorecard.target in by_name:
        frame[scorecard.target] = _clean_target(scorecard, df[by_name[scorecard.target]])
        if require_target:
            raw_target = df[by_name[scorecard.target]].str.strip()
            blank = keep & raw_target.eq("")
            invalid = keep & frame[scorecard.target].isna() & ~blank
            report.drop("target missing", row_numbers[blank])
            allowed = ", ".join(scorecard.classes)
            report.drop(f"target not one of {allowed}", row_numbers[invalid])
            keep &= ~(blank | invalid)

    if scorecard.grouping_key:
        if scorecard.grouping_key in by_name:
            group = df[by_name[scorecard.grouping_key]].str.strip()
            if require_target:
                no_group = keep & group.eq("")
                report.drop(f"{scorecard.grouping_source} missing", row_numbers[no_group])
                keep &= ~no_group
            frame[scorecard.grouping_key] = group.where(group.ne(""), np.nan).astype(object)
        else:
            frame[scorecard.grouping_key] = ("row-" + row_numbers.astype(str)).astype(object)
    frame[ROW_NUMBER] = row_numbers.astype("int64")

    extra_headers = [header for header in df.columns if header not in plan.mapping]
    extra_frame = df[extra_headers]

    frame = frame[keep]
    extra_frame = extra_frame[keep]
    row_errors = _collect_row_errors(errors, keep, row_numbers)
    raw_by_field = {name: df[by_name[name]] for name in flagged}
    row_flags = _collect_row_flags(flagged, raw_by_field, keep, row_numbers)
    _repair_item_counts(scorecard, frame, report)
    if repair_groups and scorecard.group_repairs and scorecard.grouping_key in by_name:
        period = _period_order(extra_frame, scorecard, len(frame))
        frame = repair_by_group(scorecard, frame, period, report)

    frame = frame.reset_index(drop=True)
    extra_frame = extra_frame.reset_index(drop=True)
    report.rows_kept = len(frame)
    report.rows_with_errors = len(row_errors)
    report.rows_with_flags = len(row_flags)
    return CleaningResult(
        frame=frame,
        report=report,
        extra_frame=extra_frame,
        row_errors=row_errors,
        row_flags=row_flags,
    )


def _clean_target(scorecard: Scorecard, raw: pd.Series) -> pd.Series:
    uniques = raw.unique()
    lookup = {token: scorecard.coerce_target(token) for token in uniques}
    return raw.map(lookup).where(lambda s: s.notna(), np.nan).astype(object)


def _collect_row_errors(
    errors: dict[str, pd.Series], keep: pd.Series, row_numbers: pd.Series
) -> dict[int, dict[str, list[str]]]:
    collected: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for name, messages in errors.items():
        bad = messages.notna() & keep
        for row_number, message in zip(row_numbers[bad], messages[bad], strict=True):
            collected[int(row_number)][name] = [message]
    return dict(sorted(collected.items()))


def _collect_row_flags(
    flagged: dict[str, pd.Series],
    raw: dict[str, pd.Series],
    keep: pd.Series,
    row_numbers: pd.Series,
) -> dict[int, list[dict[str, str]]]:
    """Row number -> its flags, in field order; only the flagged cells are looked at."""
    collected: dict[int, list[dict[str, str]]] = defaultdict(list)
    for name, rules in flagged.items():
        hit = rules.notna() & keep
        for row_number, rule, value in zip(
            row_numbers[hit], rules[hit], raw[name][hit], strict=True
        ):
            collected[int(row_number)].append(
                {"field": name, "rule": rule, "value": clipped(value)}
            )
    return dict(sorted(collected.items()))


def load_raw(
    scorecard: Scorecard,
    source: Source,
    *,
    require_target: bool = False,
    repair_groups: bool = True,
) -> CleaningResult:
    """Read a whole raw CSV (path, bytes or an uploaded file object) and clean it."""
    return clean_frame(
        scorecard, read_csv(source), require_target=require_target, repair_groups=repair_groups
    )


def iter_clean_chunks(
    scorecard: Scorecard,
    source: Source,
    *,
    chunksize: int = DEFAULT_CHUNK_SIZE,
    require_target: bool = False,
) -> Iterator[CleaningResult]:
    """Clean a large CSV chunk by chunk, keeping the file's row numbers (no per-customer repair).

    A malformed row (see `read_csv_chunks`) is dropped and listed in `row_errors`. Merge
    the chunks' reports with `CleaningReport.merge`.
    """
    for chunk in read_csv_chunks(source, rows=chunksize):
        result = clean_frame(
            scorecard,
            chunk.frame,
            require_target=require_target,
            row_numbers=chunk.row_numbers,
            repair_groups=False,
        )
        if chunk.malformed:
            numbers = pd.Series(sorted(chunk.malformed), dtype="int64")
            result.report.rows_read += len(numbers)
            result.report.drop("wrong number of values", numbers)
            not_read = {n: {"__all__": [f"Not read: {why}"]} for n, why in chunk.malformed.items()}
            result.row_errors = dict(sorted({**result.row_errors, **not_read}.items()))
            result.report.rows_with_errors = len(result.row_errors)
        yield result


def validate_frame(
    scorecard: Scorecard, df: pd.DataFrame, *, first_row_number: int = 1
) -> tuple[pd.DataFrame, dict[int, dict[str, list[str]]]]:
    """validate_inputs for many rows, as bulk rows are validated: (cleaned rows to score,
    errors by row number). Unlike `validate_inputs` (one applicant, a person to correct
    it), a value outside the range or an unseen choice of an `on_invalid="missing"` field
    is set missing and the row kept (see `clean_frame`'s `row_flags`)."""
    result = clean_frame(scorecard, df, first_row_number=first_row_number, repair_groups=False)
    return result.valid_frame.reset_index(drop=True), result.row_errors


def split_xy(
    scorecard: Scorecard, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series | None, pd.Series]:
    """(X: model fields only, protected excluded; y: target or None; groups for splitting)."""
    X = frame.loc[:, list(scorecard.model_field_names)]
    y = frame.get(scorecard.target)
    if scorecard.grouping_key and scorecard.grouping_key in frame:
        groups = frame[scorecard.grouping_key]
    else:
        groups = frame[ROW_NUMBER]
    return X, y, groups


def protected_frame(scorecard: Scorecard, frame: pd.DataFrame) -> pd.DataFrame:
    """The protected fields of a cleaned frame (for the fairness report), age included."""
    names = [f.name for f in scorecard.protected_fields]
    if "age" in scorecard.field_names and "age" not in names:
        names.append("age")
    return frame.loc[:, names]
