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
    """`safe_cell` applied to every cell of a frame (a bulk result has millions of cells)."""
    out = pd.DataFrame(
        {i: pd.Series(safe_cells(frame.iloc[:, i]), dtype=object) for i in range(frame.shape[1])}
    )
    out.index = frame.index
    out.columns = [safe_cell(name) for name in frame.columns]
    return out


def safe_cells(column: pd.Series) -> list[str]:
    """`safe_cell` of each cell of a column, fast.

    One C-level search of the cells joined by newlines tells whether any cell can start
    with a formula character at all; most columns stop there. The others look at each
    cell's first character, then test the few candidates as `safe_cell` does. (A cell
    holding a newline can only make the quick search say "maybe", never "no".)
    """
    return safe_texts(column.fillna("").astype(str).tolist())


def safe_texts(cells: list) -> list[str]:
    """`safe_cells` of a column given as a list (None and NaN become empty cells)."""
    if set(map(type, cells)) != {str}:
        cells = ["" if cell is None or cell != cell else str(cell) for cell in cells]
    joined = "\n" + "\n".join(cells)
    if any("\n" + start in joined for start in FORMULA_START):
        cells = [
            "'" + text if text[:1] in _FORMULA_FIRST and _is_formula(text) else text
            for text in cells
        ]
    return cells


_FORMULA_FIRST = frozenset(FORMULA_START)


def _is_formula(text: str) -> bool:
    """For a cell starting with a formula character: anything but a plain signed number."""
    if text[:1] in "+-" and text[1:].isdigit():  # most are negative whole numbers: -1, -34016
        return False
    return not _PLAIN_NUMBER.fullmatch(text)


def safe_csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """A frame as CSV text, every cell (header included) made safe. Written by Python's C
    csv writer straight from the safe columns, which costs less than `DataFrame.to_csv`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow([safe_cell(name) for name in frame.columns])
    columns = [safe_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


def safe_csv_columns(columns: list[list]) -> str:
    """Columns given as lists, as CSV text without a header, every cell made safe (no frame
    built for it: a bulk result part is written this way)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(zip(*map(safe_texts, columns), strict=True))
    return buffer.getvalue()


def safe_csv_rows(rows: Iterable[Iterable]) -> str:
    """Rows of plain values as CSV text, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()
