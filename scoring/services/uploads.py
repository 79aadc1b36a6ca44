"""The checks every uploaded CSV passes before anything is stored, and its stored name."""

import hashlib
import os
import uuid

from django.core.exceptions import ValidationError

from ml.cleaning import CleaningError, clean_frame, read_csv_chunks
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
    """Refuse a file that is not a CSV, has no data row, or lacks required columns (or the
    target), judging by its first rows."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    lines = head.splitlines()
    if len(head) == HEAD_BYTES and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    try:
        first = next(
            read_csv_chunks(b"\n".join(lines[: HEAD_ROWS + 1]) + b"\n", rows=HEAD_ROWS), None
        )
        if first is not None:
            clean_frame(scorecard, first.frame, require_target=require_target, repair_groups=False)
    except CleaningError as error:
        raise ValidationError({"file": str(error)}) from None
    if first is None:
        raise ValidationError({"file": "The file has a header but no data row."})


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
