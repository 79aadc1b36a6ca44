"""Bulk scoring of awkward files, through a real `celery -A creditportal worker` process: the
peak memory of the worker's process tree (the worker and its scoring processes) for files
of the shapes that once took it past 2 GiB.

Shapes (each about `--mb` MB, card_default's columns plus):
- wide: extra short columns up to the column cap (CREDITPORTAL_UPLOAD_MAX_COLUMNS, 300): the
  most values per byte a file may have;
- long: a `note` column of 90,000 characters per row (the longest value is 100,000).

Each file is uploaded through the service (its request-time checks: header, columns, the
whole file's encoding and NULs), then scored by the worker while the PSS of the worker's
process tree is sampled every 0.1 s. With `--chunk-mb 0` chunks end at their row count
only (CREDITPORTAL_BATCH_CHUNK_MB set very large), as before chunks were bounded by size.

    .venv/bin/python bench/bench_uploads.py [--mb 400] [--shape wide --shape long]
        [--chunk-mb 4] [--pool solo]
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SHAPES = ("wide", "long")
NOTE_CHARS = 90_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=400, help="size of each file, MB")
    parser.add_argument("--shape", action="append", choices=SHAPES)
    parser.add_argument(
        "--chunk-mb", type=int, default=4, help="BATCH_CHUNK_MB; 0 = chunks bounded by rows only"
    )
    parser.add_argument("--pool", default="solo")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="creditportal-bench-uploads-"))
    os.environ["CREDITPORTAL_VAR_DIR"] = str(workdir)
    os.environ["DJANGO_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CELERY_BROKER_DIR"] = str(workdir / "broker")
    os.environ["DJANGO_SETTINGS_MODULE"] = "creditportal.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["CREDITPORTAL_BATCH_CHUNK_MB"] = str(args.chunk_mb or 1_000_000)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(24).hex())
    import django

    django.setup()
    from django.core.management import call_command

    from creditportal.celery import ensure_broker_folders

    ensure_broker_folders()
    call_command("migrate", verbosity=0)
    try:
        run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # uploads and results: about 1 GB a shape


def awkward_csv(path: Path, shape: str, mb: int) -> tuple[Path, int, int]:
    """A CSV of about `mb` MB of the shape: (path, data rows, columns)."""
    from django.conf import settings

    from tests.scoring.jobkit import card_default_csv

    lines = card_default_csv(1_000, invalid={}).decode().splitlines()
    header, rows = lines[0], [line.split(",", 1)[1] for line in lines[1:]]
    width = len(header.split(","))
    if shape == "wide":
        extra = settings.UPLOAD_MAX_COLUMNS - width
        header += "," + ",".join(f"x{n}" for n in range(extra))
        tail = "," + ",".join(str(n % 10) for n in range(extra))
    else:
        extra = 1
        header += ",note"
        tail = "," + "n" * NOTE_CHARS
    target, written, count = mb * 1024 * 1024 - NOTE_CHARS - 2_000, 0, 0  # within the limit
    with path.open("w", newline="") as handle:
        handle.write(header + "\n")
        while written < target:
            line = f"B{count:09d},{rows[count % len(rows)]}{tail}\n"
            handle.write(line)
            written += len(line)
            count += 1
    return path, count, width + extra


def run(args, workdir: Path) -> None:
    from bench_jobs import Worker, wait
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from creditportal.roles import CREDIT_MANAGER
    from scoring.services import bulk_scoring
    from scoring.services.registry import model_version_promote_initial
    from scoring.services.training import model_train_and_register

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB, {connection.vendor}, Python {platform.python_version()}"
    )
    chunking = f"{args.chunk_mb} MB" if args.chunk_mb else "no size bound (rows only)"
    print(f"Chunks: {django_setting('BATCH_CHUNK_ROWS'):,} rows or {chunking}")
    manager = get_user_model().objects.create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=CREDIT_MANAGER))
    version = model_train_and_register(scorecard_key="card_default", search=False)
    model_version_promote_initial(version=version)
    worker = Worker(workdir, args.pool)
    try:
        warm, _, _ = awkward_csv(workdir / "warm.csv", "long", 1)
        job = bulk_scoring.batch_job_create(
            scorecard_key="card_default",
            upload=SimpleUploadedFile(warm.name, warm.read_bytes()),
            owner=manager,
        )
        wait(job, worker)
        worker.sample_tree()
        print(f"Worker after a warm-up job: {worker.peak_tree_mib:.0f} MiB PSS (tree)")
        for shape in args.shape or SHAPES:
            path, rows, columns = awkward_csv(workdir / f"{shape}.csv", shape, args.mb)
            size_mib = path.stat().st_size / 1024**2
            upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
            started = time.monotonic()
            job = bulk_scoring.batch_job_create(
                scorecard_key="card_default", upload=upload, owner=manager
            )
            accepted = time.monotonic() - started
            del upload
            worker.peak_tree_mib = 0.0
            wait(job, worker)
            seconds = time.monotonic() - started
            if job.status != "succeeded":
                raise SystemExit(f"{shape}: job failed: {job.error}")
            print(
                f"\n{shape}: {size_mib:.0f} MiB, {rows:,} rows x {columns} columns; accepted "
                f"in {accepted:.1f} s (checks of the whole file included), scored in "
                f"{seconds - accepted:.1f} s ({job.rows_valid:,} valid)"
            )
            print(
                f"  worker peak RSS {worker.peak_rss_mib():.0f} MiB (process high-water mark); "
                f"worker and scoring processes together peak PSS {worker.peak_tree_mib:.0f} MiB "
                "(sampled every 0.1 s)"
            )
            path.unlink()
    finally:
        worker.stop()


def django_setting(name: str):
    from django.conf import settings

    return getattr(settings, name)


if __name__ == "__main__":
    main()
