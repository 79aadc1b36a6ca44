"""Where the public training files live; the app must also run on a machine without them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.cleaning import CleaningReport, load_raw
from ml.schema import Scorecard
from ml.synthetic import synthetic_frame

DATA_DIR_ENV = "CREDITPORTAL_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"


class DataFileMissing(FileNotFoundError):
    """A scorecard's data file is not on this machine."""


def configured_data_dir() -> Path:
    """$CREDITPORTAL_DATA_DIR, else ../shared/data next to the repository (may not exist)."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_DATA_DIR


def data_dir() -> Path | None:
    """The data directory, or None when it does not exist on this machine."""
    candidate = configured_data_dir()
    return candidate if candidate.is_dir() else None


def data_file(relative_path: str) -> Path | None:
    """A file inside the data directory, or None when the directory or the file is absent."""
    directory = data_dir()
    if directory is None:
        return None
    path = directory / relative_path
    return path if path.is_file() else None


def scorecard_data_path(scorecard: Scorecard, relative_path: str | None = None) -> Path | None:
    """The scorecard's training file (or another of its `data_files`), None if absent."""
    return data_file(relative_path or scorecard.training_file)


def require_scorecard_data(scorecard: Scorecard, relative_path: str | None = None) -> Path:
    """Like scorecard_data_path, but raise DataFileMissing with a clear message."""
    path = scorecard_data_path(scorecard, relative_path)
    if path is None:
        wanted = relative_path or scorecard.training_file
        where = configured_data_dir()
        raise DataFileMissing(
            f"No data file {wanted!r} for scorecard {scorecard.key!r} in {where}. "
            f"Set {DATA_DIR_ENV} to the folder holding the public data sets."
        )
    return path


@dataclass
class TrainingData:
    """A cleaned training frame and where it came from."""

    frame: pd.DataFrame
    report: CleaningReport | None
    source: str  # the data file's name, or "synthetic"
    synthetic: bool
    sha256: str | None  # of the data file; None for synthetic data


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_training_data(
    scorecard: Scorecard,
    path: Path | str | None = None,
    *,
    synthetic_rows: int = 2000,
    seed: int = 0,
) -> TrainingData:
    """The cleaned real training file (`path`, else the scorecard's); synthetic if absent.

    An explicit `path` that does not exist raises CleaningError: only the scorecard's default
    file may silently fall back to the labelled synthetic sample.
    """
    resolved = Path(path) if path is not None else scorecard_data_path(scorecard)
    if resolved is None:
        frame = synthetic_frame(scorecard, n=synthetic_rows, seed=seed)
        return TrainingData(
            frame=frame, report=None, source="synthetic", synthetic=True, sha256=None
        )
    result = load_raw(scorecard, resolved, require_target=True)
    return TrainingData(
        frame=result.frame,
        report=result.report,
        source=resolved.name,
        synthetic=False,
        sha256=file_sha256(resolved),
    )
