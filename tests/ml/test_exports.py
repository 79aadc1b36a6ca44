"""Every exported CSV cell is safe to open in a spreadsheet (formula injection)."""

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.exports import safe_cell, safe_csv_rows, safe_csv_text, safe_frame


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "\r'=1"),  # each line of a cell, as a spreadsheet may see a new cell there
        ("note\r=cmd|' /C calc'!A0", "note\r'=cmd|' /C calc'!A0"),
        ("a\r\n@SUM(1)\n-5\n+x", "a\r\n'@SUM(1)\n-5\n'+x"),
        ("-12.5", "-12.5"),  # a plain number is data, left alone
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("12", "12"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (None, ""),
        (-7, "-7"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_frame_matches_safe_cell_and_escapes_headers():
    frame = pd.DataFrame(
        {"=HEADER": ["=1", "-5", "-5-5", "ok", None], "n": ["1", "2", "3", "4", "5"]}
    )
    safe = safe_frame(frame)
    assert list(safe.columns) == ["'=HEADER", "n"]
    assert safe["'=HEADER"].tolist() == ["'=1", "-5", "'-5-5", "ok", ""]
    assert safe["n"].tolist() == ["1", "2", "3", "4", "5"]


def test_safe_csv_rows():
    assert safe_csv_rows([["a", "=b"], ["-1", "@c"]]) == "a,'=b\r\n-1,'@c\r\n"


@pytest.mark.parametrize("cell", ["note\r=1+1", "note\n=1+1", "note\r\n=1+1", "\r"])
def test_a_cell_with_a_line_break_stays_one_quoted_cell(cell):
    """Python's csv writer quotes only the characters of its line terminator: with `\n`
    alone, a lone `\r` went out unquoted and a spreadsheet started a new row there."""
    text = safe_csv_rows([["first", cell, "last"]])
    assert text.startswith('first,"') and text.endswith('",last\r\n')
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["first", safe_cell(cell), "last"]]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="=+-@\t\r\n.e0123456789ab ,\"'", max_size=8),
            st.integers(-(10**6), 10**6),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_safe_frame_agrees_with_safe_cell_on_any_column(values):
    """The vectorised path (quick search per column, then per cell) equals the rule cell by
    cell, multi-line cells included."""
    frame = pd.DataFrame({"column": pd.Series(values, dtype=object)})
    assert safe_frame(frame)["column"].tolist() == [safe_cell(v) for v in values]


def test_safe_csv_text_writes_the_safe_frame():
    frame = pd.DataFrame({"=a": ["=1", "x,y", 'say "hi"', None], "b": ["-1", "-1-1", "2", "@"]})
    rows = list(csv.reader(io.StringIO(safe_csv_text(frame))))
    safe = safe_frame(frame)
    assert rows[0] == list(safe.columns)
    assert rows[1:] == safe.to_numpy().tolist()
