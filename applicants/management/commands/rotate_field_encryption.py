from django.core.management.base import BaseCommand

from applicants.services import national_ids_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt and re-index every national id under the first key of "
        "CREDITPORTAL_FIELD_ENCRYPTION_KEYS; afterwards the other keys may be removed."
    )

    def handle(self, *args, **options) -> None:
        count = national_ids_reencrypt()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} national ids."))
