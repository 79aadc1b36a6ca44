"""Where the public training files live; the app must also run on a machine without them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.cleaning import CleaningReport, load_raw
from ml.schema import Scorecard
from ml.synthetic import synthetic_frame


class DataFileMissing(FileNotFoundError):
    """A scorecard's data file is not on this machine."""


def scorecard_data_path(
    scorecard: Scorecard, data_dir: Path | None, relative_path: str | None = None
) -> Path | None:
    """The scorecard's training file (or another of its `data_files`) inside `data_dir`;
    None when the folder or the file is absent.

    `data_dir` is the caller's: the Django app passes its `CREDITPORTAL_DATA_DIR` setting,
    a script (the benchmarks) that same setting. `ml/` never reads the environment for it.
    """
    wanted = relative_path or scorecard.training_file
    if data_dir is None or not wanted or not Path(data_dir).is_dir():
        return None
    path = Path(data_dir) / wanted
    return path if path.is_file() else None


def require_scorecard_data(
    scorecard: Scorecard, data_dir: Path | None, relative_path: str | None = None
) -> Path:
    """Like scorecard_data_path, but raise DataFileMissing with a clear message."""
    path = scorecard_data_path(scorecard, data_dir, relative_path)
    if path is None:
        wanted = relative_path or scorecard.training_file
        raise DataFileMissing(
            f"No data file {wanted!r} for scorecard {scorecard.key!r} in {data_dir}. "
            "Point the data directory (CREDITPORTAL_DATA_DIR) at the folder holding the "
            "public data sets."
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
    data_dir: Path | None = None,
    synthetic_rows: int = 2000,
    seed: int = 0,
) -> TrainingData:
    """The cleaned real training file (`path`, else the scorecard's in `data_dir`); synthetic
    if absent.

    An explicit `path` that does not exist raises CleaningError: only the scorecard's default
    file may silently fall back to the labelled synthetic sample.
    """
    resolved = Path(path) if path is not None else scorecard_data_path(scorecard, data_dir)
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
