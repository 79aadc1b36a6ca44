"""Writes of the dashboard: a model version's profile, monitoring snapshots, data insights.

Each reads its inputs once (the training data again, or a window of predictions), calls the
pure functions of `ml.monitoring` / `ml.insights`, and stores plain JSON that the pages read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ml import insights as ml_insights
from ml import monitoring
from ml.cleaning import load_raw, protected_frame
from ml.model import ScoringModel
from ml.pipeline import model_input_frame
from ml.policy import approve_classes, expected_cost
from ml.schema import FieldKind, Scorecard
from ml.scorecards import SCORECARDS, get_scorecard
from ml.split import labelled_rows, split_scorecard_frame
from ml.synthetic import synthetic_frame
from ml.train import frame_sha256
from scoring import selectors as scoring_selectors
from scoring.models import Decision, ModelVersion, Prediction, TrainingDataset, TrainingJob
from scoring.services.training import SYNTHETIC_ROWS, training_data_load
from scoring.serving import model_version_load

from .models import DatasetInsight, ModelVersionProfile, MonitoringSnapshot, PredictionDailyStats
from .selectors import prediction_groups, rolled_up_until, start_of_day

COST_CURVE_POINTS = 101
MIN_GROUP_ROWS = 20  # a fairness group smaller than this is listed but never flagged
MIN_OUTCOME_ROWS = 20  # a month with fewer realised outcomes gets no AUC alert
AUC_DROP_ALERT = 0.05  # realised AUC this far below the test AUC raises an alert
NUMBER_KINDS = (FieldKind.NUMERIC, FieldKind.INTEGER)
DISTRIBUTION_KINDS = (*NUMBER_KINDS, FieldKind.CATEGORICAL, FieldKind.BOOLEAN)


@dataclass(frozen=True)
class VersionData:
    frame: pd.DataFrame  # labelled rows, in the order training saw them
    description: str
    sha256: str
    reproduced: bool


def _candidate_frames(version: ModelVersion, scorecard: Scorecard):
    """(description, frame) of every data source the version may have been trained on."""
    job = (
        TrainingJob.objects.filter(model_version=version, dataset__isnull=False)
        .select_related("dataset")
        .first()
    )
    if job is not None:
        with job.dataset.file.open("rb") as handle:
            cleaned = load_raw(scorecard, handle.read(), require_target=True)
        yield job.dataset.original_name, cleaned.frame
    data = training_data_load(scorecard=scorecard)
    yield data.description, data.frame
    if not data.synthetic and version.is_synthetic:
        yield "demo — synthetic data", synthetic_frame(scorecard, n=SYNTHETIC_ROWS, seed=0)


def version_training_data(
    *, version: ModelVersion, scorecard: Scorecard, frame: pd.DataFrame | None = None
) -> VersionData:
    """The version's training rows, found again by their sha256; else the data at hand.

    When no source hashes to the version's `training_data_sha256`, the scorecard's current
    data is used and the profile says the split is not the one the report was measured on.
    """
    sources = [("given frame", frame)] if frame is not None else []
    fallback = None
    for description, candidate in [*sources, *_candidate_frames(version, scorecard)]:
        labelled = labelled_rows(scorecard, candidate)
        digest = frame_sha256(labelled)
        if digest == version.training_data_sha256:
            return VersionData(labelled, description, digest, True)
        fallback = fallback or VersionData(labelled, description, digest, False)
        if frame is not None:
            break  # a given frame is used as it is
    return fallback


def _reference(model: ScoringModel, rows: pd.DataFrame, points: np.ndarray) -> dict:
    inputs = {}
    for name in model.input_fields:
        field = model.scorecard.field(name)
        if field.kind not in DISTRIBUTION_KINDS:
            continue  # multi-choice lists have no single value to bin
        values = rows[name]
        if field.kind in NUMBER_KINDS:
            profile = monitoring.reference_numeric(pd.to_numeric(values, errors="coerce"))
        else:
            profile = monitoring.reference_categorical(_category_values(values))
        inputs[name] = {**profile, "label": field.label, "field_kind": str(field.kind)}
    return {
        "rows": int(len(rows)),
        "score": monitoring.reference_numeric(points.astype(float)),
        "inputs": inputs,
    }


def _category_values(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _cost_curve(model: ScoringModel, version: ModelVersion, y, proba) -> dict:
    """Expected cost per applicant of a yes/no cut-off at every threshold, on the test split."""
    scorecard = model.scorecard
    risk = proba[:, -1]
    approved_as = approve_classes(proba)
    good = y != len(scorecard.classes) - 1
    points = []
    for threshold in np.linspace(0, 1, COST_CURVE_POINTS):
        declined = risk >= threshold
        decisions = np.where(declined, 2, 0)
        points.append(
            {
                "threshold": round(float(threshold), 4),
                "expected_cost": round(
                    expected_cost(y, decisions, scorecard.cost_matrix, 0.0, approved_as), 6
                ),
                "approval_rate": round(float((~declined).mean()), 6),
                "good_wrongly_declined_rate": round(
                    float((declined & good).sum() / max(good.sum(), 1)), 6
                ),
            }
        )
    policy = version.report.get("policy") or version.policy or {}
    forest = (version.report.get("metrics") or {}).get("random_forest", {})
    return {
        "points": points,
        "rows": int(len(y)),
        "cut_off": version.report.get("cut_off"),
        "approve_below": policy.get("approve_below"),
        "decline_from": policy.get("decline_from"),
        "policy_expected_cost": (forest.get("decisions") or {}).get("expected_cost"),
        "cost_matrix": [list(row) for row in scorecard.cost_matrix],
        "cost_rationale": scorecard.cost_rationale,
    }


def _fairness(model: ScoringModel, test_rows: pd.DataFrame, y, proba) -> dict:
    """Approval and predicted risk by protected group and age band, on the test split."""
    scorecard = model.scorecard
    risk = proba[:, -1]
    approved = model.policy.decision_codes(risk) == 0
    bad = y == len(scorecard.classes) - 1
    protected = protected_frame(scorecard, test_rows)
    attributes = []
    for name in protected.columns:
        field = scorecard.field(name)
        if name == "age":
            groups = [monitoring.age_band(v) for v in pd.to_numeric(protected[name])]
            label = "Age band"
        else:
            labels = field.choice_labels if field.choices else {}
            groups = [
                monitoring.MISSING if v is None else labels.get(str(v), str(v))
                for v in protected[name]
            ]
            label = field.label
        order = monitoring.age_band_order() if name == "age" else None
        result = monitoring.disparate_impact(
            groups, approved, risk, min_rows=MIN_GROUP_ROWS, order=order
        )
        frame = pd.DataFrame({"group": groups, "bad": bad})
        observed = frame.groupby("group")["bad"].mean().to_dict()
        for row in result["groups"]:
            row["observed_bad_rate"] = float(observed.get(row["group"], float("nan")))
        attributes.append({"field": name, "label": label, **result})
    return {
        "rows": int(len(test_rows)),
        "approval_rule": "approved = risk below the policy's approve_below threshold",
        "protected_excluded": [f.name for f in scorecard.protected_fields],
        "model_inputs": model.input_fields,
        "min_group_rows": MIN_GROUP_ROWS,
        "attributes": attributes,
    }


@transaction.atomic
def model_version_profile_compute(
    *, version: ModelVersion, frame: pd.DataFrame | None = None
) -> ModelVersionProfile:
    """Score the version's training data again: reference distributions, cost curve, fairness.

    `frame` (a cleaned frame) replaces the search for the training data, for tests and for
    data that lives elsewhere.
    """
    started = time.monotonic()
    scorecard = get_scorecard(version.scorecard)
    model = model_version_load(version)
    data = version_training_data(version=version, scorecard=scorecard, frame=frame)
    split_frame = split_scorecard_frame(
        scorecard, data.frame, random_state=int(model.metadata.get("random_state", 42))
    )
    y, split = split_frame.y, split_frame.indices
    proba = model.pipeline.predict_proba(model_input_frame(scorecard, data.frame))
    points = np.asarray(model.scaling.points(model.population_risk(proba)))
    test = split.test
    profile, _ = ModelVersionProfile.objects.update_or_create(
        model_version=version,
        defaults={
            "data_description": data.description[:300],
            "data_sha256": data.sha256,
            "data_reproduced": data.reproduced,
            "rows": split.sizes(),
            "reference": _reference(model, data.frame.iloc[split.train], points[split.train]),
            "cost_curve": _cost_curve(model, version, y[test], proba[test]),
            "fairness": _fairness(model, data.frame.iloc[test], y[test], proba[test]),
            "seconds": round(time.monotonic() - started, 2),
        },
    )
    return profile


def model_version_profile_get_or_compute(*, version: ModelVersion) -> ModelVersionProfile:
    profile = ModelVersionProfile.objects.filter(model_version=version).first()
    return profile or model_version_profile_compute(version=version)


# --- monitoring -------------------------------------------------------------------------------


def _window_values(predictions, reference: dict) -> tuple[list[float], dict[str, list]]:
    """Points and the referenced inputs of a window's predictions, read in chunks."""
    points: list[float] = []
    inputs: dict[str, list] = {name: [] for name in reference["inputs"]}
    numeric = {n for n, r in reference["inputs"].items() if r["kind"] == "numeric"}
    for row_points, row_inputs in predictions.values_list("points", "inputs").iterator(
        chunk_size=5000
    ):
        points.append(float(row_points))
        for name, values in inputs.items():
            value = row_inputs.get(name)
            if name in numeric:
                values.append(np.nan if value is None else float(value))
            else:
                values.append(None if value is None else str(value))
    return points, inputs


def _performance_by_month(scorecard: Scorecard) -> list[dict]:
    """ROC-AUC and bad rate, by month of the prediction, of decided applications' outcomes."""
    worst = scorecard.worst_class
    rows = (
        Decision.objects.filter(reopened_at__isnull=True, application__scorecard=scorecard.key)
        .annotate(outcome_class=scoring_selectors.outcome_class_of(OuterRef("application_id")))
        .filter(outcome_class__isnull=False)
        .annotate(month=TruncMonth("prediction__created_at"))
        .values_list("month", "prediction__risk", "outcome_class")
        .order_by("month")
    )
    by_month: dict = {}
    for month, risk, outcome in rows:
        by_month.setdefault(month, ([], []))
        by_month[month][0].append(risk)
        by_month[month][1].append(outcome == worst)
    result = []
    for month, (risks, bads) in by_month.items():
        bads_array = np.asarray(bads, dtype=bool)
        auc = None
        if 0 < bads_array.sum() < len(bads_array):
            from sklearn.metrics import roc_auc_score

            auc = round(float(roc_auc_score(bads_array, risks)), 4)
        result.append(
            {
                "month": month.strftime("%Y-%m"),
                "rows": len(risks),
                "bad_rate": round(float(bads_array.mean()), 4),
                "mean_predicted_risk": round(float(np.mean(risks)), 4),
                "roc_auc": auc,
            }
        )
    return result


def _alerts(scorecard, version, count, score, inputs, performance, profile) -> list[dict]:
    alerts = []
    label = f"{scorecard.label} v{version.version}"
    if count == 0:
        alerts.append({"level": "info", "message": f"{label}: no predictions in the window."})
    if score["band"] in ("watch", "act"):
        alerts.append(
            {
                "level": score["band"],
                "message": f"{label}: the score distribution moved (PSI {score['psi']:.3f}).",
            }
        )
    for item in inputs:
        if item["band"] in ("watch", "act"):
            alerts.append(
                {
                    "level": item["band"],
                    "message": f"{label}: input '{item['label']}' moved (PSI {item['psi']:.3f}).",
                }
            )
    test_auc = ((version.metrics or {}).get("random_forest") or {}).get("roc_auc")
    for month in performance:
        if (
            test_auc is not None
            and month["roc_auc"] is not None
            and month["rows"] >= MIN_OUTCOME_ROWS
            and month["roc_auc"] < test_auc - AUC_DROP_ALERT
        ):
            alerts.append(
                {
                    "level": "act",
                    "message": f"{label}: ROC-AUC on realised outcomes of {month['month']} is "
                    f"{month['roc_auc']:.3f}, against {test_auc:.3f} on the test split.",
                }
            )
    if not profile.data_reproduced:
        alerts.append(
            {
                "level": "info",
                "message": f"{label}: its training data was not found again; the reference "
                f"distributions come from {profile.data_description}.",
            }
        )
    order = {"act": 0, "watch": 1, "info": 2}
    return sorted(alerts, key=lambda a: order[a["level"]])


def monitoring_snapshot_take(
    *, scorecard_key: str, window_days: int | None = None, now=None
) -> MonitoringSnapshot | None:
    """PSI of the production model's score and inputs over the last window, and alerts."""
    scorecard = get_scorecard(scorecard_key)
    version = scoring_selectors.model_version_production(scorecard_key=scorecard_key)
    if version is None:
        return None
    profile = model_version_profile_get_or_compute(version=version)
    window_days = window_days or settings.MONITORING_WINDOW_DAYS
    end = now or timezone.now()
    start = end - timedelta(days=window_days)
    predictions = Prediction.objects.filter(
        model_version=version, created_at__gte=start, created_at__lt=end
    ).order_by()
    points, inputs = _window_values(predictions, profile.reference)
    reference = profile.reference
    score = monitoring.stability(reference["score"], points)
    input_rows = []
    for name, ref in reference["inputs"].items():
        result = monitoring.stability(ref, inputs[name])
        input_rows.append(
            {"field": name, "label": ref["label"], "psi": result["psi"], "band": result["band"]}
        )
    input_rows.sort(key=lambda r: -(r["psi"] or 0))
    performance = _performance_by_month(scorecard)
    bands = [score["band"], *(r["band"] for r in input_rows)]
    worst = next((b for b in ("act", "watch", "stable") if b in bands), "unknown")
    snapshot = MonitoringSnapshot(
        scorecard=scorecard_key,
        model_version=version,
        window_start=start,
        window_end=end,
        predictions=len(points),
        psi_score=score["psi"],
        score_band=score["band"],
        worst_band=worst,
        score_distribution={
            "labels": reference["score"]["labels"],
            "reference": reference["score"]["shares"],
            "window": score.get("shares") or [],
        },
        inputs=input_rows,
        performance=performance,
        alerts=_alerts(scorecard, version, len(points), score, input_rows, performance, profile),
    )
    snapshot.full_clean()
    snapshot.save()
    return snapshot


def monitoring_snapshots_take_all(*, now=None) -> list[int]:
    """A snapshot for every scorecard that has a production model (the periodic task)."""
    taken = []
    for key in SCORECARDS:
        snapshot = monitoring_snapshot_take(scorecard_key=key, now=now)
        if snapshot is not None:
            taken.append(snapshot.pk)
    return taken


# --- portfolio roll-up ------------------------------------------------------------------------


def predictions_roll_up(*, today=None) -> int:
    """Aggregate every ended day not rolled up yet into PredictionDailyStats; rows added."""
    today = today or timezone.localdate()
    last = rolled_up_until()
    predictions = Prediction.objects.filter(created_at__lt=start_of_day(today))
    if last is not None:
        predictions = predictions.filter(created_at__gte=start_of_day(last + timedelta(days=1)))
    rows = [
        PredictionDailyStats(
            day=row["day"],
            scorecard=row["scorecard"],
            recommendation=row["recommendation"],
            points_bucket=row["bucket"],
            predictions=row["n"],
            sum_points=row["sum_points"],
            sum_risk=row["sum_risk"],
        )
        for row in prediction_groups(predictions, by_day=True)
    ]
    # A concurrent roll-up of the same days cannot count them twice: the rows are unique.
    with transaction.atomic():
        PredictionDailyStats.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


# --- data insights ----------------------------------------------------------------------------


def dataset_insight_compute(
    *,
    scorecard_key: str,
    dataset: TrainingDataset | None = None,
    frame: pd.DataFrame | None = None,
    description: str = "",
) -> DatasetInsight:
    """Class balance, target by feature, correlations, tests and segments of a dataset.

    Reads a stored training dataset, else the scorecard's extract; `frame` (a cleaned frame,
    with its `description`) replaces both, for tests and for data that lives elsewhere.
    """
    started = time.monotonic()
    scorecard = get_scorecard(scorecard_key)
    if frame is not None:
        description, synthetic = description or "given frame", False
        digest = frame_sha256(labelled_rows(scorecard, frame))
    elif dataset is not None:
        with dataset.file.open("rb") as handle:
            content = handle.read()
        frame = load_raw(scorecard, content, require_target=True).frame
        description, synthetic = dataset.original_name, False
        digest = dataset.sha256
    else:
        data = training_data_load(scorecard=scorecard)
        frame, description, synthetic = data.frame, data.description, data.synthetic
        digest = frame_sha256(labelled_rows(scorecard, frame))
    result = ml_insights.dataset_insights(scorecard, labelled_rows(scorecard, frame))
    insight, _ = DatasetInsight.objects.update_or_create(
        scorecard=scorecard_key,
        data_sha256=digest,
        defaults={
            "dataset": dataset,
            "data_description": description[:300],
            "synthetic": synthetic,
            "result": result,
            "seconds": round(time.monotonic() - started, 2),
        },
    )
    return insight
