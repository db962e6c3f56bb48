"""Admin for partnerships, the organisations in them, surveillance practices, the accountability
checklist and the seed's reference tables."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import CharField, F, Func, Value
from django.http import HttpRequest

from imports.admin import ImportExportMixin
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    Challenge,
    FocusArea,
    MechanismAssessment,
    Objective,
    Partnership,
    PoliceDepartment,
    StakeholderGroup,
    SurveillancePractice,
)
from partnerships.search import partnership_matches
from provenance.admin import COMPACT_TEXT, claim_inline
from registry.admin import RECORD_LIST_FILTERS, DisputedFilter, PublicRecordAdmin, RegistryModelAdmin
from registry.admin_paginator import CappedCountPaginator
from registry.search import validate_search

RECORD_COLUMNS = ["verification", "is_published", "is_synthetic", "updated_at"]


@admin.register(FocusArea)
class FocusAreaAdmin(ImportExportMixin, RegistryModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class OrganisationAdmin(PublicRecordAdmin):
    """NGOs and police departments: searchable by any of their aliases too ("NYPD")."""

    list_display = [
        "name",
        "jurisdiction",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_select_related = ["jurisdiction"]
    list_filter = [*RECORD_LIST_FILTERS, DisputedFilter, "jurisdiction__level"]
    search_fields = ["name", "slug", "aliases_text", "website"]
    autocomplete_fields = ["jurisdiction", "sources"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> Any:
        # "aliases_text" is searchable like a column: the aliases joined by spaces.
        aliases_text = Func(F("aliases"), Value(" "), function="array_to_string", output_field=CharField())
        return super().get_queryset(request).alias(aliases_text=aliases_text)


@admin.register(NGO)
class NGOAdmin(ImportExportMixin, OrganisationAdmin):
    inlines = [claim_inline("ngo")]


@admin.register(PoliceDepartment)
class PoliceDepartmentAdmin(ImportExportMixin, OrganisationAdmin):
    inlines = [claim_inline("police_department")]


@admin.register(SurveillancePractice)
class SurveillancePracticeAdmin(ImportExportMixin, PublicRecordAdmin):
    list_display = [
        "name",
        "implementation",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_filter = [*RECORD_LIST_FILTERS, DisputedFilter]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["sources"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [claim_inline("surveillance_practice")]


@admin.register(AccountabilityMechanism)
class AccountabilityMechanismAdmin(PublicRecordAdmin):
    list_display = ["position", "name", "recommendation", *RECORD_COLUMNS]
    list_display_links = ["name"]
    list_filter = list(RECORD_LIST_FILTERS)
    search_fields = ["name", "slug", "recommendation"]
    autocomplete_fields = ["sources"]
    prepopulated_fields = {"slug": ["name"]}


class MechanismAssessmentInline(admin.TabularInline):
    """The partnership's accountability checklist: one row per mechanism, with its evidence."""

    model = MechanismAssessment
    extra = 1
    fields = ["mechanism", "status", "evidence", "note"]
    autocomplete_fields = ["mechanism", "evidence"]
    formfield_overrides = COMPACT_TEXT

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("mechanism", "evidence")


@admin.register(Partnership)
class PartnershipAdmin(ImportExportMixin, PublicRecordAdmin):
    list_display = [
        "name",
        "region",
        "jurisdiction",
        "year_established",
        "status",
        "data_sharing",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_select_related = ["region", "jurisdiction"]
    # Publish or unpublish from the list; each row carries its version (registry/admin_conflicts.py).
    list_editable = ["is_published"]
    list_filter = [
        *RECORD_LIST_FILTERS,
        DisputedFilter,
        "status",
        "data_sharing",
        "formalisation",
        "region",
        "jurisdiction__level",
        "focus_areas",
        "surveillance_practices",
        "updated_at",
    ]
    search_fields = ["name", "slug", "ngos__name", "police_departments__name"]
    search_help_text = (
        "Words of the name, focus, objective or description (the public search: accents and near-miss names "
        'forgiven, "a phrase", -excluded, or), an NGO or police department name, or an exact slug.'
    )
    autocomplete_fields = [
        "ngos",
        "police_departments",
        "region",
        "jurisdiction",
        "focus_areas",
        "surveillance_practices",
        "sources",
    ]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [claim_inline("partnership"), MechanismAssessmentInline]
    # A million rows: newest changes first on the updated_at index, no second COUNT(*) per page, and the count
    # of a filter stops at 10,000 (registry/admin_paginator.py).
    ordering = ["-updated_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would each scan the table

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """The public search's indexed lookups (stored vector, trigram name and organisation indexes), or an exact
        slug, instead of ``icontains`` on four columns: a substring match cannot use an index, so on a million
        partnerships it read the whole table on every search and every autocomplete keystroke."""
        text = search_term.strip()
        if not text:
            return queryset, False
        try:
            validate_search(text)
        except ValidationError:
            return queryset.none(), False  # too long, or a NUL byte: nothing matches, no error page
        # One IN over a union (not "IN ... OR slug = ..."): the planner then joins the few matching ids instead of
        # testing the OR on every row in updated_at order (4.5 s at a million partnerships).
        by_slug = Partnership.objects.filter(slug=text).order_by().values("pk")
        return queryset.filter(pk__in=partnership_matches(text=text).union(by_slug)), False


@admin.register(MechanismAssessment)
class MechanismAssessmentAdmin(RegistryModelAdmin):
    list_display = ["partnership", "mechanism", "status", "evidence", "updated_at"]
    list_select_related = ["partnership", "mechanism", "evidence"]
    list_filter = ["status", "mechanism"]
    search_fields = ["partnership__name", "mechanism__name", "note"]
    autocomplete_fields = ["partnership", "mechanism", "evidence"]
    ordering = ["-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would each scan the table
    formfield_overrides = COMPACT_TEXT


class ReferenceTableAdmin(PublicRecordAdmin):
    """The seed's reference tables (objectives, challenges, stakeholder groups), kept in table order."""

    list_display = ["position", "name", *RECORD_COLUMNS]
    list_display_links = ["name"]
    list_filter = list(RECORD_LIST_FILTERS)
    search_fields = ["name", "slug"]
    autocomplete_fields = ["sources"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Objective)
class ObjectiveAdmin(ReferenceTableAdmin):
    pass


@admin.register(Challenge)
class ChallengeAdmin(ReferenceTableAdmin):
    pass


@admin.register(StakeholderGroup)
class StakeholderGroupAdmin(ReferenceTableAdmin):
    pass
