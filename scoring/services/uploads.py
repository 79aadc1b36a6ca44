"""The checks every uploaded CSV passes before anything is stored, and its stored name."""

import csv
import hashlib
import io
import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError

from ml.cleaning import CleaningError, clean_frame, csv_text_check, head_text, read_csv_chunks
from ml.schema import Scorecard
from ml.scorecards import SCORECARDS, get_scorecard

CSV_SUFFIXES = (".csv", ".txt")
HEAD_BYTES = 1024 * 1024
HEAD_ROWS = 200


def scorecard_or_error(scorecard_key: str) -> Scorecard:
    if scorecard_key not in SCORECARDS:
        raise ValidationError({"scorecard": f"Unknown scorecard '{scorecard_key}'."})
    return get_scorecard(scorecard_key)


def upload_check(upload, *, max_mb: int) -> None:
    """A CSV by its name, not empty, within `max_mb`; ValidationError on `file` otherwise."""
    name = getattr(upload, "name", "") or ""
    if not name.lower().endswith(CSV_SUFFIXES):
        raise ValidationError({"file": "Upload a CSV file (a name ending in .csv)."})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if upload.size > max_mb * 1024 * 1024:
        raise ValidationError(
            {"file": f"The file is {upload.size / 1024**2:.1f} MB; the limit is {max_mb} MB."}
        )


def upload_check_header(scorecard: Scorecard, upload, *, require_target: bool = False) -> None:
    """Refuse a file that is not a CSV, has more than UPLOAD_MAX_COLUMNS columns, no data row,
    or lacks required columns (or the target), judging by its first rows; and one that is not
    text in its encoding (`upload_check_text`, which reads it whole)."""
    upload.seek(0)
    text = head_text(upload, HEAD_BYTES)
    lines = text.split("\n")  # as the readers split lines (quoted values aside)
    cut = upload.size > HEAD_BYTES
    if cut:
        lines = lines[:-1]  # the last line may be cut in the middle
        if not lines:
            raise ValidationError({"file": "The header line is longer than 1 MB."})
    head = "\n".join(lines[: HEAD_ROWS + 1]).encode() + b"\n"
    first_line = next((line for line in lines if line.strip()), "")
    try:
        header = next(csv.reader(io.StringIO(first_line, newline="")), [])
    except csv.Error:  # a name over the csv module's limit: the readers name it below
        header = []
    max_columns = settings.UPLOAD_MAX_COLUMNS
    if len(header) > max_columns:
        raise ValidationError(
            {
                "file": f"The file has {len(header):,} columns; the limit is {max_columns:,}. "
                "Remove the columns the scorecard does not use."
            }
        )
    upload_check_text(upload)
    try:
        first = next(read_csv_chunks(head, rows=HEAD_ROWS), None)
        if first is not None:
            clean_frame(scorecard, first.frame, require_target=require_target, repair_groups=False)
    except CleaningError as error:
        raise ValidationError({"file": str(error)}) from None
    if first is None and not cut:
        raise ValidationError({"file": "The file has a header but no data row."})
    # A first data row longer than the head (hundreds of long values) is judged by the job.


def upload_check_text(upload) -> str:
    """The file read whole once (about a second for 400 MB): refused unless it is UTF-8,
    UTF-16 or UTF-32 text without a NUL character, with a message naming the line and,
    for a Windows-1252/Latin-1 file, how to save it as UTF-8. Returns the encoding's name.
    The readers (`ml.cleaning`) decode by the same rule, so a job cannot fail on it later."""
    try:
        return csv_text_check(upload)
    except CleaningError as error:
        raise ValidationError({"file": str(error)}) from None
    finally:
        upload.seek(0)


def upload_sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for block in upload.chunks():
        digest.update(block)
    upload.seek(0)
    return digest.hexdigest()


def stored_name(original_name: str) -> str:
    """A name for storage: random prefix, the original stem made safe, `.csv`."""
    stem = os.path.splitext(os.path.basename(original_name))[0][:60] or "upload"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    return f"{uuid.uuid4().hex[:12]}-{safe}.csv"
