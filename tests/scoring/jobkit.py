"""CSV files for the job tests: synthetic applicants with known invalid rows."""

from django.core.files.uploadedfile import SimpleUploadedFile

from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame

# row number (1-based) -> (column, bad value, field reported): values that make the row an
# error (they cannot be read, or a required one is blank).
INVALID = {
    3: ("AGE", "abc", "age"),
    7: ("SEX", "", "sex"),
    10: ("LIMIT_BAL", "1O0000", "limit_bal"),  # a letter O for a zero
}

# (row number, column, implausible value, field, rule): read, but outside the range or none
# of the choices, so bulk scoring sets them missing and flags the prediction. Row 15 has two.
IMPLAUSIBLE = [
    (4, "LIMIT_BAL", "5700000", "limit_bal", "out_of_range"),
    (12, "EDUCATION", "doctorate", "education", "unknown_choice"),
    (15, "AGE", "-500", "age", "out_of_range"),
    (15, "PAY_AMT1", "99000000", "pay_amt1", "out_of_range"),
]


def card_default_csv(
    rows: int, *, seed: int = 0, invalid: dict | None = None, implausible: bool = False
) -> bytes:
    """The public UCI layout (upper-case headers, an ID column, the label) with bad rows
    (INVALID unless `invalid` says otherwise) and, with `implausible`, the IMPLAUSIBLE values."""
    scorecard = get_scorecard("card_default")
    frame = synthetic_frame(scorecard, n=rows, seed=seed)
    frame = frame.drop(columns=["row_number"])
    frame = frame.rename(columns={f.name: f.source for f in scorecard.fields})
    frame = frame.rename(columns={scorecard.target: scorecard.target_source})
    frame.insert(0, "ID", [f"C{n:07d}" for n in range(1, rows + 1)])
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    for column in text.columns:
        text[column] = text[column].str.replace(r"\.0$", "", regex=True)
    for row_number, (column, value, _) in (INVALID if invalid is None else invalid).items():
        if row_number <= rows:
            text.loc[row_number - 1, column] = value
    for row_number, column, value, _, _ in IMPLAUSIBLE if implausible else ():
        if row_number <= rows:
            text.loc[row_number - 1, column] = value
    return text.to_csv(index=False).encode()


def upload(content: bytes, name: str = "applicants.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")
