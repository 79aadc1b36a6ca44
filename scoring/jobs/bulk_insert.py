"""Many rows into one table in one statement: COPY on PostgreSQL, executemany elsewhere.

The ORM's `bulk_create` prepares values field by field, which dominated a bulk job's time;
here the statement is built once from the model's own table and column names, and the
caller hands plain tuples in column order (JSON columns already encoded as text).

On PostgreSQL the rows travel in COPY's text format, one tab-separated line per row; the
text can be built where the rows are made (`rows_for`), in the processes that score them,
rather than on the worker that commits them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

Rows = list[tuple] | str  # tuples in column order, or their COPY text


def rows_for(rows: list[tuple], vendor: str) -> Rows:
    """The rows as `insert` will send them to a database of `vendor`."""
    return copy_text(rows) if vendor == "postgresql" else rows


def insert(model: type[models.Model], columns: Sequence[str], rows: Rows) -> None:
    """Insert `rows` (values of the model's fields `columns`, in that order) in one statement.

    Runs in the caller's transaction; constraints still hold (a duplicate row fails it).
    """
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = rows if isinstance(rows, str) else copy_text(rows)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                copy.write(text)
            return
        values = ", ".join("%s" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values})", rows)


def copy_text(rows: list[tuple]) -> str:
    """Rows in PostgreSQL's COPY text format: a line per row, values separated by tabs.

    Built column by column: most columns of a chunk are one repeated value or plain text
    that needs no escape, which one C-level pass over the column tells, instead of looking
    at every value.
    """
    if not rows:
        return ""
    columns = [_copy_text_column(values) for values in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_text_column(values: tuple) -> list[str] | tuple[str, ...]:
    if set(map(type, values)) != {str}:  # numbers, None, datetimes, or a mix
        if len(set(map(id, values))) == 1:  # one object: the job's id, the chunk's time...
            return [copy_text_value(values[0])] * len(values)
        return list(map(copy_text_value, values))
    joined = "".join(values)
    if not any(special in joined for special in "\\\t\n\r"):
        return values
    distinct = set(values)
    if len(distinct) * 4 < len(values):  # a few distinct values over many rows
        escaped = {value: _escape(value) for value in distinct}
        return [escaped[value] for value in values]
    return [_escape(value) for value in values]


def _escape(text: str) -> str:
    """A backslash, tab, newline or carriage return as its backslash escape. Chained
    replacements: each is one C-level pass, where `str.translate` with a table looks up
    every character."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def copy_text_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format: \\N for NULL; in text, a backslash, tab,
    newline or carriage return written as its backslash escape."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
