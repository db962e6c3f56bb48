"""Cursor pagination: constant cost at any depth, a page size the client may choose, and a count on request.

The ordering is a unique, indexed key (the slug by default), so a cursor names one position for good.
Bad input answers 400, never 500: a tampered cursor, a page size that is not a number from 1 to 100, a count
flag that is not true/false."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response

TRUE_VALUES, FALSE_VALUES = {"true", "1"}, {"false", "0"}


class RegistryCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"
    count_query_param = "count"
    ordering = "slug"
    page_size_query_description = "Records per page, 1 to 100 (default 50)."
    cursor_query_description = "Opaque position in the list, taken from the next or previous link."

    def query_parameters(self) -> set[str]:
        return {self.cursor_query_param, self.page_size_query_param, self.count_query_param}

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        ErrorDetail(f"Enter a whole number from 1 to {self.max_page_size}.", code="invalid")
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request: Any) -> Cursor | None:
        invalid = ValidationError({self.cursor_query_param: [ErrorDetail("Invalid cursor.", code="invalid_cursor")]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        # A decoded position goes into a query: refuse what the database cannot take or no page would have.
        if (
            cursor is not None
            and cursor.position is not None
            and ("\x00" in cursor.position or len(cursor.position) > 500)
        ):
            raise invalid
        return cursor

    def wants_count(self, request: Any) -> bool:
        raw = request.query_params.get(self.count_query_param)
        if raw is None or raw.lower() in FALSE_VALUES:
            return False
        if raw.lower() in TRUE_VALUES:
            return True
        raise ValidationError({self.count_query_param: [ErrorDetail("Enter true or false.", code="invalid")]})

    def paginate_queryset(self, queryset: QuerySet[Any], request: Any, view: Any = None) -> list[Any] | None:
        self.count: int | None = queryset.count() if self.wants_count(request) else None
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        body: dict[str, Any] = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self.count is not None:
            body["count"] = self.count
        body["results"] = data
        return Response(body)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"] = {
            "type": "integer",
            "description": "Exact number of records matching the filters; only present with ?count=true.",
            "example": 128,
        }
        response["properties"]["next"]["example"] = (
            "https://registry.example.org/api/v1/partnerships/?cursor=cD1sYQ%3D%3D"
        )
        response["properties"]["previous"]["example"] = None
        response["required"] = ["next", "previous", "results"]  # always present (null at either end)
        return response

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        parameters.append(
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": "Add the exact number of matching records as `count` (costs one more query).",
                "schema": {"type": "boolean"},
            }
        )
        return parameters
