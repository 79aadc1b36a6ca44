from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.cleaning import CleaningError
from ml.scorecards import SCORECARDS
from scoring.services.training import model_train_and_register


class Command(BaseCommand):
    help = (
        "Train a scorecard and register the result as a *candidate* model version (a credit "
        "manager promotes it from the Models page). Without --data, the scorecard's public "
        "extract in CREDITPORTAL_DATA_DIR is used; --data takes a lender's own CSV in the "
        "public layout (original or snake_case headers)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scorecard", required=True, choices=list(SCORECARDS))
        parser.add_argument("--data", type=Path, help="CSV file (defaults to the public extract)")
        parser.add_argument(
            "--no-search",
            action="store_true",
            help="use the fixed hyperparameters instead of the randomized grouped search",
        )
        parser.add_argument("--notes", default="")

    def handle(self, *args, scorecard: str, data: Path | None, no_search: bool, notes: str, **kw):
        if data is not None and not data.is_file():
            raise CommandError(f"No such file: {data}")
        try:
            version = model_train_and_register(
                scorecard_key=scorecard,
                search=not no_search,
                path=data,
                progress=self._progress,
                notes=notes,
            )
        except CleaningError as error:
            raise CommandError(f"The file cannot be used: {error}") from error
        rf = version.metrics.get("random_forest", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {version.label} as a candidate: ROC-AUC {rf.get('roc_auc')}, "
                f"macro F1 {rf.get('macro_f1')}, trained on {version.training_data_description}."
            )
        )
        self.stdout.write("Promote it from the Models page once you have read its report.")

    def _progress(self, stage: str, fraction: float, message: str) -> None:
        self.stdout.write(f"  {stage:<11} {fraction:4.0%}  {message}")
