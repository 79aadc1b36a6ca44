import time

from django.core.management.base import BaseCommand

from applicants.scorecards import ensure_shipped_declarations
from ml.scorecards import SHIPPED
from scoring.selectors import model_version_production
from scoring.services.registry import model_version_promote_initial
from scoring.services.training import model_train_and_register


class Command(BaseCommand):
    help = (
        "Store the shipped scorecard declarations the database lacks, and give every "
        "shipped scorecard a production model: train (fixed hyperparameters, no search) "
        "only those that have none yet. Real extracts are used when present, else a labelled "
        "synthetic demo sample."
    )

    def handle(self, *args, **options) -> None:
        for declaration in ensure_shipped_declarations():
            self.stdout.write(f"[{declaration.key}] stored declaration v{declaration.version}")
        for key in SHIPPED:
            production = model_version_production(scorecard_key=key)
            if production:
                self.stdout.write(f"[{key}] production model: {production.label}")
                continue
            self.stdout.write(f"[{key}] no production model yet: training one now…")
            started = time.monotonic()
            version = model_train_and_register(
                scorecard_key=key, search=False, progress=self._progress(key)
            )
            model_version_promote_initial(version=version)
            self.stdout.write(
                self.style.SUCCESS(
                    f"[{key}] {version.label} in production "
                    f"({time.monotonic() - started:.0f} s; {version.training_data_description})"
                )
            )

    def _progress(self, key: str):
        last_stage = None

        def report(stage: str, fraction: float, message: str) -> None:
            nonlocal last_stage
            if stage != last_stage or fraction >= 1.0:
                self.stdout.write(f"[{key}]   {stage:<11} {fraction:4.0%}  {message}")
                last_stage = stage

        return report
