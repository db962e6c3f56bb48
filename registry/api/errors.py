"""One error body everywhere in the API: ``{"errors": [{"code": ..., "detail": ..., "attr": ...}]}``.

``code`` is a stable machine-readable string (``not_found``, ``invalid``, ``unknown_parameter``, ...), ``detail``
a sentence for people, ``attr`` the field or query parameter concerned (``null`` when the error is not about
one). Validation errors list one entry per message; nested fields are joined with dots (``claims.0.value``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

NON_FIELD_KEYS = {"non_field_errors", "__all__"}


class ErrorItemSerializer(serializers.Serializer):
    """One error (documents the shape in the OpenAPI schema)."""

    code = serializers.CharField(help_text="Stable machine-readable error code, e.g. not_found or invalid.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    attr = serializers.CharField(
        allow_null=True, help_text="The field or query parameter the error is about; null if none."
    )


class ErrorResponseSerializer(serializers.Serializer):
    """The body of every 4xx answer of the API."""

    errors = ErrorItemSerializer(many=True, help_text="One or more errors.")


def error_items(detail: Any, attr: str | None = None) -> list[dict[str, Any]]:
    """Flatten DRF error details (a string, a list or a nested dict) into error items."""
    if isinstance(detail, dict):
        items: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = None if key in NON_FIELD_KEYS else str(key)
            items += error_items(value, f"{attr}.{name}" if attr and name else (name or attr))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            # A list of dicts is a list of nested objects: keep the index in the path.
            items += error_items(value, f"{attr}.{index}" if isinstance(value, dict) and attr else attr)
        return items
    code = getattr(detail, "code", None) or "error"
    return [{"code": str(code), "detail": str(detail), "attr": attr}]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers such as Retry-After and Allow), with the body in the one shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = {"errors": error_items(exc.detail)}
    return response
