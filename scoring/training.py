"""Training a scorecard from the data at hand and registering the result as a model version."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.cleaning import CleaningReport, load_raw
from ml.datasets import scorecard_data_path
from ml.schema import Scorecard
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from ml.train import train_scorecard

from .models import ModelVersion
from .services import model_version_register

SYNTHETIC_ROWS = 4000
Progress = Callable[[str, float, str], None]


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame
    description: str
    synthetic: bool
    cleaning: CleaningReport | None


def training_data_load(*, scorecard: Scorecard, path: Path | None = None) -> TrainingData:
    """The scorecard's real public extract when present, else a seeded synthetic sample."""
    path = path or scorecard_data_path(scorecard)
    if path is not None:
        cleaned = load_raw(scorecard, path, require_target=True)
        description = f"{path.name} ({cleaned.report.rows_kept:,} rows after cleaning)"
        return TrainingData(cleaned.frame, description, False, cleaned.report)
    frame = synthetic_frame(scorecard, n=SYNTHETIC_ROWS, seed=0)
    description = f"demo — synthetic data ({SYNTHETIC_ROWS:,} rows generated from the schema)"
    return TrainingData(frame, description, True, None)


def model_train_and_register(
    *,
    scorecard_key: str,
    search: bool,
    created_by=None,
    path: Path | None = None,
    progress: Progress | None = None,
    notes: str = "",
) -> ModelVersion:
    """Train one scorecard and store it as a candidate version (promotion is separate)."""
    scorecard = get_scorecard(scorecard_key)
    data = training_data_load(scorecard=scorecard, path=path)
    if progress:
        progress("cleaning", 1.0, data.description)
    result = train_scorecard(
        scorecard, data.frame, search=search, synthetic=data.synthetic, progress=progress
    )
    if data.cleaning is not None:
        result.report["cleaning"] = data.cleaning.to_dict()
    return model_version_register(
        result=result,
        created_by=created_by,
        training_data_description=data.description,
        notes=notes,
    )
