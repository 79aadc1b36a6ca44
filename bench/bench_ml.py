"""Scoring speed: one applicant through ScoringModel.predict_one, and a 100,000-row batch.

Trains each scorecard with its fixed hyperparameters (no search) on the real extract when
the data directory has it, otherwise on a seeded synthetic sample, then measures:

- single row: p50 / p99 of predict_one over 1,000+ calls (validate -> features ->
  probabilities and path contributions -> points -> band -> recommendation -> 4 reasons
  -> segment), plus sklearn's own predict_proba on one row for comparison;
- batch: rows per second of predict_frame (with reason sentences) on 100,000 rows.

Usage: .venv/bin/python bench/bench_ml.py [--rows 100000] [--runs 1000] [--scorecard KEY]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.cleaning import load_raw  # noqa: E402
from ml.datasets import scorecard_data_path  # noqa: E402
from ml.scorecards import SCORECARDS, get_scorecard  # noqa: E402
from ml.synthetic import synthetic_frame  # noqa: E402
from ml.train import train_scorecard  # noqa: E402


def data_dir() -> Path:
    """The app's one data-directory setting (CREDITPORTAL_DATA_DIR)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creditportal.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # only its data-directory setting is read
    from django.conf import settings

    return settings.CREDITPORTAL_DATA_DIR


def training_frame(key: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(training frame, its rows that pass validation, where it came from)."""
    scorecard = get_scorecard(key)
    path = scorecard_data_path(scorecard, data_dir())
    if path is not None:
        cleaned = load_raw(scorecard, path)
        return cleaned.frame, cleaned.valid_frame, "real extract"
    frame = synthetic_frame(scorecard, 5000, seed=0)
    return frame, frame, "synthetic sample"


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q) * 1000)


def bench_scorecard(key: str, runs: int, batch_rows: int) -> dict:
    scorecard = get_scorecard(key)
    frame, valid, source = training_frame(key)
    started = time.perf_counter()
    model = train_scorecard(
        scorecard, frame, search=False, baselines=False, permutation=False
    ).model
    train_seconds = time.perf_counter() - started
    frame = frame.reset_index(drop=True)
    valid = valid.reset_index(drop=True)
    rows = [
        {name: valid[name].iloc[i] for name in scorecard.field_names}
        for i in range(min(len(valid), 200))
    ]
    raw_rows = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in rows]
    for row in raw_rows[:20]:  # warm-up
        model.predict_one(row)
    single = []
    for i in range(runs):
        row = raw_rows[i % len(raw_rows)]
        tick = time.perf_counter()
        model.predict_one(row)
        single.append(time.perf_counter() - tick)
    sklearn_single = []
    inputs = frame.loc[:, model.input_fields]
    for i in range(min(runs, 200)):
        one = inputs.iloc[[i % len(inputs)]]
        tick = time.perf_counter()
        model.pipeline.predict_proba(one)
        sklearn_single.append(time.perf_counter() - tick)
    repeats = int(np.ceil(batch_rows / len(frame)))
    batch = pd.concat([frame] * repeats, ignore_index=True).iloc[:batch_rows]
    tick = time.perf_counter()
    model.predict_frame(batch)
    batch_seconds = time.perf_counter() - tick
    forest = model.pipeline.named_steps["forest"]
    return {
        "scorecard": key,
        "data": source,
        "trees": forest.n_estimators,
        "nodes": int(sum(tree.tree_.node_count for tree in forest.estimators_)),
        "train_s": train_seconds,
        "p50_ms": percentile_ms(single, 50),
        "p99_ms": percentile_ms(single, 99),
        "sklearn_p50_ms": percentile_ms(sklearn_single, 50),
        "batch_rows": batch_rows,
        "rows_per_s": batch_rows / batch_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--scorecard", choices=sorted(SCORECARDS), action="append")
    args = parser.parse_args()
    keys = args.scorecard or ["card_default", "german_credit", "credit_score"]
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    results = [bench_scorecard(key, args.runs, args.rows) for key in keys]
    print(
        "\n| scorecard | data | trees | nodes | train (s) | predict_one p50 (ms) "
        "| p99 (ms) | sklearn predict_proba 1 row p50 (ms) | batch rows/s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['scorecard']} | {r['data']} | {r['trees']} | {r['nodes']:,} "
            f"| {r['train_s']:.1f} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['sklearn_p50_ms']:.2f} "
            f"| {r['rows_per_s']:,.0f} |"
        )
    print(
        f"\npredict_one: {args.runs} calls; batch: predict_frame on {args.rows:,} rows with reasons"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
