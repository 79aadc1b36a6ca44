"""CSV files the app hands to people: every cell is made safe for spreadsheets.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return) can be run as a
formula by Excel, LibreOffice or Google Sheets (CSV / formula injection, OWASP). Such a
cell gets a leading apostrophe, which spreadsheets show as text and do not evaluate.

One exception, chosen on purpose: a cell that is *only* a number (`-12.5`, `+3`, `-1e-05`)
is data, not a formula, and spreadsheets read it as that number; escaping it would turn
every negative balance of an input file into text. So a plain signed decimal number is
left alone, and anything else starting with one of those characters (`-2+3`, `=1+1`,
`-cmd|...`, `@SUM(...)`) is escaped.
"""

import csv
import io
import re
from collections.abc import Iterable

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value) -> str:
    """One exported cell as text a spreadsheet will not evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`safe_cell` applied to every cell of a frame, vectorised (a bulk result has millions)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column].fillna("").astype(str)
        risky = values.str.startswith(FORMULA_START)
        if risky.any():
            candidates = values[risky]
            # Most are negative whole numbers (-1, -34016): a cheap test first, the regex after.
            number = candidates.str.startswith(("-", "+")) & candidates.str[1:].str.isdigit()
            if not number.all():
                number[~number] = candidates[~number].str.fullmatch(_PLAIN_NUMBER.pattern)
            risky[risky] = ~number.astype(bool)
            if risky.any():
                values = values.mask(risky, "'" + values)
        out[column] = values
    out.columns = [safe_cell(name) for name in out.columns]
    return out


def safe_csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """A frame as CSV text, every cell (header included) made safe."""
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False, header=header, lineterminator="\n")
    return buffer.getvalue()


def safe_csv_rows(rows: Iterable[Iterable]) -> str:
    """Rows of plain values as CSV text, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()
