import uuid

from django.core.management.base import BaseCommand, CommandError

from creditportal.errors import JobQueueUnavailable
from creditportal.queue import publish
from creditportal.tasks import ping


class Command(BaseCommand):
    help = "Send a task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout: float, **options) -> None:
        token = uuid.uuid4().hex
        try:
            sent = publish(ping, token, what="the check", outcome="No worker was asked")
        except JobQueueUnavailable as error:
            raise CommandError(str(error)) from error
        try:
            answer = sent.get(timeout=timeout)
        except Exception as error:
            raise CommandError(f"No worker answered within {timeout:.0f} s: {error}") from error
        if answer.get("token") != token or not answer.get("database"):
            raise CommandError(f"Unexpected answer from the worker: {answer}")
        self.stdout.write(self.style.SUCCESS(f"A worker answered at {answer['answered_at']}."))
