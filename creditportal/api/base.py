"""Pieces every app's REST API shares: permissions, pagination, list helpers, the mixin of
views that queue work, and the schema hook that documents the one error body.

The apps' `api/` packages import these; the router (`creditportal/api_router.py`) imports
the apps' viewsets.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response


class ActionPermissions(BasePermission):
    """The Django permissions each action of a view needs, from `view.required_permissions`.

    `required_permissions` maps a viewset action (`list`, `create`, `score`...) or, on a
    plain APIView, a lower-case HTTP method to the permissions it needs. An action the map
    does not name is refused, so a new action is closed until someone says who may use it.
    Views without the attribute only need an authenticated user. Object rules (an officer
    sees only their own applicants) are not here: the selectors apply them and answer 404.
    """

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_permissions", None)
        if required is None:
            return True
        if hasattr(view, "action_map"):  # a viewset
            action = view.action
        else:
            action = request.method.lower()
            if not hasattr(view, action):
                action = None
        if action is None:  # a method the view does not have: it answers 405
            return True
        if action == "metadata":  # OPTIONS: describes the endpoint, changes nothing
            return True
        if action not in required:
            return False
        return request.user.has_perms(required[action])


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (bounded by API_MAX_PAGE_SIZE); `count`, `next`, `previous`."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE


def filterset_queryset(filterset):
    """The filtered queryset of a bound FilterSet; a 400 naming each bad query parameter."""
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def paginated_response(view, queryset, serializer_class, **context: Any) -> Response:
    """One page of `queryset` serialized with `serializer_class` (every list is paginated)."""
    page = view.paginate_queryset(queryset)
    data = serializer_class(page, many=True, context={"request": view.request, **context}).data
    return view.get_paginated_response(data)


class SubmitsJobs:
    """Mixin of an API view that hands work to the background workers.

    Its requests run outside a request transaction, as `creditportal.views.submits_jobs`
    explains for portal views; the exception handler answers `JobQueueUnavailable` with 503
    `broker_unavailable`. A view that forgets this mixin fails loudly: the job services
    refuse to run inside a transaction.
    """

    @method_decorator(transaction.non_atomic_requests)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)


# --- OpenAPI: every operation documents the one error body --------------------------------

ERROR_CODES_TEXT = (
    "Machine-readable: validation_error, parse_error, not_authenticated, "
    "authentication_failed, permission_denied, not_found, method_not_allowed, "
    "not_acceptable, unsupported_media_type, conflict (or the broken rule's own code, e.g. "
    "no_production_model), gone, throttled, locked_out, broker_unavailable, server_error."
)

_ERROR_RESPONSES = {
    "400": "Invalid input: `fields` names each invalid field or query parameter.",
    "401": "No credentials, or invalid ones.",
    "403": "Your role does not allow this.",
    "404": "No such object, or one you may not see.",
    "429": "Too many requests: try again after `Retry-After` seconds.",
}
_UNSAFE_ERROR_RESPONSES = {
    "409": "The request breaks a business rule in the object's current state "
    "(e.g. already decided, no production model).",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: add the shared error responses to every API operation."""
    error_ref = {"$ref": "#/components/schemas/Error"}
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "The body of every 4xx and 5xx answer of the API.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": ERROR_CODES_TEXT},
                    "message": {"type": "string", "description": "A sentence for a person."},
                    "fields": {
                        "type": "object",
                        "description": "Messages by field name; nested fields use dots "
                        "(`inputs.limit_bal`); errors about no one field are under "
                        "`non_field_errors`. Empty when none.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "required": ["code", "message", "fields"],
            }
        },
        "required": ["error"],
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            documented = dict(_ERROR_RESPONSES)
            if method in ("post", "put", "patch", "delete"):
                documented.update(_UNSAFE_ERROR_RESPONSES)
            documented["default"] = "Any other error, in the same format."
            for status, description in documented.items():
                content = {"application/json": {"schema": error_ref}}
                operation["responses"].setdefault(
                    status, {"description": description, "content": content}
                )
    return result


def document_strict_bodies(result, generator, request, public):
    """drf-spectacular hook: request bodies take no other keys (`additionalProperties:
    false`), as `InputSerializer` and the scorecard validator enforce: an unknown key is a
    400 naming it."""
    schemas = result.get("components", {}).get("schemas", {})
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1]) if ref else None
                if schema is not None and schema.get("type") == "object":
                    schema.setdefault("additionalProperties", False)
    return result
