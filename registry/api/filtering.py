"""Strict filtering: a query parameter the endpoint does not know is an error, not silently ignored.

A client that misspells ``year_min`` as ``yearmin`` would otherwise get every record and believe it filtered.
Every endpoint answers 400 naming the parameter; empty values and NUL characters are refused the same way."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError

# Parameters every endpoint accepts whatever its filters: the response format (?format=json).
ALWAYS_ALLOWED = frozenset({"format"})


def allowed_parameters(request: Any, view: Any, filterset_class: Any) -> set[str]:
    allowed = set(ALWAYS_ALLOWED)
    if filterset_class is not None:
        allowed.update(filterset_class.base_filters)
    paginator = getattr(view, "paginator", None)
    if paginator is not None and hasattr(paginator, "query_parameters"):
        allowed.update(paginator.query_parameters())
    allowed.update(getattr(view, "extra_query_parameters", ()))
    return allowed


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, plus: unknown, empty or NUL-bearing query parameters answer 400."""

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        allowed = allowed_parameters(request, view, filterset_class)
        errors: dict[str, list[Any]] = {}
        for name, values in request.query_params.lists():
            if "\x00" in name:
                errors.setdefault(name.replace("\x00", "\\x00"), []).append("Query parameter names cannot contain NUL.")
            elif name not in allowed:
                errors.setdefault(name, []).append(
                    f"Unknown query parameter {name!r}. Allowed here: {', '.join(sorted(allowed))}."
                )
            elif any("\x00" in value for value in values):
                errors.setdefault(name, []).append("Query parameter values cannot contain NUL characters.")
            elif any(value == "" for value in values):
                errors.setdefault(name, []).append(f"Query parameter {name!r} is empty; give a value or leave it out.")
            elif len(values) > 1:
                errors.setdefault(name, []).append(f"Query parameter {name!r} was given more than once.")
        if errors:
            raise ValidationError(
                {
                    name: [
                        ErrorDetail(
                            message, code="unknown_parameter" if message.startswith("Unknown") else "invalid_parameter"
                        )
                        for message in messages
                    ]
                    for name, messages in errors.items()
                }
            )
        return super().filter_queryset(request, queryset, view)
