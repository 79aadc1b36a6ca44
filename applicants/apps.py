from django.apps import AppConfig


class ApplicantsConfig(AppConfig):
    name = "applicants"
    verbose_name = "Applicants"

    def ready(self) -> None:
        from .encryption import check_keys

        check_keys()  # a malformed key stops every process at start, not at the first read

        from ml.scorecards import set_resolver

        from . import scorecards

        # Declarations stored in the database (a lender's own scorecards, edited versions)
        # answer before the shipped files, everywhere ml.scorecards is asked.
        set_resolver(scorecards.resolve, catalogue=scorecards.catalogue)
