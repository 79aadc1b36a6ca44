from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from creditportal.two_factor import two_factor_reset


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator and backup codes (a lost phone, when no administrator "
        "can sign in to do it in the admin); they set up a new one at their next sign-in."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        two_factor_reset(user=user)
        self.stdout.write(self.style.SUCCESS(f"Two-factor authentication reset for {username}."))
