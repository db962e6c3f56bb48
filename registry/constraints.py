"""Database constraints shared by several apps, so each invariant is written once."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractYear, Now

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
EARLIEST_YEAR = 1800


def slug_format_check(prefix: str, field: str = "slug") -> models.CheckConstraint:
    """Slugs are lowercase ASCII words joined by single hyphens, so citations stay clean."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__regex": SLUG_PATTERN}),
        name=f"{prefix}_{field}_format",
        violation_error_message="A slug is lowercase letters and digits in words joined by single hyphens.",
    )


def year_range_check(prefix: str, field: str) -> models.CheckConstraint:
    """A year is empty or between 1800 and the current year (evaluated by the database at write time)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | (Q(**{f"{field}__gte": EARLIEST_YEAR}) & Q(**{f"{field}__lte": ExtractYear(Now())})),
        name=f"{prefix}_{field}_in_range",
        violation_error_message=f"The {field.replace('_', ' ')} must lie between {EARLIEST_YEAR} and this year.",
    )


def choices_check(prefix: str, field: str, values: list[str]) -> models.CheckConstraint:
    """An enumeration checked by the database, not only by forms."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=f"{prefix}_{field}_valid",
        violation_error_message=f"The {field.replace('_', ' ')} must be one of: {', '.join(values)}.",
    )


def not_blank_check(prefix: str, field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(**{field: ""}),
        name=f"{prefix}_{field}_not_blank",
        violation_error_message=f"The {field.replace('_', ' ')} cannot be empty.",
    )
