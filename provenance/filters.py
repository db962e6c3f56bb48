"""FilterSets of the provenance app: sources, and the filters every public record shares.

Every filter has a label: it is the help text of the page's form field and of the API's query parameter."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

from provenance.models import Source, SourceKind, SourceTier, VerificationStatus

BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, normalised to UTC: Python accepts UTC offsets PostgreSQL refuses (beyond +/-15:59)."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as exc:
            raise ValidationError("Enter a time that exists in UTC.", code="invalid") from exc


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class PublicRecordFilter(django_filters.FilterSet):
    """Filters of every PublicRecord resource: how well sourced, which source, synthetic or real, changed when."""

    verification_status = django_filters.ChoiceFilter(
        choices=VerificationStatus.choices, label="How well the record is sourced."
    )
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.all(),
        to_field_name="slug",
        field_name="sources",
        error_messages={"invalid_choice": "No such record: %(value)s."},
        label="Slug of a source the record as a whole rests on.",
    )
    synthetic = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES,
        field_name="is_synthetic",
        method="filter_synthetic",
        label="true: only generated benchmark records; false: only real ones.",
    )
    changed_since = UTCIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after this time (ISO 8601)."
    )

    def filter_synthetic(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(is_synthetic=value == "true")


class ClaimedRecordFilter(PublicRecordFilter):
    """Filters of the records that carry claims per field (and so can be disputed)."""

    disputed = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES,
        method="filter_disputed",
        label="true: only records on which sources disagree about a field; false: only undisputed records.",
    )

    def filter_disputed(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.disputed() if value == "true" else queryset.undisputed()  # type: ignore[attr-defined]


class SourceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label="What sort of document the source is.")
    tier = django_filters.ChoiceFilter(
        choices=SourceTier.choices, label="primary: the document itself; secondary: a report on it."
    )
    publisher = django_filters.CharFilter(
        lookup_expr="icontains", max_length=300, label="Publisher name contains this text (any case)."
    )
    published_after = django_filters.DateFilter(
        field_name="published_on", lookup_expr="gte", label="Published on or after this date (YYYY-MM-DD)."
    )
    published_before = django_filters.DateFilter(
        field_name="published_on", lookup_expr="lte", label="Published on or before this date (YYYY-MM-DD)."
    )
    synthetic = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES,
        field_name="is_synthetic",
        method="filter_synthetic",
        label="true: only generated benchmark sources; false: only real ones.",
    )
    changed_since = UTCIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after this time (ISO 8601)."
    )

    class Meta:
        model = Source
        fields: list[str] = []

    def filter_synthetic(self, queryset: QuerySet[Source], name: str, value: str) -> QuerySet[Source]:
        return queryset.filter(is_synthetic=value == "true")
