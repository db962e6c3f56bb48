"""FilterSets of the legal app: legal instruments and oversight bodies.

Every filter has a label: it is the help text of the page's form field and of the API's query parameter."""

from __future__ import annotations

import datetime

import django_filters

from geography.filters import CountryFilter, JurisdictionBelowFilter
from legal.models import (
    InstrumentKind,
    LegalInstrument,
    LegalInstrumentQuerySet,
    LegalTopic,
    OversightBody,
    OversightKind,
)
from partnerships.filters import SlugChoiceFilter, YearFilter
from provenance.filters import ClaimedRecordFilter


class LegalInstrumentFilter(ClaimedRecordFilter):
    jurisdiction = JurisdictionBelowFilter(
        label="Jurisdiction slug; includes every jurisdiction below it (a country's states and cities)."
    )
    country = CountryFilter(field_name="jurisdiction")
    kind = django_filters.ChoiceFilter(
        choices=InstrumentKind.choices, label="What sort of instrument: treaty, regulation, statute, ..."
    )
    topic = SlugChoiceFilter(
        queryset=LegalTopic.objects.all(), field_name="topics", label="Legal topic slug, e.g. data-protection."
    )
    in_force_on = django_filters.DateFilter(
        method="filter_in_force_on",
        label="In force on this date (YYYY-MM-DD); instruments without dates are kept, as they cannot be ruled out.",
    )
    year_min = YearFilter(field_name="year", lookup_expr="gte", label="Adopted in or after this year (1800 to now).")
    year_max = YearFilter(field_name="year", lookup_expr="lte", label="Adopted in or before this year (1800 to now).")
    in_force_from_after = django_filters.DateFilter(
        field_name="in_force_from", lookup_expr="gte", label="Took effect on or after this date (YYYY-MM-DD)."
    )
    in_force_to_before = django_filters.DateFilter(
        field_name="in_force_to", lookup_expr="lte", label="Ceased to have effect on or before this date (YYYY-MM-DD)."
    )

    class Meta:
        model = LegalInstrument
        fields: list[str] = []

    def filter_in_force_on(
        self, queryset: LegalInstrumentQuerySet, name: str, value: datetime.date
    ) -> LegalInstrumentQuerySet:
        return queryset.in_force_on(value)


class OversightBodyFilter(ClaimedRecordFilter):
    jurisdiction = JurisdictionBelowFilter(
        label="Jurisdiction slug; includes every jurisdiction below it (a country's states and cities)."
    )
    country = CountryFilter(field_name="jurisdiction")
    kind = django_filters.ChoiceFilter(
        choices=OversightKind.choices, label="What sort of body: commissioner, UN mandate, court, ..."
    )
    instrument = SlugChoiceFilter(
        queryset=LegalInstrument.objects.public(),
        field_name="instruments",
        label="Slug of a legal instrument the body oversees.",
    )

    class Meta:
        model = OversightBody
        fields: list[str] = []
