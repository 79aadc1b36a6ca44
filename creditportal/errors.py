"""One way to report a broken business rule, shared by every app.

Services raise Django's `ValidationError` for bad input (a field and its rule) and
`ApplicationError` for a request that breaks a rule of the business ("already decided").
Portal views show either as a message; the API's exception handler turns both into one
JSON error body with a 4xx status. `JobQueueUnavailable` is the one error of the
infrastructure that a person must be told about: the API answers it with 503, portal views
that submit work (`creditportal.views.submits_jobs`) with a 503 page.
"""


class ApplicationError(Exception):
    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class JobQueueUnavailable(Exception):
    """Work could not be handed to the background workers: the task broker is unreachable.

    Not an ApplicationError: no state of the object explains it, and a view that shows
    broken rules as messages must not swallow it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ModelUnavailable(ApplicationError):
    """The production model exists but cannot be loaded (its artifact is missing, or does not
    match the hash recorded for it): a fault of the service, not of the request (HTTP 503
    `model_unavailable`), until an administrator restores the file or promotes another."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extra={"code": "model_unavailable"})
