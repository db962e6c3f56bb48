"""Admin for overreach case studies, their quotes and the issue types they expose."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cases.models import CaseQuote, IssueType, OverreachCase
from provenance.admin import COMPACT_TEXT, claim_inline
from registry.admin import RECORD_LIST_FILTERS, DisputedFilter, PublicRecordAdmin, RegistryModelAdmin


@admin.register(IssueType)
class IssueTypeAdmin(RegistryModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class CaseQuoteInline(admin.TabularInline):
    model = CaseQuote
    extra = 1
    fields = ["position", "text", "speaker", "source"]
    autocomplete_fields = ["source"]
    formfield_overrides = COMPACT_TEXT

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("source")


@admin.register(OverreachCase)
class OverreachCaseAdmin(PublicRecordAdmin):
    list_display = [
        "title",
        "location",
        "jurisdiction",
        "year",
        "found_by_kind",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_select_related = ["jurisdiction"]
    list_filter = [*RECORD_LIST_FILTERS, DisputedFilter, "found_by_kind", "jurisdiction__level", "issues"]
    search_fields = ["title", "slug", "location", "found_by"]
    autocomplete_fields = ["jurisdiction", "partnerships", "surveillance_methods", "issues", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CaseQuoteInline, claim_inline("overreach_case")]


@admin.register(CaseQuote)
class CaseQuoteAdmin(RegistryModelAdmin):
    list_display = ["case", "speaker", "excerpt", "source"]
    list_select_related = ["case", "source"]
    search_fields = ["text", "speaker", "case__title"]
    autocomplete_fields = ["case", "source"]

    @admin.display(description="quote")
    def excerpt(self, obj: CaseQuote) -> str:
        return obj.text if len(obj.text) <= 100 else obj.text[:99] + "…"
