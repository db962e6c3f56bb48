"""Admin for regions, countries and the jurisdiction tree."""

from __future__ import annotations

from django.contrib import admin

from geography.models import Country, Jurisdiction, Region
from registry.admin import RegistryModelAdmin


@admin.register(Region)
class RegionAdmin(RegistryModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Country)
class CountryAdmin(RegistryModelAdmin):
    list_display = ["name", "code", "region"]
    list_select_related = ["region"]
    list_filter = ["region"]
    search_fields = ["name", "code", "slug"]
    autocomplete_fields = ["region"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Jurisdiction)
class JurisdictionAdmin(RegistryModelAdmin):
    list_display = ["name", "level", "parent", "country", "subdivision_code"]
    list_select_related = ["parent", "country"]
    list_filter = ["level", "country__region"]
    search_fields = ["name", "slug", "subdivision_code", "country__code", "country__name"]
    autocomplete_fields = ["parent", "country"]
    prepopulated_fields = {"slug": ["name"]}
