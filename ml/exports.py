"""CSV files handed to people: every cell is made safe for spreadsheets. The one exporter of
the project: the bulk result, the outcomes export, the dashboard's tables and the command line
all write through it.

A cell starting with `=`, `+`, `-` or `@` (or a tab) can be run as a formula by Excel,
LibreOffice or Google Sheets (CSV / formula injection, OWASP). Such a cell gets a leading
apostrophe, which spreadsheets show as text and do not evaluate. A cell holding line breaks is
looked at line by line (a spreadsheet, or a tool that splits on line breaks, may take any line
for the start of a cell), and it is always written quoted: the files end their rows with
`\r\n` (RFC 4180), so Python's csv writer quotes a lone `\r` as well as `\n`.

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
LINE_END = "\r\n"  # rows end as RFC 4180 says; cells holding \r or \n are then quoted
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def safe_cell(value) -> str:
    """One exported cell as text a spreadsheet will not evaluate, on any of its lines."""
    text = "" if value is None else str(value)
    if "\r" in text or "\n" in text:
        parts = _LINE_BREAK.split(text)  # lines at even places, their breaks between
        return "".join(part if i % 2 else _safe_line(part) for i, part in enumerate(parts))
    return _safe_line(text)


def _safe_line(text: str) -> str:
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
    with a formula character at all, or holds a line break; most columns stop there. The
    others look at each cell's first character, then test the few candidates as `safe_cell`
    does; a column with a line break in some cell goes through `safe_cell` whole.
    """
    if column.dtype.kind == "f":  # NaN becomes "" (pandas will not fill a float with text)
        column = column.astype(object)
    return safe_texts(column.fillna("").astype(str).tolist())


def safe_texts(cells: list) -> list[str]:
    """`safe_cells` of a column given as a list (None and NaN become empty cells)."""
    if set(map(type, cells)) != {str}:
        cells = ["" if cell is None or cell != cell else str(cell) for cell in cells]
    joined = "\n" + "\n".join(cells)
    if "\r" in joined or joined.count("\n") != len(cells):  # some cell has a line break
        return [safe_cell(text) for text in cells]
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
    writer = csv.writer(buffer, lineterminator=LINE_END)
    if header:
        writer.writerow([safe_cell(name) for name in frame.columns])
    columns = [safe_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


def safe_csv_columns(columns: list[list]) -> str:
    """Columns given as lists, as CSV text without a header, every cell made safe (no frame
    built for it: a bulk result part is written this way)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerows(zip(*map(safe_texts, columns), strict=True))
    return buffer.getvalue()


def safe_csv_rows(rows: Iterable[Iterable]) -> str:
    """Rows of plain values as CSV text, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()
