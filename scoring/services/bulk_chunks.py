"""What one chunk of a bulk scoring job produces: its part of the result file, and the
prediction and row-error rows its commit stores.

`chunk_score` runs where the job's pipeline puts it (a forked scoring process), so it reads
nothing from the database and writes only its own part file. The parts are joined in file
order into the result by `result_write` once every chunk is scored.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from ml.cleaning import ROW_NUMBER, CsvChunk, clean_frame
from ml.exports import safe_csv_columns, safe_csv_rows
from ml.flags import flag_counts_add, flags_cell
from ml.model import ScoringModel
from ml.reasons import JSON_SEPARATORS
from ml.schema import FieldKind, Scorecard, split_multi
from scoring.jobs.bulk_insert import Rows, rows_for
from scoring.models import BatchScoringJob, Prediction

from .uploads import stored_name

ERROR_COLUMN = "error"
FLAGS_COLUMN = "flags"

# The columns of a bulk job's prediction rows, in the order `chunk_score` makes them.
PREDICTION_COLUMNS = (
    "scorecard",
    "model_version",
    "inputs",
    "predicted_class",
    "probabilities",
    "risk",
    "points",
    "band",
    "band_label",
    "recommendation",
    "reasons",
    "segment",
    "flags",
    "requested_by",
    "source",
    "latency_ms",
    "created_at",
    "batch_job",
    "row_number",
)


def result_columns(model: ScoringModel) -> list[str]:
    """The columns a bulk result adds after the input's own columns."""
    columns = ["predicted_class", *(f"probability_{c}" for c in model.classes)]
    columns += ["score", "band", "recommendation", "reasons", "reason_codes"]
    if model.segmenter is not None:
        columns += ["segment", "segment_description"]
    return [*columns, FLAGS_COLUMN, ERROR_COLUMN]


def result_header(input_columns: list[str], model: ScoringModel) -> list[str]:
    """Names of the added columns in a result file. One that an input column already uses
    (a lender's file may well have its own `score` or `error`) is prefixed with
    `creditportal_`, so both are kept, each under a name of its own."""
    taken = set(input_columns)
    header = []
    for name in result_columns(model):
        while name in taken:
            name = f"creditportal_{name}"
        taken.add(name)
        header.append(name)
    return header


def part_name(job: BatchScoringJob, chunk_index: int) -> str:
    return f"batch/results/job-{job.pk}/part-{chunk_index:06d}.csv"


@dataclass
class ChunkContext:
    """What scoring a chunk needs besides the chunk: fixed for the job's run."""

    job: BatchScoringJob
    scorecard: Scorecard
    model: ScoringModel
    vendor: str  # the database's: PostgreSQL gets its rows as COPY text


@dataclass
class ChunkResult:
    """A scored chunk: its result part is written; these are what its commit stores."""

    last_row: int  # the chunk's last row number
    rows: int
    valid: int
    invalid: int
    flagged: int  # valid rows scored with 1 or more implausible values set missing
    flag_counts: dict[str, dict[str, int]]  # their flags, by field and rule
    predictions: Rows  # in PREDICTION_COLUMNS order
    row_errors: list[tuple[int, str, str]]  # (row number, field, message)


def chunk_score(context: ChunkContext, chunk: CsvChunk, chunk_index: int) -> ChunkResult:
    """Score one chunk and write its part of the result file; return what its commit stores."""
    job, scorecard, model = context.job, context.scorecard, context.model
    started = time.perf_counter()
    rows = chunk.last_row - chunk.first_row + 1
    cleaned = clean_frame(
        scorecard, chunk.frame, row_numbers=chunk.row_numbers, repair_groups=False
    )
    kept = set(cleaned.frame[ROW_NUMBER].tolist())
    errors: dict[int, dict[str, list[str]]] = dict(cleaned.row_errors)
    for row_number in chunk.row_numbers.tolist():
        if row_number not in kept:
            errors[row_number] = {"__all__": ["Empty row: no value in any column."]}
    for row_number, reason in chunk.malformed.items():
        errors[row_number] = {"__all__": [f"Not read: {reason}"]}
    valid = cleaned.frame[~cleaned.frame[ROW_NUMBER].isin(errors)].reset_index(drop=True)
    # Flags of the rows scored (a row in error is not scored: its flags go with it).
    flags = {n: found for n, found in cleaned.row_flags.items() if n not in errors}
    flag_counts: dict[str, dict[str, int]] = {}
    for found in flags.values():
        flag_counts_add(flag_counts, found)
    scored = (
        model.predict_frame(valid, reasons=True, details=True)
        if len(valid)
        else pd.DataFrame(columns=model.output_columns(reasons=True, details=True))
    )
    _part_write(job, chunk_index, model, chunk, valid, scored, errors, flags)
    predictions = _prediction_rows(job, model, scorecard, valid, scored, flags, started)
    return ChunkResult(
        last_row=chunk.last_row,
        rows=rows,
        valid=len(valid),
        invalid=len(errors),
        flagged=len(flags),
        flag_counts=flag_counts,
        predictions=rows_for(predictions, context.vendor),
        row_errors=[
            (row_number, name, message[:500])
            for row_number, by_field in errors.items()
            for name, messages in by_field.items()
            for message in messages[:1]
        ],
    )


def _part_write(job, chunk_index, model, chunk, valid, scored, errors, flags) -> None:
    """The chunk's part of the result: each input row as read (blank for a malformed row),
    then its prediction (with the values it scored as missing) or its error."""
    first_row, rows = chunk.first_row, chunk.last_row - chunk.first_row + 1
    raw = chunk.frame
    if chunk.malformed:
        raw = pd.DataFrame("", index=range(rows), columns=raw.columns, dtype="str")
        raw.iloc[chunk.row_numbers - first_row] = chunk.frame.to_numpy()
    added = {name: np.full(rows, "", dtype=object) for name in result_columns(model)}
    positions = (valid[ROW_NUMBER].to_numpy() - first_row).astype(int)
    if len(valid):
        values = {
            "predicted_class": scored["predicted_class"],
            "score": scored["points"].astype(int).astype(str),
            "band": scored["band"],
            "recommendation": scored["recommendation"],
            "reasons": scored["reasons"],
            "reason_codes": scored["reason_codes"],
        }
        for name in model.classes:
            values[f"probability_{name}"] = scored[f"probability_{name}"].round(6).astype(str)
        if model.segmenter is not None:
            values["segment"] = scored["segment"].astype(int).astype(str)
            values["segment_description"] = scored["segment_description"]
        for column, series in values.items():
            added[column][positions] = series.to_numpy()
    for row_number, found in flags.items():
        added[FLAGS_COLUMN][row_number - first_row] = flags_cell(found)
    for row_number, by_field in errors.items():
        added[ERROR_COLUMN][row_number - first_row] = "; ".join(
            f"{'row' if name == '__all__' else name}: {' '.join(messages)}"
            for name, messages in by_field.items()
        )
    part = safe_csv_columns(
        [*(raw[column].tolist() for column in raw.columns), *(v.tolist() for v in added.values())]
    )
    name = part_name(job, chunk_index)
    if default_storage.exists(name):  # left by an attempt that died before committing
        default_storage.delete(name)
    default_storage.save(name, ContentFile(part.encode()))


def _json_lines(frame: pd.DataFrame) -> list[str]:
    """Each row of a frame as a JSON object (pandas' C encoder: missing values are null)."""
    if frame.empty:
        return []
    return frame.to_json(orient="records", lines=True, double_precision=15).splitlines()


def _prediction_rows(job, model, scorecard, valid, scored, flags, started) -> list[tuple]:
    """One tuple per valid row, in PREDICTION_COLUMNS order (JSON already encoded): the same
    audit record a single prediction stores, reasons included."""
    if not len(valid):
        return []
    inputs = valid[list(scorecard.field_names)].copy()
    for field_ in scorecard.fields:
        if field_.kind == FieldKind.MULTI_CATEGORICAL:
            inputs[field_.name] = inputs[field_.name].map(split_multi).astype(object)
    probability_columns = {f"probability_{c}": c for c in model.classes}
    probabilities = scored[list(probability_columns)].rename(columns=probability_columns)
    if model.segmenter is not None:
        segments = pd.DataFrame(
            {
                "id": scored["segment"].astype(int).to_numpy(),
                "description": scored["segment_description"].to_numpy(),
            }
        )
    else:
        segments = pd.DataFrame({"id": [None] * len(valid), "description": [""] * len(valid)})
    latency_ms = (time.perf_counter() - started) * 1000 / len(valid)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    constant: dict[str, Any] = {
        "scorecard": job.scorecard,
        "model_version": job.model_version_id,
        "requested_by": job.owner_id,
        "source": Prediction.Source.BATCH.value,
        "latency_ms": latency_ms,
        "created_at": now,
        "batch_job": job.pk,
    }
    columns: dict[str, list] = {
        "inputs": _json_lines(inputs),
        "predicted_class": scored["predicted_class"].tolist(),
        "probabilities": _json_lines(probabilities),
        "risk": scored["risk"].clip(0.0, 1.0).tolist(),
        "points": scored["points"].astype(int).tolist(),
        "band": scored["band"].tolist(),
        "band_label": scored["band_label"].tolist(),
        "recommendation": scored["recommendation"].tolist(),
        "reasons": scored["reason_details"].tolist(),
        "segment": _json_lines(segments),
        "flags": [
            json.dumps(flags[n], separators=JSON_SEPARATORS) if n in flags else "[]"
            for n in valid[ROW_NUMBER].tolist()
        ],
        "row_number": valid[ROW_NUMBER].tolist(),
    }
    n = len(valid)
    return list(
        zip(
            *(
                columns[name] if name in columns else [constant[name]] * n
                for name in PREDICTION_COLUMNS
            ),
            strict=True,
        )
    )


def result_write(job: BatchScoringJob, model: ScoringModel, header: list[str], chunks: int) -> str:
    """Concatenate the chunks' parts under one safe header, through the storage API."""
    columns = [*header, *result_header(header, model)]
    with tempfile.TemporaryFile() as assembled:
        assembled.write(safe_csv_rows([columns]).encode())
        for chunk_index in range(chunks):
            with default_storage.open(part_name(job, chunk_index), "rb") as part:
                shutil.copyfileobj(part, assembled, length=1024 * 1024)
        assembled.seek(0)
        stem = os.path.splitext(job.original_name)[0][:60] or "result"
        return default_storage.save(
            f"batch/results/job-{job.pk}/{stored_name(stem + '-scored')}", File(assembled)
        )
