"""CSV files for the job tests: synthetic applicants with known invalid rows."""

from django.core.files.uploadedfile import SimpleUploadedFile

from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame

# row number (1-based) -> (column, bad value, field reported)
INVALID = {
    3: ("AGE", "abc", "age"),
    7: ("SEX", "", "sex"),
    10: ("LIMIT_BAL", "-5", "limit_bal"),
}


def card_default_csv(rows: int, *, seed: int = 0, invalid: dict | None = None) -> bytes:
    """The public UCI layout (upper-case headers, an ID column, the label) with bad rows."""
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
    return text.to_csv(index=False).encode()


def upload(content: bytes, name: str = "applicants.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")
