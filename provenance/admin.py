"""Admin for sources and claims, the Claim inline every claimable record's page carries, and the reviewers'
dispute resolution: a page per disputed record comparing the claims side by side, and a read-only list of the
resolutions made."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from imports.admin import ImportExportMixin
from provenance.models import (
    CLAIM_TARGETS,
    CLAIMABLE_FIELDS,
    MANY_TO_MANY_CLAIMABLE,
    Claim,
    DisputeResolution,
    PublicRecord,
    Source,
    latest_resolutions,
)
from provenance.services import RESOLVE_DISPUTE_PERMISSION, claimed_values, dispute_resolve
from registry.admin import RegistryModelAdmin
from registry.presentation import field_label

COMPACT_TEXT: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 24})}
}


@admin.register(Source)
class SourceAdmin(ImportExportMixin, RegistryModelAdmin):
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


# --- Dispute resolution ------------------------------------------------------------------------------------


class DisputeResolutionForm(forms.Form):
    """The reviewers' choice for one disputed field: one of the claimed values, and why."""

    field = forms.CharField(widget=forms.HiddenInput)
    chosen_value = forms.ChoiceField(
        label="Value the record shows", widget=forms.RadioSelect, error_messages={"required": "Choose a value."}
    )
    reason = forms.CharField(
        label="Why this value",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Shown publicly beside the claims, attributed to \u201cthe reviewers\u201d.",
        error_messages={"required": "Say why this value was chosen: the reason is shown publicly."},
    )

    def __init__(self, *args: Any, values: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen: Any = self.fields["chosen_value"]
        chosen.choices = [(value, value) for value in values]


def disputes_url(record: PublicRecord) -> str:
    """The reviewers' page for the disputes of ``record``."""
    return reverse("admin:provenance_disputeresolution_resolve", args=[type(record).claim_target, record.pk])


# How many disputed records of each kind the "choose a disputed record" page lists (the changelists' "disputed"
# filter lists them all).
DISPUTED_RECORDS_LISTED = 50


@admin.register(DisputeResolution)
class DisputeResolutionAdmin(admin.ModelAdmin):
    """Resolutions are made on a record's "Resolve disputes" page and never edited afterwards: a later
    resolution supersedes an earlier one. This list is read-only."""

    list_display = ["field", "chosen_value", "record_link", "resolved_by", "resolved_at"]
    list_select_related = ["resolved_by", *CLAIM_TARGETS]
    list_filter = ["field", "resolved_at"]
    search_fields = ["chosen_value", "reason", "field"]
    ordering = ["-resolved_at", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    date_hierarchy = None

    readonly_fields = [
        *CLAIM_TARGETS,
        "field",
        "chosen_value",
        "chosen_claim",
        "reason",
        "resolved_by",
        "resolved_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # "Add" leads reviewers to the disputed records (add_view); resolutions are made on a record's page.
        return request.user.has_perm(RESOLVE_DISPUTE_PERMISSION)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Which records have disputes to resolve: the most recently changed of each kind, each linking to its
        "Resolve disputes" page (one query per kind of record)."""
        if not self.has_add_permission(request):
            raise PermissionDenied("Resolving disputes needs the reviewers' permission (accounts.resolve_dispute).")
        kinds = []
        for label in CLAIM_TARGETS.values():
            model: Any = apps.get_model(label)
            queryset = model.objects.disputed().order_by("-updated_at", "-pk")
            if any(f.name == "search_vector" for f in model._meta.concrete_fields):
                queryset = queryset.defer("search_vector")
            records = list(queryset[: DISPUTED_RECORDS_LISTED + 1])
            if records:
                kinds.append(
                    {
                        "plural": model._meta.verbose_name_plural,
                        "records": [(record, disputes_url(record)) for record in records[:DISPUTED_RECORDS_LISTED]],
                        "more": len(records) > DISPUTED_RECORDS_LISTED,
                        "changelist": reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                        + "?disputed=yes",
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Resolve a dispute: choose a disputed record",
            "opts": self.model._meta,
            "kinds": kinds,
        }
        return TemplateResponse(request, "admin/provenance/disputed_records.html", context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="record")
    def record_link(self, obj: DisputeResolution) -> str:
        record = obj.record
        if record is None:
            return "\u2014"
        return format_html('{}: <a href="{}">{}</a>', record._meta.verbose_name, disputes_url(record), str(record))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "resolve/<str:target>/<int:pk>/",
                self.admin_site.admin_view(self.resolve_view),
                name="provenance_disputeresolution_resolve",
            ),
            *super().get_urls(),
        ]

    # --- The reviewers' page ----------------------------------------------------------------------------

    def resolve_view(self, request: HttpRequest, target: str, pk: int) -> HttpResponse:
        if not request.user.has_perm(RESOLVE_DISPUTE_PERMISSION):
            raise PermissionDenied("Resolving disputes needs the reviewers' permission (accounts.resolve_dispute).")
        if target not in CLAIM_TARGETS:
            raise Http404("No such kind of record.")
        model: Any = apps.get_model(CLAIM_TARGETS[target])
        record = model._default_manager.filter(pk=pk).first()
        if record is None:
            raise Http404(f"No {model._meta.verbose_name} with this id.")
        posted_field = request.POST.get("field", "") if request.method == "POST" else ""
        bound: DisputeResolutionForm | None = None
        if request.method == "POST":
            values = sorted(claimed_values(record=record, field=posted_field)) if posted_field else []
            bound = DisputeResolutionForm(request.POST, values=values, prefix=None)
            if bound.is_valid():
                try:
                    dispute_resolve(
                        record=record,
                        field=bound.cleaned_data["field"],
                        chosen_value=bound.cleaned_data["chosen_value"],
                        reason=bound.cleaned_data["reason"],
                        reviewer=request.user,
                    )
                except ValidationError as error:
                    for name, errors in error.message_dict.items():
                        bound.add_error(name if name in bound.fields else None, errors)
                else:
                    label = field_label(model, bound.cleaned_data["field"]).lower()
                    self.message_user(
                        request,
                        f"Resolved the dispute about {label}: {bound.cleaned_data['chosen_value']}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(request.path)
        disputes = self.disputes(record, bound, posted_field)
        if bound is not None and not any(dispute["form"] is bound for dispute in disputes):
            # A field that is not (or no longer) disputed, or cannot be resolved here: say so above the page.
            problems = [str(message) for errors in bound.errors.values() for message in errors]
            self.message_user(
                request,
                " ".join(problems) or f"\u201c{posted_field}\u201d is not a disputed field of this record.",
                messages.ERROR,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve disputes: {record}",
            "record": record,
            "record_opts": model._meta,
            "opts": self.model._meta,
            "change_url": reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[record.pk]),
            "disputes": disputes,
            "many_to_many": sorted(MANY_TO_MANY_CLAIMABLE.get(target, ())),
        }
        status = 400 if bound is not None else 200
        return TemplateResponse(request, "admin/provenance/resolve_disputes.html", context, status=status)

    def disputes(
        self, record: PublicRecord, bound: DisputeResolutionForm | None, posted_field: str
    ) -> list[dict[str, Any]]:
        """Each disputed field of ``record``: its claimed values with their claims, the current resolution,
        the record's current value, and the form (bound to the POST for the field just submitted)."""
        model = type(record)
        target = model.claim_target
        claims = Claim.objects.for_record(record).select_related("source").order_by("field", "value", "id")
        grouped: dict[str, dict[str, list[Claim]]] = {}
        for claim in claims:
            grouped.setdefault(claim.field, {}).setdefault(claim.value, []).append(claim)
        prefetch_related_objects(
            [record],
            models.Prefetch("dispute_resolutions", queryset=DisputeResolution.objects.select_related("resolved_by")),
        )
        current = latest_resolutions(record)
        disputes = []
        for name, values in sorted(grouped.items()):
            if len(values) < 2:
                continue
            resolvable = name not in MANY_TO_MANY_CLAIMABLE.get(target, frozenset())
            form = (
                bound
                if bound is not None and posted_field == name
                else DisputeResolutionForm(initial={"field": name}, values=sorted(values))
            )
            disputes.append(
                {
                    "field": name,
                    "label": field_label(model, name),
                    "values": [{"value": value, "claims": value_claims} for value, value_claims in values.items()],
                    "record_value": getattr(record, name, None) if resolvable else None,
                    "resolution": current.get(name),
                    "resolvable": resolvable,
                    "form": form if resolvable else None,
                }
            )
        return disputes
