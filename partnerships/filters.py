"""FilterSets of the partnerships app, shared by the JSON API and the HTML list pages.

Every filter has a label: it is the help text of the page's form field and of the API's query parameter."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from geography.filters import CountryFilter, JurisdictionBelowFilter
from geography.models import Jurisdiction, Region
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    AssessmentStatus,
    Challenge,
    DataSharing,
    FocusArea,
    Objective,
    Partnership,
    PartnershipQuerySet,
    PartnershipStatus,
    PoliceDepartment,
    StakeholderGroup,
    SurveillancePractice,
)
from partnerships.search import partnership_search
from provenance.filters import ClaimedRecordFilter, PublicRecordFilter, UTCIsoDateTimeFilter
from provenance.models import VerificationStatus
from registry.ordering import OrderingFilter
from registry.search import SearchFilter

EARLIEST_YEAR = 1800
BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


def validate_year(value: int) -> None:
    latest = timezone.now().year
    if not EARLIEST_YEAR <= value <= latest:
        raise ValidationError(f"Enter a year from {EARLIEST_YEAR} to {latest}.", code="invalid_year")


class YearFilter(django_filters.NumberFilter):
    """A year from 1800 to the current year (checked on each request, so the bound moves with the calendar)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [validate_year])
        super().__init__(*args, **kwargs)


class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    """A related record named by its slug; an unknown slug is a 400 naming the parameter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("error_messages", {"invalid_choice": "No such record: %(value)s."})
        super().__init__(*args, **kwargs)


class PartnershipFilter(django_filters.FilterSet):
    region = SlugChoiceFilter(
        queryset=Region.objects.all(), method="filter_region", label="Region slug, e.g. north-america."
    )
    country = django_filters.CharFilter(
        method="filter_country", max_length=80, label="Country: ISO 3166-1 alpha-2 code (GB) or slug."
    )
    jurisdiction = SlugChoiceFilter(
        queryset=Jurisdiction.objects.all(),
        method="filter_jurisdiction",
        label="Jurisdiction slug; includes every jurisdiction below it (a country's states and cities).",
    )
    focus_area = SlugChoiceFilter(
        queryset=FocusArea.objects.all(), field_name="focus_areas", label="Focus area slug, e.g. domestic-violence."
    )
    ngo = SlugChoiceFilter(queryset=NGO.objects.public(), field_name="ngos", label="Slug of an NGO taking part.")
    police_department = SlugChoiceFilter(
        queryset=PoliceDepartment.objects.public(),
        field_name="police_departments",
        label="Slug of a police department taking part.",
    )
    year_min = YearFilter(
        field_name="year_established", lookup_expr="gte", label="Established in or after this year (1800 to now)."
    )
    year_max = YearFilter(
        field_name="year_established", lookup_expr="lte", label="Established in or before this year (1800 to now)."
    )
    status = django_filters.ChoiceFilter(
        choices=PartnershipStatus.choices, label="Whether the partnership is active, ended or unknown."
    )
    data_sharing = django_filters.ChoiceFilter(
        choices=DataSharing.choices, label="Data-sharing arrangement, from none to real-time police access."
    )
    surveillance_practice = SlugChoiceFilter(
        queryset=SurveillancePractice.objects.public(),
        field_name="surveillance_practices",
        label="Slug of a surveillance practice the partnership uses.",
    )
    mechanism_present = SlugChoiceFilter(
        queryset=AccountabilityMechanism.objects.public(),
        method="filter_mechanism_present",
        label="Accountability mechanism slug: partnerships with evidence that it is present.",
    )
    mechanism_absent = SlugChoiceFilter(
        queryset=AccountabilityMechanism.objects.public(),
        method="filter_mechanism_absent",
        label="Accountability mechanism slug: partnerships with evidence that it is absent.",
    )
    mechanism_unknown = SlugChoiceFilter(
        queryset=AccountabilityMechanism.objects.public(),
        method="filter_mechanism_unknown",
        label="Accountability mechanism slug: partnerships for which no source says either way.",
    )
    mechanism_lacking = SlugChoiceFilter(
        queryset=AccountabilityMechanism.objects.public(),
        method="filter_mechanism_lacking",
        label="Accountability mechanism slug: partnerships with no evidence that it is present (absent or unknown).",
    )
    verification_status = django_filters.ChoiceFilter(
        choices=VerificationStatus.choices, label="How well the record is sourced."
    )
    disputed = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES,
        method="filter_disputed",
        label="true: only records on which sources disagree about a field; false: only undisputed records.",
    )
    changed_since = UTCIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after this time (ISO 8601)."
    )
    q = SearchFilter(method="filter_q")
    ordering = OrderingFilter(
        orderings={
            "name": ("name", "slug"),
            "-name": ("-name", "slug"),
            "year_established": ("year_established", "slug"),
            "-year_established": ("-year_established", "slug"),
            "updated_at": ("updated_at", "slug"),
            "-updated_at": ("-updated_at", "slug"),
        },
        label="Sort order: name, year_established or updated_at; a leading - sorts descending. Ties are broken "
        "by slug; unknown years come last ascending, first descending. Default: best match first with q, else slug.",
    )

    class Meta:
        model = Partnership
        fields: list[str] = []

    def filter_region(self, queryset: PartnershipQuerySet, name: str, value: Region) -> PartnershipQuerySet:
        return queryset.in_region(value)

    def filter_country(self, queryset: PartnershipQuerySet, name: str, value: str) -> PartnershipQuerySet:
        return queryset.in_country(value)

    def filter_jurisdiction(self, queryset: PartnershipQuerySet, name: str, value: Jurisdiction) -> PartnershipQuerySet:
        return queryset.in_jurisdiction(value)

    def filter_mechanism_present(
        self, queryset: PartnershipQuerySet, name: str, value: AccountabilityMechanism
    ) -> PartnershipQuerySet:
        return queryset.with_mechanism(value, AssessmentStatus.PRESENT)

    def filter_mechanism_absent(
        self, queryset: PartnershipQuerySet, name: str, value: AccountabilityMechanism
    ) -> PartnershipQuerySet:
        return queryset.with_mechanism(value, AssessmentStatus.ABSENT)

    def filter_mechanism_unknown(
        self, queryset: PartnershipQuerySet, name: str, value: AccountabilityMechanism
    ) -> PartnershipQuerySet:
        return queryset.with_mechanism(value, AssessmentStatus.UNKNOWN)

    def filter_mechanism_lacking(
        self, queryset: PartnershipQuerySet, name: str, value: AccountabilityMechanism
    ) -> PartnershipQuerySet:
        return queryset.lacking(value)

    def filter_disputed(self, queryset: PartnershipQuerySet, name: str, value: str) -> PartnershipQuerySet:
        return queryset.disputed() if value == "true" else queryset.undisputed()

    def filter_q(self, queryset: PartnershipQuerySet, name: str, value: str) -> PartnershipQuerySet:
        return partnership_search(queryset=queryset, text=value)


# --- Organisations, practices, mechanisms and the reference tables -------------------------------------


class OrganisationFilter(ClaimedRecordFilter):
    """Filters shared by NGOs and police departments."""

    jurisdiction = JurisdictionBelowFilter(
        label="Jurisdiction slug; includes every jurisdiction below it (a country's states and cities)."
    )
    country = CountryFilter(field_name="jurisdiction")


class NGOFilter(OrganisationFilter):
    class Meta:
        model = NGO
        fields: list[str] = []


class PoliceDepartmentFilter(OrganisationFilter):
    class Meta:
        model = PoliceDepartment
        fields: list[str] = []


class SurveillancePracticeFilter(ClaimedRecordFilter):
    class Meta:
        model = SurveillancePractice
        fields: list[str] = []


class AccountabilityMechanismFilter(PublicRecordFilter):
    class Meta:
        model = AccountabilityMechanism
        fields: list[str] = []


class ObjectiveFilter(PublicRecordFilter):
    class Meta:
        model = Objective
        fields: list[str] = []


class ChallengeFilter(PublicRecordFilter):
    class Meta:
        model = Challenge
        fields: list[str] = []


class StakeholderGroupFilter(PublicRecordFilter):
    class Meta:
        model = StakeholderGroup
        fields: list[str] = []
