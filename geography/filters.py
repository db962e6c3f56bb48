"""FilterSets of the geography app, and the jurisdiction filters other apps use ("in the UK, including
its nations and cities").

Every filter has a label: it is the help text of the page's form field and of the API's query parameter."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from geography.models import Jurisdiction, JurisdictionLevel


class JurisdictionSlugFilter(django_filters.ModelChoiceFilter):
    """A jurisdiction named by its slug; an unknown slug is a 400 naming the parameter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Jurisdiction.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("error_messages", {"invalid_choice": "No such record: %(value)s."})
        super().__init__(*args, **kwargs)


class JurisdictionBelowFilter(JurisdictionSlugFilter):
    """Records in the jurisdiction named by slug or in any jurisdiction below it (one recursive query)."""

    def filter(self, qs: QuerySet[Any], value: Jurisdiction | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__in": Jurisdiction.objects.descendants_of(value)})


class CountryFilter(django_filters.CharFilter):
    """A country by ISO code (GB) or slug, through the record's ``<field_name>`` jurisdiction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("label", "Country: ISO 3166-1 alpha-2 code (GB) or slug.")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        if not value:
            return qs
        prefix = f"{self.field_name}__" if self.field_name != "country" else ""
        return qs.filter(Q(**{f"{prefix}country__slug": value}) | Q(**{f"{prefix}country__code": value.upper()}))


class JurisdictionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        choices=JurisdictionLevel.choices, label="Level in the tree: international, supranational, national, ..."
    )
    country = CountryFilter(field_name="country")
    parent = JurisdictionSlugFilter(label="Slug of the jurisdiction directly above.")
    below = JurisdictionSlugFilter(
        method="filter_below", label="Slug of a jurisdiction: everything under it (not itself)."
    )
    subdivision_code = django_filters.CharFilter(
        max_length=10, method="filter_subdivision_code", label="ISO 3166-2 subdivision code, e.g. US-CA."
    )

    class Meta:
        model = Jurisdiction
        fields: list[str] = []

    def filter_below(self, queryset: QuerySet[Jurisdiction], name: str, value: Jurisdiction) -> QuerySet[Jurisdiction]:
        return queryset.filter(pk__in=Jurisdiction.objects.descendants_of(value, include_self=False))

    def filter_subdivision_code(
        self, queryset: QuerySet[Jurisdiction], name: str, value: str
    ) -> QuerySet[Jurisdiction]:
        return queryset.filter(subdivision_code=value.upper())
