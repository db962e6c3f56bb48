"""The editors' queue of information requests.

Oldest first, filtered by status, with the record each is about. The status changes through
``information_request_update`` (allowed transitions only: a refused move is a form error, nothing saved) and the
editor writes the public answer. The requester's contact details appear only on the change page, and only to staff
with the ``inquiries.view_requester`` permission; never in a list column, a search, or the admin log (whose
``object_repr`` is "Request <reference>" and whose change messages name fields, never values).

Actions on selected requests: export everything held about their requesters (a JSON download) and erase it; both
are written to the admin log as a plain sentence, with no personal data."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from inquiries.models import ALLOWED_TRANSITIONS, InformationRequest, Requester, RequestStatus
from inquiries.records import KINDS, PublicRecordRef
from inquiries.services import (
    InvalidTransition,
    information_request_update,
    requester_erase,
    requester_export,
    requesters_matching,
)

VIEW_REQUESTER = "inquiries.view_requester"
DELETE_REQUESTER = "inquiries.delete_requester"


class InformationRequestAdminForm(forms.ModelForm):
    class Meta:
        model = InformationRequest
        fields = ["status", "public_answer"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "status" in self.fields:
            current = self.instance.status
            allowed = (current, *ALLOWED_TRANSITIONS[current])
            status_field = self.fields["status"]
            if isinstance(status_field, forms.ChoiceField):
                status_field.choices = [(v, label) for v, label in RequestStatus.choices if v in allowed]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status")
        current = InformationRequest.objects.filter(pk=self.instance.pk).values_list("status", flat=True).first()
        if status and current and status != current and status not in ALLOWED_TRANSITIONS[current]:
            raise ValidationError(str(InvalidTransition(current=current, target=status).message))
        answer = (data.get("public_answer") or "").strip()
        if status in (RequestStatus.ANSWERED, RequestStatus.REFUSED) and not answer:
            self.add_error("public_answer", "An answered or refused request needs a public answer (or reason).")
        return data

    def _post_clean(self) -> None:
        # The service validates and saves (inquiries/services.py); the model's own checks run there.
        pass


def _record_refs(requests: list[InformationRequest]) -> dict[tuple[str, int], PublicRecordRef]:
    """The published records of a page of requests: one query per kind present."""
    wanted: dict[str, set[int]] = {}
    for r in requests:
        if r.record_kind and r.record_id is not None:
            wanted.setdefault(r.record_kind, set()).add(r.record_id)
    refs = {}
    for kind, ids in wanted.items():
        info = KINDS[kind]
        for obj in info.queryset().filter(pk__in=ids).only("pk", "slug", info.label_field):
            refs[(kind, obj.pk)] = PublicRecordRef(kind, obj.pk, obj.slug, str(getattr(obj, info.label_field)))
    return refs


@admin.register(InformationRequest)
class InformationRequestAdmin(admin.ModelAdmin):
    form = InformationRequestAdminForm
    list_display = ("reference", "kind", "record_link", "status", "received_at", "closed_at")
    list_filter = ("status", "kind")
    ordering = ("received_at", "id")
    search_fields = ("=reference",)  # never the requester's details
    list_per_page = 50
    actions = ["export_requesters", "erase_requesters"]
    base_readonly = (
        "reference",
        "kind",
        "record_link",
        "subject",
        "message",
        "received_at",
        "closed_at",
        "erased_at",
        "status_page",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from the public form

    def has_delete_permission(self, request: HttpRequest, obj: InformationRequest | None = None) -> bool:
        return False  # a request's status page stays; "withdrawn" closes it, erasure removes the personal part

    def get_queryset(self, request: HttpRequest) -> QuerySet[InformationRequest]:
        return super().get_queryset(request).defer("message")

    def get_fields(self, request: HttpRequest, obj: InformationRequest | None = None) -> Any:
        fields = ["reference", "status_page", "kind", "record_link", "received_at", "closed_at"]
        if request.user.has_perm(VIEW_REQUESTER):
            fields.append("requester_contact")
        fields += ["subject", "message", "erased_at", "status", "public_answer"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: InformationRequest | None = None) -> tuple[str, ...]:
        readonly: tuple[str, ...] = self.base_readonly
        if request.user.has_perm(VIEW_REQUESTER):
            readonly = (*readonly, "requester_contact")
        if obj is not None and obj.is_closed:
            readonly = (*readonly, "status", "public_answer")
        return readonly

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data and "cl" in response.context_data:
            rows = list(response.context_data["cl"].result_list)
            refs = _record_refs(rows)
            for row in rows:
                row._record_ref = refs.get((row.record_kind, row.record_id))
        return response

    @admin.display(description="record")
    def record_link(self, obj: InformationRequest) -> str:
        if not obj.record_kind:
            return "—"
        ref = getattr(obj, "_record_ref", None)
        if ref is None and not hasattr(obj, "_record_ref"):
            refs = _record_refs([obj])
            ref = refs.get((obj.record_kind, obj.record_id))  # type: ignore[arg-type]
        if ref is None:
            return f"{obj.get_record_kind_display()} #{obj.record_id} (not published)"
        return format_html('<a href="{}">{}</a> ({})', ref.url, ref.label, ref.kind_label.lower())

    @admin.display(description="public status page")
    def status_page(self, obj: InformationRequest) -> str:
        from django.urls import reverse

        url = reverse("inquiries:status", args=[obj.reference])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="requester's contact (editors only)")
    def requester_contact(self, obj: InformationRequest) -> str:
        requester = obj.requester
        if requester is None:
            return "erased" if obj.erased_at else "none given"
        return format_html("{}<br>{}", requester.name or "(no name)", requester.email or "(no e-mail address)")

    def save_model(self, request: HttpRequest, obj: InformationRequest, form: Any, change: bool) -> None:
        if not change or not {"status", "public_answer"} & set(form.changed_data):
            return
        try:
            information_request_update(
                information_request=obj,
                status=form.cleaned_data.get("status", obj.status),
                public_answer=form.cleaned_data.get("public_answer", obj.public_answer),
                editor=request.user,
            )
        except ValidationError as error:  # another editor moved it meanwhile: say so, never a 500
            self.message_user(request, "Not saved: " + " ".join(error.messages), messages.ERROR)

    def _requesters_of(self, request: HttpRequest, queryset: QuerySet[InformationRequest]) -> list[Requester]:
        ids = set(queryset.exclude(requester=None).values_list("requester_id", flat=True))
        return list(Requester.objects.filter(pk__in=ids))

    @admin.action(description="Export everything held about the requesters of the selected requests (JSON)")
    def export_requesters(self, request: HttpRequest, queryset: QuerySet[InformationRequest]) -> HttpResponse | None:
        if not request.user.has_perm(VIEW_REQUESTER):
            raise PermissionDenied
        requesters = self._requesters_of(request, queryset)
        if not requesters:
            self.message_user(request, "None of the selected requests has a requester on record.", messages.WARNING)
            return None
        data = requester_export(requesters=requesters)
        for obj in queryset:
            if obj.requester_id is not None:
                self.log_change(request, obj, "Exported what is held about its requester.")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="requester-export-{stamp}.json"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Erase the requesters of the selected requests (contact details and words)")
    def erase_requesters(self, request: HttpRequest, queryset: QuerySet[InformationRequest]) -> None:
        if not request.user.has_perm(DELETE_REQUESTER):
            raise PermissionDenied
        requesters = self._requesters_of(request, queryset)
        if not requesters:
            self.message_user(request, "None of the selected requests has a requester on record.", messages.WARNING)
            return
        # Every request of the same person (same e-mail address), selected or not, is erased and logged.
        affected = list(InformationRequest.objects.filter(requester__in=requesters_matching(requesters)))
        erasure = requester_erase(requesters=requesters, editor=request.user)
        for obj in affected:
            self.log_change(request, obj, "Erased its requester's contact details and words.")
        self.message_user(
            request,
            f"Erased {erasure.requesters} requester record(s); "
            f"{erasure.requests} request(s) keep only their public part.",
            messages.SUCCESS,
        )
