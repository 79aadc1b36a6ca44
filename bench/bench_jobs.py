"""Background jobs end to end, through a real `celery -A creditportal worker` process.

1. Full retraining of card_default on its real extract (uploaded as a training dataset,
   run as a TrainingJob on the worker): wall time and the worker's peak memory.
2. Bulk scoring of a 100,000-row CSV in the public UCI layout (rows drawn from the real
   extract, with an ID column and the label carried through): from the upload accepted by
   the service to the job succeeded (every row validated, predictions stored, result CSV
   written through the storage API). Rows/s end to end and the worker's peak memory.
3. With --million: the same with 1,000,000 rows (peak worker memory must stay < 1.5 GiB).

A throwaway database: SQLite in a temporary folder by default, a test database on the
server of DATABASE_URL when it is set. The worker runs with `--pool solo` by default so that
its peak resident memory (VmHWM) is that of the process that runs the job; the job's scoring
processes are counted too, by sampling the PSS of the worker's whole process tree.

    .venv/bin/python bench/bench_jobs.py [--rows 100000] [--million] [--skip-training]
"""

import argparse
import base64
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also score 1,000,000 rows")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument(
        "--pool",
        default="solo",
        help="the worker's Celery pool: solo (default; its peak RSS is the job's) or prefork",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="creditportal-bench-jobs-"))
    os.environ["CREDITPORTAL_VAR_DIR"] = str(workdir)
    os.environ["DJANGO_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CELERY_BROKER_DIR"] = str(workdir / "broker")
    os.environ["DJANGO_SETTINGS_MODULE"] = "creditportal.settings"
    # As in production: with DEBUG on, Django would also log every SQL statement.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(24).hex())
    os.environ.setdefault(
        "CREDITPORTAL_FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode()
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from creditportal.celery import ensure_broker_folders

    ensure_broker_folders()
    old_config = None
    if connection.vendor != "sqlite":
        from django.test.utils import get_runner

        runner = get_runner(django.conf.settings)(verbosity=0)
        old_config = runner.setup_databases()
    else:
        call_command("migrate", verbosity=0)
    try:
        run(args, workdir)
    finally:
        if old_config is not None:
            runner.teardown_databases(old_config)


def worker_env() -> dict:
    from django.db import connection

    env = dict(os.environ)
    if connection.vendor != "sqlite":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    return env


class Worker:
    def __init__(self, workdir: Path, pool: str):
        self.log = (workdir / "worker.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "creditportal", "worker", "--pool", pool]
            + ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
            cwd=REPO,
            env=worker_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        self.peak_tree_mib = 0.0

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def sample_tree(self) -> None:
        """Sum the proportional set size (PSS: a page shared by n processes counts 1/n in
        each) of the worker and its descendants (a bulk job's scoring processes) now, and
        keep the peak. Sampled while a job runs, so a peak between samples can be missed."""
        total_kib, pids = 0, [self.process.pid]
        while pids:
            pid = pids.pop()
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:  # it has just exited
                continue
            total_kib += next(
                int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
            )
            pids += [int(child) for child in children]
        self.peak_tree_mib = max(self.peak_tree_mib, total_kib / 1024)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def wait(job, worker: "Worker", timeout: float = 3600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        worker.sample_tree()
        time.sleep(0.1)
    raise SystemExit(f"{job} did not finish in {timeout} s")


def bulk_csv(path: Path, rows: int) -> Path:
    """`rows` rows of the real extract's layout (sampled from it; synthetic if absent)."""
    import numpy as np
    import pandas as pd
    from django.conf import settings

    from ml.datasets import scorecard_data_path
    from ml.scorecards import get_scorecard

    scorecard = get_scorecard("card_default")
    source = scorecard_data_path(scorecard, settings.CREDITPORTAL_DATA_DIR)
    if source is not None:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    else:
        from tests.scoring.jobkit import card_default_csv

        frame = pd.read_csv(pd.io.common.BytesIO(card_default_csv(30_000)), dtype=str)
    picks = np.random.default_rng(0).integers(0, len(frame), size=rows)
    sample = frame.iloc[picks].reset_index(drop=True)
    sample.iloc[:, 0] = [f"B{n:08d}" for n in range(1, rows + 1)]
    sample.to_csv(path, index=False)
    return path


def run(args, workdir: Path) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from creditportal.roles import CREDIT_MANAGER
    from ml.datasets import scorecard_data_path
    from ml.scorecards import get_scorecard
    from scoring.models import Prediction
    from scoring.selectors import scorecard_has_production
    from scoring.services import bulk_scoring, datasets, training
    from scoring.services.registry import model_version_promote_initial
    from scoring.services.training import model_train_and_register

    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{connection.vendor}, Python {platform.python_version()}"
    )
    print(f"Machine: {machine}")
    manager = get_user_model().objects.create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=CREDIT_MANAGER))
    scorecard = get_scorecard("card_default")
    worker = Worker(workdir, args.pool)
    try:
        extract = scorecard_data_path(scorecard, settings.CREDITPORTAL_DATA_DIR)
        if not args.skip_training and extract is not None:
            content = extract.read_bytes()
            dataset = datasets.training_dataset_create(
                scorecard_key="card_default",
                upload=SimpleUploadedFile(extract.name, content),
                by=manager,
            )
            started = time.monotonic()
            job = training.training_job_create(
                scorecard_key="card_default", dataset=dataset, by=manager
            )
            wait(job, worker)
            seconds = time.monotonic() - started
            if job.status != "succeeded":
                raise SystemExit(f"training failed: {job.error}")
            version = job.model_version
            model_version_promote_initial(version=version)
            print(
                f"\nRetraining card_default on {extract.name} ({dataset.rows_kept:,} rows, fixed "
                f"hyperparameters, no search): {seconds:.1f} s wall; stages "
                f"{job.timings}; worker peak RSS {worker.peak_rss_mib():.0f} MiB"
            )
            print(f"  candidate ROC-AUC {version.metrics['random_forest']['roc_auc']:.3f}")
        else:
            version = model_train_and_register(scorecard_key="card_default", search=False)
            model_version_promote_initial(version=version)
            print(f"\nModel: {version.label} (trained in-process)")
        assert scorecard_has_production(scorecard_key="card_default")

        # A worker is long-lived: a first small job loads the model version into it
        # (artifact read and hash-checked, forest flattened, leaf table built), as any
        # first job after a start would. The figures below are for the jobs that follow.
        warm = bulk_csv(workdir / "warm-up.csv", 1_000)
        started = time.monotonic()
        job = bulk_scoring.batch_job_create(
            scorecard_key="card_default",
            upload=SimpleUploadedFile(warm.name, warm.read_bytes(), content_type="text/csv"),
            owner=manager,
        )
        wait(job, worker)
        if job.status != "succeeded":
            raise SystemExit(f"warm-up job failed: {job.error}")
        print(f"\nWarm-up job, 1,000 rows on a fresh worker: {time.monotonic() - started:.1f} s")

        sizes = [args.rows] + ([1_000_000] if args.million else [])
        for rows in sizes:
            path = bulk_csv(workdir / f"bulk-{rows}.csv", rows)
            size_mib = path.stat().st_size / 1024**2
            with path.open("rb") as handle:
                upload = SimpleUploadedFile(path.name, handle.read(), content_type="text/csv")
            worker.peak_tree_mib = 0.0
            started = time.monotonic()
            job = bulk_scoring.batch_job_create(
                scorecard_key="card_default", upload=upload, owner=manager
            )
            accepted = time.monotonic() - started
            wait(job, worker)
            seconds = time.monotonic() - started
            if job.status != "succeeded":
                raise SystemExit(f"bulk job failed: {job.error}")
            stored = Prediction.objects.filter(batch_job=job).count()
            result_mib = job.result_file.size / 1024**2
            print(
                f"\nBulk scoring {rows:,} rows ({size_mib:.0f} MiB CSV, chunks of "
                f"{job.chunk_rows:,}) on {connection.vendor}: {seconds:.1f} s end to end "
                f"(upload accepted in {accepted:.1f} s) = {rows / seconds:,.0f} rows/s; "
                f"job's own rate {job.rows_per_second:,.0f} rows/s"
            )
            queued = (job.started_at - job.created_at).total_seconds()
            ran = (job.finished_at - job.started_at).total_seconds()
            print(
                f"  waited {queued:.1f} s for the worker to take it (broker), ran {ran:.1f} s "
                f"({rows / ran:,.0f} rows/s from start to result file)"
            )
            print(
                f"  {job.rows_valid:,} valid, {job.rows_invalid:,} invalid, {stored:,} "
                f"predictions stored, result {result_mib:.0f} MiB; worker peak RSS "
                f"{worker.peak_rss_mib():.0f} MiB; worker and scoring processes together "
                f"peak PSS {worker.peak_tree_mib:.0f} MiB (sampled every 0.1 s)"
            )
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
