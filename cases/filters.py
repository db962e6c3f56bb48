"""FilterSets of the cases app: overreach cases.

Every filter has a label: it is the help text of the page's form field and of the API's query parameter."""

from __future__ import annotations

import django_filters

from cases.models import FinderKind, IssueType, OverreachCase
from geography.filters import CountryFilter, JurisdictionBelowFilter
from partnerships.filters import SlugChoiceFilter, YearFilter
from partnerships.models import Partnership, SurveillancePractice
from provenance.filters import ClaimedRecordFilter


class OverreachCaseFilter(ClaimedRecordFilter):
    year_min = YearFilter(field_name="year", lookup_expr="gte", label="Happened in or after this year (1800 to now).")
    year_max = YearFilter(field_name="year", lookup_expr="lte", label="Happened in or before this year (1800 to now).")
    jurisdiction = JurisdictionBelowFilter(
        label="Jurisdiction slug; includes every jurisdiction below it (a country's states and cities)."
    )
    country = CountryFilter(field_name="jurisdiction")
    surveillance_method = SlugChoiceFilter(
        queryset=SurveillancePractice.objects.public(),
        field_name="surveillance_methods",
        label="Slug of a surveillance practice used in the case.",
    )
    issue = SlugChoiceFilter(
        queryset=IssueType.objects.all(), field_name="issues", label="Issue slug, e.g. privacy-breach."
    )
    partnership = SlugChoiceFilter(
        queryset=Partnership.objects.public(),
        field_name="partnerships",
        label="Slug of a registry partnership involved in the case.",
    )
    found_by_kind = django_filters.ChoiceFilter(
        choices=FinderKind.choices, label="What kind of finder exposed it: audit, journalism, court, ..."
    )

    class Meta:
        model = OverreachCase
        fields: list[str] = []
