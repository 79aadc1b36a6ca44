"""Queueing again the scoring app's work whose worker died: bulk jobs, training jobs, builder
profiling and the
validation of large training uploads. Run when a worker starts and every minute by beat; the
finding and releasing itself is the job machinery's (`scoring/jobs/recovery.py`)."""

from django.utils import timezone

from scoring.jobs.recovery import recover_orphaned, stale_since
from scoring.models import BatchScoringJob, ScorecardDraft, TrainingJob

from .datasets import training_datasets_recover_validation


def jobs_recover_orphaned() -> list[str]:
    """What was queued again, in words (see `scoring.jobs.recovery`)."""
    from scoring import tasks

    now = timezone.now()
    return [
        *recover_orphaned(BatchScoringJob, tasks.run_batch_scoring_job, now=now),
        *recover_orphaned(TrainingJob, tasks.run_training_job, now=now),
        *recover_orphaned(ScorecardDraft, tasks.profile_scorecard_draft, now=now),
        *training_datasets_recover_validation(stale=stale_since(now)),
    ]
