"""Admin for sources and claims, and the Claim inline every claimable record's page carries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from provenance.models import CLAIM_TARGETS, CLAIMABLE_FIELDS, Claim, Source
from registry.admin import RegistryModelAdmin

COMPACT_TEXT: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 24})}
}


@admin.register(Source)
class SourceAdmin(RegistryModelAdmin):
    list_display = ["title", "publisher", "kind", "tier", "published_on", "is_synthetic", "updated_at"]
    list_filter = ["kind", "tier", "is_synthetic"]
    search_fields = ["title", "publisher", "author", "slug", "url"]
    prepopulated_fields = {"slug": ["title"]}
    ordering = ["-id"]  # newest first, on the primary key index (the table grows with the registry)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would each scan the table


class ClaimRecordTypeFilter(admin.SimpleListFilter):
    title = "record type"
    parameter_name = "record_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(target, str(apps.get_model(label)._meta.verbose_name)) for target, label in CLAIM_TARGETS.items()]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in CLAIM_TARGETS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


class ClaimFieldFilter(admin.SimpleListFilter):
    """The claimable fields, from CLAIMABLE_FIELDS (no DISTINCT over the claims table)."""

    title = "field"
    parameter_name = "field"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        fields = sorted({field for fields in CLAIMABLE_FIELDS.values() for field in fields})
        return [(field, field.replace("_", " ")) for field in fields]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(field=self.value()) if self.value() else queryset


@admin.register(Claim)
class ClaimAdmin(RegistryModelAdmin):
    list_display = ["field", "value", "record", "source", "locator", "created_at"]
    list_select_related = ["source", *CLAIM_TARGETS]
    list_filter = [ClaimRecordTypeFilter, ClaimFieldFilter]
    search_fields = ["value", "quote", "locator", "source__title"]
    autocomplete_fields = ["source", *CLAIM_TARGETS]
    ordering = ["-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would each scan the table
    formfield_overrides = COMPACT_TEXT

    @admin.display(description="record")
    def record(self, obj: Claim) -> str:
        record = obj.record
        return f"{record._meta.verbose_name}: {record}" if record is not None else "—"


class ClaimInline(admin.TabularInline):
    """Claims about one record; ``fk_name`` is the record's claim target (see claim_inline)."""

    model = Claim
    extra = 1
    fields = ["field", "value", "source", "locator", "quote", "note"]
    autocomplete_fields = ["source"]
    formfield_overrides = COMPACT_TEXT

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("source")

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "field":
            # Only the fields this record type may carry claims on (the database refuses any other).
            record_model = apps.get_model(CLAIM_TARGETS[str(self.fk_name)])
            choices = [
                (name, str(record_model._meta.get_field(name).verbose_name))
                for name in CLAIMABLE_FIELDS[str(self.fk_name)]
            ]
            return forms.ChoiceField(choices=[("", "---------"), *choices], required=True, help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def claim_inline(target: str) -> type[ClaimInline]:
    """The Claim inline for the record type ``target`` (a key of CLAIM_TARGETS)."""
    if target not in CLAIM_TARGETS:
        raise ValueError(f"{target!r} records do not carry claims.")
    return type(
        f"{target.title().replace('_', '')}ClaimInline", (ClaimInline,), {"fk_name": target, "__module__": __name__}
    )
