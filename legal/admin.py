"""Admin for legal topics, legal instruments and oversight bodies."""

from __future__ import annotations

from django.contrib import admin

from legal.models import LegalInstrument, LegalTopic, OversightBody
from provenance.admin import claim_inline
from registry.admin import RECORD_LIST_FILTERS, DisputedFilter, PublicRecordAdmin, RegistryModelAdmin


@admin.register(LegalTopic)
class LegalTopicAdmin(RegistryModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LegalInstrument)
class LegalInstrumentAdmin(PublicRecordAdmin):
    list_display = [
        "short_name",
        "title",
        "jurisdiction",
        "kind",
        "year",
        "in_force_from",
        "in_force_to",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_select_related = ["jurisdiction"]
    list_filter = [*RECORD_LIST_FILTERS, DisputedFilter, "kind", "jurisdiction__level", "topics"]
    search_fields = ["short_name", "title", "slug", "jurisdiction__name"]
    autocomplete_fields = ["jurisdiction", "topics", "sources"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [claim_inline("legal_instrument")]


@admin.register(OversightBody)
class OversightBodyAdmin(PublicRecordAdmin):
    list_display = [
        "name",
        "kind",
        "jurisdiction",
        "verification",
        "disputed",
        "is_published",
        "is_synthetic",
        "updated_at",
    ]
    list_select_related = ["jurisdiction"]
    list_filter = [*RECORD_LIST_FILTERS, DisputedFilter, "kind", "jurisdiction__level"]
    search_fields = ["name", "slug", "jurisdiction__name"]
    autocomplete_fields = ["jurisdiction", "instruments", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [claim_inline("oversight_body")]
