"""Orderings a list may be sorted by (``?ordering=``), each ending in a unique key, and keyset positions in them.

Every ordering ends with the slug, so two records never tie and a position names exactly one place in the list.
``keyset_after`` turns a position (the values of the ordering's fields in one row) into the condition "comes
after this row", which the cursor pagination uses instead of an offset: deep pages cost no more than the first.
NULLs sort as PostgreSQL sorts them by default (last when ascending, first when descending), so reversing the
ordering (previous pages) reverses the list exactly."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import django_filters
from django.db.models import Q, QuerySet


def reverse_ordering(ordering: Sequence[str]) -> tuple[str, ...]:
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in ordering)


def _strictly_after(field: str, value: Any, nullable: bool) -> Q | None:
    """Rows whose ``field`` comes after ``value`` in this direction (None: no row can)."""
    name = field.lstrip("-")
    descending = field.startswith("-")
    if value is None:
        # Ascending: NULLs come last, nothing follows them. Descending: NULLs come first, every value follows.
        return Q(**{f"{name}__isnull": False}) if descending else None
    if descending:
        return Q(**{f"{name}__lt": value})
    if nullable:
        return Q(**{f"{name}__gt": value}) | Q(**{f"{name}__isnull": True})
    return Q(**{f"{name}__gt": value})


def _equal(field: str, value: Any) -> Q:
    name = field.lstrip("-")
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def keyset_after(ordering: Sequence[str], values: Sequence[Any], nullable: Collection[str] = ()) -> Q:
    """Rows after the row whose ordering fields hold ``values``: (a > x) or (a = x and b > y) or ...

    ``nullable`` names the fields that may hold NULL (the others need no IS NULL branch)."""
    condition = Q(pk__in=[])  # matches nothing; the loop ORs the real cases in
    equal_so_far = Q()
    for field, value in zip(ordering, values, strict=True):
        after = _strictly_after(field, value, field.lstrip("-") in nullable)
        if after is not None:
            condition |= equal_so_far & after
        equal_so_far &= _equal(field, value)
    first_field, first_value = ordering[0], values[0]
    if len(ordering) == 1:
        return condition
    if first_value is not None and not first_field.startswith("-"):
        # Redundant, but lets an index on the first field start the scan at the position.
        start = Q(**{f"{first_field}__gte": first_value})
        condition &= start | Q(**{f"{first_field}__isnull": True}) if first_field in nullable else start
    elif first_value is not None:  # descending: NULLs came first, so none follows a value
        condition &= Q(**{f"{first_field[1:]}__lte": first_value})
    return condition


class OrderingFilter(django_filters.ChoiceFilter):
    """``?ordering=``: one of a fixed set of orderings; an unknown value is a 400 listing the allowed ones.

    ``orderings`` maps each public value to the fields it sorts by, ending in a unique field. The pagination
    reads the same mapping, so the page order and the cursor agree."""

    def __init__(self, *args: Any, orderings: Mapping[str, Sequence[str]], **kwargs: Any) -> None:
        self.orderings = {value: tuple(fields) for value, fields in orderings.items()}
        kwargs.setdefault("choices", [(value, value) for value in self.orderings])
        kwargs.setdefault(
            "label",
            "Sort order: " + ", ".join(self.orderings) + " (a leading - sorts descending; ties broken by slug).",
        )
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "Unknown ordering %(value)s; choose one of: " + ", ".join(self.orderings) + "."},
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in self.orderings:
            return qs.order_by(*self.orderings[value])
        return qs
