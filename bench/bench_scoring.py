"""End-to-end latency of scoring one application through the portal's service layer.

`scoring.services.predictions.prediction_create`: lock and load the application, validate its inputs
against the scorecard, fetch the production model (cached; one version-stamp query),
predict with reasons and segment, store the Prediction, mark the application scored.
Runs in a throwaway database (SQLite by default; PostgreSQL when DATABASE_URL is set) with
the card_default model trained on the real extract when present (synthetic otherwise).

    .venv/bin/python bench/bench_scoring.py [--runs 1000]
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--scorecard", default="card_default")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="creditportal-bench-")
    os.environ.setdefault("CREDITPORTAL_VAR_DIR", workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "creditportal.settings"
    os.environ.setdefault("DJANGO_DEBUG", "true")  # measured in development settings
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.db import connection

    if connection.vendor != "sqlite":
        from django.test.utils import get_runner

        runner = get_runner(django.conf.settings)(verbosity=0)
        old_config = runner.setup_databases()
    else:
        old_config = None
        call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        if old_config is not None:
            runner.teardown_databases(old_config)


def run(args) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from applicants.services import applicant_create, application_create
    from creditportal.roles import LOAN_OFFICER
    from ml.scorecards import get_scorecard
    from scoring.services.predictions import prediction_create
    from scoring.services.registry import model_version_promote_initial
    from scoring.services.training import model_train_and_register, training_data_load

    scorecard = get_scorecard(args.scorecard)
    print(f"Training {scorecard.key} (fixed hyperparameters)…", flush=True)
    version = model_train_and_register(scorecard_key=scorecard.key, search=False)
    model_version_promote_initial(version=version)
    print(f"Model: {version.label}, trained on {version.training_data_description}")

    officer = get_user_model().objects.create(username="bench-officer")
    officer.groups.add(Group.objects.get(name=LOAN_OFFICER))
    frame = training_data_load(scorecard=scorecard).frame
    required = [field.name for field in scorecard.fields if field.required]
    rows = frame.dropna(subset=required).head(args.runs)
    applicant = applicant_create(
        owner=officer, data={"full_name": "Bench", "external_reference": "BENCH-1"}
    )
    applications = []
    for index, record in enumerate(rows.to_dict("records")):
        inputs = {
            field.name: _plain(record.get(field.name))
            for field in scorecard.fields
            if _plain(record.get(field.name)) is not None
        }
        applications.append(
            application_create(
                applicant=applicant,
                by=officer,
                scorecard_key=scorecard.key,
                data={"requested_amount": 1000 + index, "term_months": 12},
                inputs=inputs,
                submit=True,
            )
        )
    prediction_create(application=applications[0], requested_by=officer)  # load the model

    timings = []
    for application in applications:
        started = time.perf_counter()
        prediction_create(application=application, requested_by=officer)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"\nprediction_create, {len(timings)} runs on {connection.vendor} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores):"
    )
    print(f"  p50 {p50:.2f} ms   p99 {p99:.2f} ms   mean {statistics.fmean(timings):.2f} ms")


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


if __name__ == "__main__":
    main()
