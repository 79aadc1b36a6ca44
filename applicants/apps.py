from django.apps import AppConfig


class ApplicantsConfig(AppConfig):
    name = "applicants"
    verbose_name = "Applicants"

    def ready(self) -> None:
        from .encryption import check_keys

        check_keys()  # a malformed key stops every process at start, not at the first read
