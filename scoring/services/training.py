"""Retraining: the data a scorecard is trained on, training jobs, the comparison of a
candidate with production, auto-promotion, and each scorecard's job settings and schedule.

A training job ends with a *candidate* version; promotion is a separate act (a credit
manager's, or the auto-promotion rule a credit manager switched on).
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from applicants.scorecards import declaration_scorecard, scorecard_to_train
from creditportal.errors import ApplicationError, JobQueueUnavailable
from ml.cleaning import CleaningError, CleaningReport, load_raw
from ml.datasets import load_training_data
from ml.evaluate import evaluate_predictions
from ml.pipeline import model_input_frame
from ml.schema import Scorecard
from ml.scorecards import get_scorecard
from ml.split import split_scorecard_frame
from ml.train import headline_metrics, train_scorecard
from scoring import selectors
from scoring.jobs import lifecycle
from scoring.jobs.models import JobStatus
from scoring.models import ModelVersion, ScorecardJobSettings, TrainingDataset, TrainingJob
from scoring.serving import model_version_load

from .registry import model_version_promote_automatic, model_version_register
from .uploads import scorecard_or_error

log = logging.getLogger(__name__)

SYNTHETIC_ROWS = 4000
MIN_TRAINING_ROWS = 100
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
Progress = Callable[[str, float, str], None]


# --- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame
    description: str
    synthetic: bool
    cleaning: CleaningReport | None


def training_data_load(*, scorecard: Scorecard, path: Path | None = None) -> TrainingData:
    """`path`, else the scorecard's extract in CREDITPORTAL_DATA_DIR, else a seeded synthetic
    sample (labelled as such wherever the model it trains appears)."""
    data = load_training_data(
        scorecard,
        path,
        data_dir=settings.CREDITPORTAL_DATA_DIR,
        synthetic_rows=SYNTHETIC_ROWS,
        seed=0,
    )
    if data.synthetic:
        description = f"demo — synthetic data ({SYNTHETIC_ROWS:,} rows generated from the schema)"
    else:
        description = f"{data.source} ({data.report.rows_kept:,} rows after cleaning)"
    return TrainingData(data.frame, description, data.synthetic, data.report)


def model_train_and_register(
    *,
    scorecard_key: str,
    search: bool,
    created_by=None,
    path: Path | None = None,
    progress: Progress | None = None,
    notes: str = "",
) -> ModelVersion:
    """Train one scorecard in this process and store it as a candidate (the command line's
    and the first start's way; managers use training jobs)."""
    scorecard, _ = scorecard_to_train(scorecard_key)
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


# --- training jobs ------------------------------------------------------------------------------


def training_job_create(
    *,
    scorecard_key: str,
    dataset: TrainingDataset | None = None,
    search: bool = False,
    by=None,
    trigger: str = TrainingJob.Trigger.MANUAL,
) -> TrainingJob:
    """Queue a retraining of a scorecard (on a stored dataset, else its configured extract)."""
    from scoring import tasks

    if by is not None and not by.has_perm("scoring.add_trainingjob"):
        raise PermissionDenied("Only a credit manager can start a retraining.")
    scorecard_or_error(scorecard_key)
    # A model is trained on the scorecard's latest declaration (a manager's edit is what
    # the next model learns), recorded on the job so a re-run after a crash uses the same.
    scorecard, declaration = scorecard_to_train(scorecard_key)
    if dataset is not None:
        _check_dataset(scorecard, dataset)
    busy = f"A retraining of {scorecard.key} is already queued or running; wait for it."
    with transaction.atomic(durable=True):
        if TrainingJob.objects.filter(scorecard=scorecard.key, status__in=ACTIVE).exists():
            raise ApplicationError(busy)
        try:
            with transaction.atomic():
                job = TrainingJob.objects.create(
                    scorecard=scorecard.key,
                    declaration=declaration,
                    dataset=dataset,
                    search=search,
                    trigger=trigger,
                    requested_by=by,
                )
        except IntegrityError:  # another request queued one meanwhile
            raise ApplicationError(busy) from None
    lifecycle.queue(job, tasks.run_training_job)
    return job


def _check_dataset(scorecard: Scorecard, dataset: TrainingDataset) -> None:
    if dataset.scorecard != scorecard.key:
        raise ValidationError({"dataset": f"This dataset is for {dataset.scorecard}."})
    if dataset.status != TrainingDataset.Status.READY:
        raise ValidationError(
            {"dataset": f"This dataset is {dataset.get_status_display().lower()}."}
        )
    if dataset.rows_kept < MIN_TRAINING_ROWS:
        raise ValidationError(
            {"dataset": f"At least {MIN_TRAINING_ROWS} labelled rows are needed to train."}
        )
    missing = [c for c in scorecard.classes if not dataset.class_counts.get(c)]
    if missing:
        raise ValidationError({"dataset": f"The dataset has no row of class {', '.join(missing)}."})


def training_job_run(*, job_id: int) -> None:
    """The worker's side of a training job (a re-run after a crash starts over)."""
    lifecycle.run(TrainingJob, job_id, _train, readable=(CleaningError,))


class _Progress:
    """progress(stage, fraction, message) for ml.train: log, heartbeat, cancellation."""

    def __init__(self, job: TrainingJob, token: str):
        self.job, self.token = job, token
        self.log = list(job.log)
        self.last_write = 0.0
        self.stage = ""

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        self.log.append(
            {"at": timezone.now().isoformat(timespec="seconds"), "stage": stage, "message": message}
        )
        now = time.monotonic()
        if stage == self.stage and now - self.last_write < 1.0:
            return
        self.stage, self.last_write = stage, now
        lifecycle.stop_if_cancelled(TrainingJob, self.job.pk)
        lifecycle.beat(
            TrainingJob,
            self.job.pk,
            self.token,
            stage=stage,
            progress=min(max(float(fraction), 0.0), 1.0),
            log=self.log[-200:],
        )


def _train(job: TrainingJob, token: str) -> None:
    with lifecycle.Heartbeat(TrainingJob, job.pk, token):
        _train_with_heartbeat(job, token)


def _train_with_heartbeat(job: TrainingJob, token: str) -> None:
    if job.declaration is not None:
        scorecard = declaration_scorecard(job.declaration)
    else:
        scorecard = get_scorecard(job.scorecard)
    progress = _Progress(job, token)
    started = time.monotonic()
    progress("cleaning", 0.0, "reading the training data")
    cleaning = None
    if job.dataset is not None:
        dataset = job.dataset
        with dataset.file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != dataset.sha256:
            raise ApplicationError("The stored dataset file does not match its sha256.")
        cleaned = load_raw(scorecard, content, require_target=True)
        frame, synthetic, cleaning = cleaned.frame, False, cleaned.report.to_dict()
        description = f"{dataset.original_name} ({cleaned.report.rows_kept:,} rows after cleaning)"
    else:
        data = training_data_load(scorecard=scorecard)
        frame, synthetic, description = data.frame, data.synthetic, data.description
        cleaning = data.cleaning.to_dict() if data.cleaning else None
    progress("cleaning", 1.0, description)
    options = dict(getattr(settings, "TRAINING_JOB_OPTIONS", {}) or {})
    result = train_scorecard(
        scorecard, frame, search=job.search, progress=progress, synthetic=synthetic, **options
    )
    if cleaning is not None:
        result.report["cleaning"] = cleaning
    progress("comparing", 0.5, "evaluating the production model on the same test rows")
    comparison = compare_with_production(
        scorecard, frame, result.report, random_state=options.get("random_state", 42)
    )
    result.report["comparison_with_production"] = comparison
    with transaction.atomic():
        held = TrainingJob.objects.select_for_update().filter(
            pk=job.pk, worker=token, status=JobStatus.RUNNING
        )
        if not held.exists():
            raise lifecycle.JobLost()
        version = model_version_register(
            result=result,
            created_by=job.requested_by,
            training_data_description=description,
            notes=f"Training job #{job.pk}",
            declaration=job.declaration,
        )
        auto_promotion = _auto_promote(version, comparison)
        progress.log.append(
            {
                "at": timezone.now().isoformat(timespec="seconds"),
                "stage": "done",
                "message": f"registered {version.label} as a candidate; "
                f"{auto_promotion['summary']}",
            }
        )
        lifecycle.finish(
            TrainingJob,
            job.pk,
            status=JobStatus.SUCCEEDED,
            token=token,
            stage="done",
            progress=1.0,
            log=progress.log[-200:],
            model_version=version,
            comparison=comparison,
            auto_promotion=auto_promotion,
            timings={
                **result.report.get("timings_seconds", {}),
                "job_total": round(time.monotonic() - started, 2),
            },
        )


def compare_with_production(
    scorecard: Scorecard, frame: pd.DataFrame, report: dict, *, random_state: int = 42
) -> dict:
    """The candidate and the current production model, measured on the candidate's test rows.

    Both split the frame with `ml.split.split_scorecard_frame` and the same seed, so these
    are the candidate's test rows. If production was trained on other data that overlaps
    them, its figures are flattered; the report says which data each was trained on.
    """
    candidate = report["quality"]["random_forest"]
    production = (
        selectors.production_versions()
        .filter(scorecard=scorecard.key)
        .only("pk", "version", "artifact", "artifact_sha256", "manifest", "report", "is_synthetic")
        .first()
    )
    comparison = {
        "test_rows": report["rows"]["test"],
        "candidate": candidate,
        "production": None,
        "production_version": None,
    }
    if production is None:
        comparison["note"] = "No production model yet."
        return comparison
    try:
        model = model_version_load(production)
        split = split_scorecard_frame(scorecard, frame, random_state=random_state)
        test = split.indices.test
        X_test = model_input_frame(scorecard, split.labelled).iloc[test]
        proba = model.pipeline.predict_proba(X_test.loc[:, model.input_fields])
        metrics = evaluate_predictions(
            split.y[test],
            proba,
            classes=list(scorecard.classes),
            policy=model.policy,
            cost_matrix=scorecard.cost_matrix,
            cut_off=production.report.get("cut_off"),
        )
        comparison["production"] = headline_metrics(metrics)
    except Exception as error:  # a comparison that cannot be made must not lose the candidate
        log.exception("Could not evaluate %s on the candidate's test rows", production)
        comparison["note"] = f"Production could not be evaluated on these rows: {error}"
    comparison["production_version"] = {
        "id": production.pk,
        "label": str(production),
        "is_synthetic": production.is_synthetic,
    }
    return comparison


def _auto_promote(version: ModelVersion, comparison: dict) -> dict:
    config = ScorecardJobSettings.objects.filter(scorecard=version.scorecard).first()
    outcome: dict[str, Any] = {"enabled": bool(config and config.auto_promote), "promoted": False}
    if not outcome["enabled"]:
        outcome["summary"] = "auto-promotion is off: a credit manager decides on promotion"
        return outcome
    metric = config.auto_promote_metric
    lower_is_better = metric in ScorecardJobSettings.LOWER_IS_BETTER
    outcome.update(metric=metric, min_gain=config.auto_promote_min_gain)
    candidate_value = (comparison.get("candidate") or {}).get(metric)
    production_value = (comparison.get("production") or {}).get(metric)
    production_info = comparison.get("production_version")
    outcome.update(candidate=candidate_value, production=production_value)
    if candidate_value is None:
        outcome["summary"] = f"not promoted: the candidate has no {metric}"
        return outcome
    if version.is_synthetic and production_info and not production_info["is_synthetic"]:
        outcome["summary"] = "not promoted: a synthetic-data model never replaces a real one"
        return outcome
    if production_info is not None:
        if production_value is None:
            outcome["summary"] = "not promoted: production could not be measured on these rows"
            return outcome
        gain = (
            production_value - candidate_value
            if lower_is_better
            else candidate_value - production_value
        )
        outcome["gain"] = gain
        if gain <= 0 or gain < config.auto_promote_min_gain:
            outcome["summary"] = (
                f"not promoted: {metric} {candidate_value:.4f} does not beat production's "
                f"{production_value:.4f} by more than {config.auto_promote_min_gain}"
            )
            return outcome
    reason = (
        f"Automatic promotion (switched on for {version.scorecard}): {metric} "
        f"{candidate_value:.4f} vs production "
        f"{'none' if production_value is None else f'{production_value:.4f}'} "
        "on the same test rows."
    )
    model_version_promote_automatic(version=version, reason=reason)
    outcome.update(promoted=True, summary="promoted automatically: " + reason)
    return outcome


# --- each scorecard's job settings, and the retraining schedule -------------------------------


def scorecard_job_settings_get(*, scorecard_key: str) -> ScorecardJobSettings:
    scorecard = scorecard_or_error(scorecard_key)
    return ScorecardJobSettings.objects.filter(
        scorecard=scorecard.key
    ).first() or ScorecardJobSettings(scorecard=scorecard.key)


SETTINGS_FIELDS = (
    "auto_promote",
    "auto_promote_metric",
    "auto_promote_min_gain",
    "retrain_every_days",
    "retrain_dataset",
    "retrain_search",
)


def scorecard_job_settings_update(*, scorecard_key: str, by, **values) -> ScorecardJobSettings:
    """Auto-promotion and periodic retraining of one scorecard (both off by default)."""
    if not by.has_perm("scoring.change_scorecardjobsettings"):
        raise PermissionDenied("Only a credit manager can change these settings.")
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Unknown settings: {sorted(unknown)}")
    with transaction.atomic():
        config = scorecard_job_settings_get(scorecard_key=scorecard_key)
        was_scheduled = config.pk is not None and config.retrain_every_days
        for name, value in values.items():
            setattr(config, name, value)
        dataset = config.retrain_dataset
        if dataset is not None and dataset.scorecard != config.scorecard:
            raise ValidationError({"retrain_dataset": "That dataset is for another scorecard."})
        if config.retrain_every_days and not was_scheduled:
            # The first periodic run comes one period after switching the schedule on.
            config.last_scheduled_at = timezone.now()
        config.updated_by = by
        config.full_clean()
        config.save()
    return config


def retraining_start_due(*, now=None) -> list[TrainingJob]:
    """Start the periodic retrainings that are due (Celery beat calls this)."""
    now = now or timezone.now()
    started = []
    for config in ScorecardJobSettings.objects.filter(retrain_every_days__isnull=False):
        due_at = (config.last_scheduled_at or now) + timedelta(days=config.retrain_every_days)
        if config.last_scheduled_at is not None and due_at > now:
            continue
        dataset = (
            config.retrain_dataset
            or TrainingDataset.objects.filter(
                scorecard=config.scorecard, status=TrainingDataset.Status.READY
            ).first()
        )
        ScorecardJobSettings.objects.filter(pk=config.pk).update(last_scheduled_at=now)
        try:
            job = training_job_create(
                scorecard_key=config.scorecard,
                dataset=dataset,
                search=config.retrain_search,
                by=None,
                trigger=TrainingJob.Trigger.SCHEDULE,
            )
        except JobQueueUnavailable as error:
            # Nobody will run it: still due, so the next tick (the broker back) tries again.
            ScorecardJobSettings.objects.filter(pk=config.pk).update(
                last_scheduled_at=config.last_scheduled_at
            )
            log.warning("Periodic retraining of %s not started: %s", config.scorecard, error)
            continue
        except (ApplicationError, ValidationError) as error:
            log.warning("Periodic retraining of %s not started: %s", config.scorecard, error)
            continue
        started.append(job)
    return started
