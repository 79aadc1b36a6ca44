"""Project-wide records: the background workers' heartbeats, the REST API's tokens and the
version stamp of who may do what."""

from django.db import models
from knox.models import AbstractAuthToken


class WorkerHeartbeat(models.Model):
    """A Celery worker that is running: written by the worker itself every
    WORKER_HEARTBEAT_SECONDS (creditportal/workers.py), deleted when it stops. A worker killed
    without stopping leaves a row that simply grows old."""

    name = models.CharField(max_length=255, unique=True, help_text="The worker's node name.")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(AbstractAuthToken):
    """A REST API token (django-rest-knox's, `KNOX_TOKEN_MODEL`), issued to one named client.

    The secret is shown once, when issued; the row keeps its SHA-512 `digest` (the primary
    key, what a request is checked against) and `token_key`, its first 15 characters, by
    which the owner and administrators tell tokens apart. Issuing for a client again
    replaces that client's token.
    """

    client = models.CharField(
        max_length=100, help_text="What the token is for, as its owner named it (e.g. a script)."
    )
    second_factor = models.BooleanField(
        default=False,
        help_text="Issued after the user gave a two-factor code. A token issued without one "
        "stops working when the user's role comes to require two-factor authentication.",
    )

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="one_api_token_per_client")
        ]

    def __str__(self) -> str:
        # Never the digest (knox's own __str__): it names the token wherever Django prints one.
        return f"{self.token_key}… ({self.client})"


class PermissionsVersion(models.Model):
    """One row whose `value` goes up, in the same transaction, with every change to who may
    do what (a group's permissions, a user's groups or own permissions, a group or permission
    deleted). API requests read it in the query that checks their token, so every web
    process knows at once whether the permissions it resolved for a user still hold
    (creditportal/api/auth.py)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"permissions version {self.value}"
