"""One way to report a broken business rule, shared by every app.

Services raise Django's `ValidationError` for bad input (a field and its rule) and
`ApplicationError` for a request that breaks a rule of the business ("already decided").
Portal views show either as a message; the API's exception handler turns both into one
JSON error body with a 4xx status.
"""


class ApplicationError(Exception):
    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
