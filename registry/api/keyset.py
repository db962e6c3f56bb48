"""Cursor pagination over any ordering that ends in a unique key: search rank, name, year, last change.

DRF's CursorPagination keeps only the first ordering field in the cursor and steps over ties with an offset
(capped at 1,000), which skips or repeats records when many share a year or a rank. Here the cursor holds the
values of every ordering field of the last row shown, and the next page is "the rows after it" in the full
ordering (registry/ordering.py): no offsets, no ties, the same cost at any depth.

The ordering comes from the view's FilterSet: its ``ordering`` filter (an OrderingFilter) when the request gives
one; otherwise, when the queryset carries a search rank (``?q=``), the best matches first; otherwise the slug."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import ErrorDetail, ValidationError

from registry.api.pagination import RegistryCursorPagination
from registry.ordering import OrderingFilter, keyset_after, reverse_ordering
from registry.search import RANK

ORDERING_PARAMETER = "ordering"
RANK_ORDERING = (f"-{RANK}", "slug")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a position")


class KeysetCursorPagination(RegistryCursorPagination):
    ordering: Any = "slug"  # a tuple of fields once a request has been paginated

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        filterset_class = getattr(view, "filterset_class", None)
        ordering_filter = filterset_class.base_filters.get(ORDERING_PARAMETER) if filterset_class else None
        value = request.query_params.get(ORDERING_PARAMETER)
        # The FilterSet has already refused an unknown value with a 400.
        if isinstance(ordering_filter, OrderingFilter) and value in ordering_filter.orderings:
            return ordering_filter.orderings[value]
        if RANK in queryset.query.annotations:
            return RANK_ORDERING
        return super().get_ordering(request, queryset, view)

    def _get_position_from_instance(self, instance: Any, ordering: Any) -> str:
        if len(ordering) == 1:  # a single unique key (the default slug): the plain value, as DRF writes it
            return str(super()._get_position_from_instance(instance, ordering))
        values = []
        for field in ordering:
            name = field.lstrip("-")
            value = instance[name] if isinstance(instance, dict) else getattr(instance, name)
            values.append(value.isoformat() if isinstance(value, datetime.datetime | datetime.date) else value)
        # A float (the rank) is written with repr(): it reads back as exactly the same number.
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [ErrorDetail("Invalid cursor.", code="invalid_cursor")]})

    def _after_position(self, queryset: QuerySet[Any], ordering: tuple[str, ...], position: str) -> QuerySet[Any]:
        nullable = {field.name for field in queryset.model._meta.concrete_fields if field.null}
        if len(ordering) == 1:
            return queryset.filter(keyset_after(ordering, [position], nullable))
        try:
            values = json.loads(position, parse_constant=_reject_constant)
        except ValueError:
            raise self._invalid_cursor() from None
        if (
            not isinstance(values, list)
            or len(values) != len(ordering)
            or not all(value is None or isinstance(value, str | int | float) for value in values)
            or any(isinstance(value, float) and not math.isfinite(value) for value in values)
        ):
            raise self._invalid_cursor()
        try:
            return queryset.filter(keyset_after(ordering, values, nullable))
        except (DjangoValidationError, ValueError, TypeError):  # a value the field cannot take
            raise self._invalid_cursor() from None

    def paginate_queryset(self, queryset: QuerySet[Any], request: Any, view: Any = None) -> list[Any] | None:
        """DRF's algorithm with the position filter replaced by the keyset condition (offsets stay 0)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        self.count: int | None = queryset.count() if self.wants_count(request) else None

        reverse = self.cursor is not None and self.cursor.reverse
        current_position = self.cursor.position if self.cursor is not None else None
        offset = self.cursor.offset if self.cursor is not None else 0
        walk = reverse_ordering(self.ordering) if reverse else self.ordering
        queryset = queryset.order_by(*walk)
        if current_position is not None:
            queryset = self._after_position(queryset, walk, current_position)

        results = list(queryset[offset : offset + self.page_size + 1])
        self.page = list(results[: self.page_size])
        has_following_position = len(results) > len(self.page)
        following_position = (
            self._get_position_from_instance(results[-1], self.ordering) if has_following_position else None
        )
        if reverse:
            self.page = list(reversed(self.page))
            self.has_next = current_position is not None or offset > 0
            self.has_previous = has_following_position
            if self.has_next:
                self.next_position = current_position
            if self.has_previous:
                self.previous_position = following_position
        else:
            self.has_next = has_following_position
            self.has_previous = current_position is not None or offset > 0
            if self.has_next:
                self.next_position = following_position
            if self.has_previous:
                self.previous_position = current_position
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page
