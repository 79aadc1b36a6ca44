"""The REST API's one error format, for every 4xx and 5xx answer.

    {"error": {"code": "validation_error",
               "message": "Invalid input: inputs.limit_bal.",
               "fields": {"inputs.limit_bal": ["Must be between 10000 and 1000000 (got 5)."]}}}

`api_exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]) maps:

| raised | status | code |
| --- | --- | --- |
| DRF `ValidationError`, Django `ValidationError` | 400 | `validation_error` |
| `JobQueueUnavailable` (the background workers cannot be reached) | 503 | `broker_unavailable` |
| `ModelUnavailable` (the production model cannot be loaded) | 503 | `model_unavailable` |
| `ApplicationError` (a business rule: "already decided") | 409 | `conflict`, or `extra["code"]` |
| Django `PermissionDenied`, DRF `PermissionDenied` | 403 | `permission_denied` |
| `Http404`, DRF `NotFound` | 404 | `not_found` |
| `Gone` (a file deleted under the retention policy) | 410 | `gone` |
| Django `RequestDataTooBig` (a body over DATA_UPLOAD_MAX_MEMORY_SIZE) | 413 | `request_too_large` |
| other Django `SuspiciousOperation` (too many fields, a bad multipart body) | 400 | `bad_request` |
| other DRF errors (401, 405, 406, 415, 429...) | theirs | their default code |
| anything else | 500 | `server_error` (logged with its traceback; the body says nothing more) |

A broken business rule is a 409 Conflict, not a 400: the request is well-formed and would
succeed on the object in another state; clients can tell "fix your input" from "the object
moved on". Django's `__all__` key becomes `non_field_errors`, nested errors get dotted names.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.http import Http404, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from creditportal.errors import ApplicationError, JobQueueUnavailable, ModelUnavailable

logger = logging.getLogger("creditportal.api")

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY
SERVER_ERROR_MESSAGE = "A server error occurred; it has been logged."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The background workers cannot be reached; try again later."
    default_code = "broker_unavailable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be read."
    default_code = "bad_request"


class Gone(exceptions.APIException):
    """The resource existed and was deleted on purpose (a retention policy)."""

    status_code = status.HTTP_410_GONE
    default_detail = "This resource was deleted."
    default_code = "gone"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    view = context.get("view")
    rollback_request_transaction(view)
    exc = _as_api_exception(exc)
    if exc is None:
        logger.exception("Unhandled error in API view %s", type(view).__name__ if view else "?")
        return Response(
            error_body("server_error", SERVER_ERROR_MESSAGE),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        body = error_body("validation_error", _validation_message(fields), fields)
    else:
        body = error_body(_code_of(exc), _text(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def rollback_request_transaction(view) -> None:
    """Undo the request's writes (ATOMIC_REQUESTS), as DRF's own handler does, except for a
    view that opted out with `non_atomic_requests`: it has no request transaction, and an
    enclosing one (a test's, say) is not this error's to roll back."""
    non_atomic = getattr(getattr(view, "dispatch", None), "_non_atomic_requests", set())
    for connection in connections.all():
        if (
            connection.settings_dict["ATOMIC_REQUESTS"]
            and connection.in_atomic_block
            and connection.alias not in non_atomic
        ):
            connection.set_rollback(True)


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                (NON_FIELD_ERRORS if name == "__all__" else name): messages
                for name, messages in exc.message_dict.items()
            }
        else:
            detail = {NON_FIELD_ERRORS: exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, JobQueueUnavailable):
        return ServiceUnavailable(exc.message)
    if isinstance(exc, ModelUnavailable):
        return ServiceUnavailable(exc.message, code="model_unavailable")
    if isinstance(exc, ApplicationError):
        return Conflict(exc.message, code=exc.extra.get("code", Conflict.default_code))
    if isinstance(exc, Http404):
        return exceptions.NotFound(_own_message(exc, exceptions.NotFound.default_detail))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(
            _own_message(exc, exceptions.PermissionDenied.default_detail)
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(
            f"The request body is larger than {limit / 1024 / 1024:.1f} MB; files go in a "
            "multipart upload."
        )
    if isinstance(exc, SuspiciousOperation):  # its own words may name paths: logged only
        logging.getLogger("django.security").warning("Refused request: %s", exc)
        return BadRequest()
    return None


def _own_message(exc: Exception, default: str) -> str:
    return str(exc) if exc.args and str(exc) else str(default)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _text(detail: Any) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(_text(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(_text(item) for item in detail.values())
    return str(detail)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"inputs": {"age": ["..."]}} -> {"inputs.age": ["..."]}; lists of messages stay lists."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            return {prefix or NON_FIELD_ERRORS: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or NON_FIELD_ERRORS: [str(detail)]}


def _validation_message(fields: dict[str, list[str]]) -> str:
    if list(fields) == [NON_FIELD_ERRORS]:
        return " ".join(fields[NON_FIELD_ERRORS])
    names = [name for name in fields if name != NON_FIELD_ERRORS]
    return f"Invalid input: {', '.join(names)}."


def axes_lockout_response(request, original_response=None, credentials=None):
    """django-axes lockout: the API's error format under /api/, the portal's page elsewhere."""
    message = (
        "Too many failed logins for this username from this address; "
        f"try again in {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes."
    )
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("locked_out", message), status=429)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"message": message}, status=429)
