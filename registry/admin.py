"""Shared building blocks of the editors' admin.

Every editor page shows the record's change history (read from django-pghistory's event tables) with
who made each change, keeps timestamps read-only, locks the slug of a published record (the database
refuses to change it, so the form must not offer it), checks years against the same range as the
database, and keeps changelists to a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from typing import Any

import pghistory.core
from django.contrib import admin, messages
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists, Q
from django.forms import Field as FormField
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal
from pghistory import config as pghistory_config
from pghistory.models import MiddlewareEvents

from accounts.permissions import can_publish
from provenance.models import PublicRecord, disputed_fields_subquery
from provenance.services import record_verification_refresh
from registry.admin_conflicts import ConflictGuardMixin
from registry.admin_history import RecordHistoryMixin
from registry.constraints import EARLIEST_YEAR

TIMESTAMP_FIELDS = ("created_at", "updated_at")
# Fields every public record shares; the admin groups them under "Sources and publication".
RECORD_FIELDS = (
    "sources",
    "verification_status",
    "disputed_fields",
    "is_published",
    "first_published_at",
    "is_synthetic",
    "editorial_note",
)
# List filters every public record's changelist starts with.
RECORD_LIST_FILTERS: tuple[Any, ...] = ("verification_status", "is_published", "is_synthetic")
HISTORY_ROWS = 10
# The "refresh verification" action reads each record's evidence; a bigger selection belongs in a command.
REFRESH_LIMIT = 500


def _short(value: Any, limit: int = 80) -> str:
    text = "—" if value in (None, "", []) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tracked(event_model: type[models.Model]) -> type[models.Model]:
    """The concrete model an event table tracks (many-to-many links are tracked through a proxy)."""
    return event_model.pgh_tracked_model._meta.concrete_model  # type: ignore[attr-defined]


def events_changelist_url(obj: models.Model, *, method: str = "references") -> str:
    """The pghistory events admin, filtered to the events of ``obj`` (and, by default, of rows pointing at it)."""
    events_model = pghistory_config.admin_queryset().model
    url = reverse(f"admin:{events_model._meta.app_label}_{events_model._meta.model_name}_changelist")
    return f"{url}?method={method}&obj={obj._meta.label}:{obj.pk}"


def _slug_is_frozen(record: PublicRecord) -> bool:
    """Once a record has been published its slug never changes, even if it is unpublished later."""
    return record.is_published or getattr(record, "first_published_at", None) is not None


class RegistryModelAdmin(ConflictGuardMixin, RecordHistoryMixin, admin.ModelAdmin):
    """Base admin of every registry model: history on the page, read-only timestamps, checked years."""

    list_per_page = 50

    def history_event_models(self) -> list[type[models.Model]]:
        """Event tables of the rows an editor sees on this record's page besides the record itself: its
        many-to-many links, its claims and its inlines. Tables of other records that merely point at this
        one (every partnership in a region) are left out, so the query stays small."""
        own = {field.remote_field.through for field in self.model._meta.many_to_many}
        own.update(inline.model for inline in self.inlines)
        return [
            event_model
            for event_model in pghistory.core.event_models(references_model=self.model)
            if _tracked(event_model) in own
        ]

    def events_url(self, obj: models.Model) -> str:
        """All events of the record in the pghistory events admin: with its links, claims and inlines where
        it has any, else its own events only (a region is referenced by a million partnerships' events)."""
        return events_changelist_url(obj, method="references" if self.history_event_models() else "tracks")

    def history_events(self, obj: models.Model) -> list[Any]:
        """The record's latest events, newest first: two queries plus one for the users named."""
        events = list(MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:HISTORY_ROWS])
        related = self.history_event_models()
        if related:
            events += list(
                MiddlewareEvents.objects.across(*related)
                .references(obj)
                .order_by("-pgh_created_at", "-pgh_id")[:HISTORY_ROWS]
            )
        events.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
        return events[:HISTORY_ROWS]

    @admin.display(description="Recent changes")
    def history(self, obj: models.Model) -> str:
        if obj.pk is None:
            return "The history of the record starts when it is saved."
        events = self.history_events(obj)
        if not events:
            return "No change recorded."
        user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
        users = get_user_model()._default_manager.in_bulk(user_ids) if user_ids else {}
        names = self._history_names()
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    formats.localize(timezone.localtime(e.pgh_created_at)),
                    e.pgh_label,
                    names.get(e.pgh_model, e.pgh_model),
                    self._event_change(e, obj),
                    self._event_author(e, users),
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="registry-history"><thead><tr><th>When</th><th>Event</th><th>What</th>'
            "<th>Change</th><th>By</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">Full history, field by field (and revert)</a> · '
            '<a href="{}">All events of this record</a></p>',
            rows,
            self.history_url(obj),
            self.events_url(obj),
        )

    def _history_names(self) -> dict[str, str]:
        """Event model label -> what an editor calls the thing that changed ("ngos", "claim")."""
        names = {}
        through_names = {f.remote_field.through: str(f.verbose_name) for f in self.model._meta.many_to_many}
        for event_model in [*pghistory.core.event_models(tracks_model=self.model), *self.history_event_models()]:
            tracked = _tracked(event_model)
            names[event_model._meta.label] = through_names.get(tracked, str(tracked._meta.verbose_name))
        return names

    def _event_change(self, event: Any, obj: models.Model) -> str:
        if event.pgh_diff:
            changes = [
                f"{field}: {_short(old)} → {_short(new)}"
                for field, (old, new) in sorted(event.pgh_diff.items())
                if field not in TIMESTAMP_FIELDS
            ]
            return "; ".join(changes) or "timestamps only"
        if event.pgh_obj_model == obj._meta.label and event.pgh_label in ("insert", "delete"):
            return "created" if event.pgh_label == "insert" else "deleted"
        back_refs = {f"{obj._meta.model_name}_id", f"{getattr(obj, 'claim_target', '')}_id"}
        data = event.pgh_data or {}
        parts = [
            f"{key}={_short(value, 60)}"
            for key, value in data.items()
            if key not in {"id", *TIMESTAMP_FIELDS, *back_refs} and value not in (None, "", [], False)
        ]
        return _short(", ".join(parts), 300)

    @staticmethod
    def _event_author(event: Any, users: dict[Any, Any]) -> str:
        context = event.pgh_context or {}
        if context.get("user"):
            user = users.get(context["user"])
            who = user.get_username() if user else f"user #{context['user']}"
            return f"{who} ({context['url']})" if context.get("url") else who
        if context.get("command"):
            return f"command {context['command']}"
        if context.get("url"):
            return f"anonymous ({context['url']})"
        return "—"

    # The history page (the "History" button) and revert: registry.admin_history.RecordHistoryMixin.

    # --- Search --------------------------------------------------------------------------------------
    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """Like Django's, but a search field across a many-to-many relation (``ngos__name``) becomes
        ``pk IN (subquery)`` instead of a join that the changelist must then make DISTINCT: on a million
        partnerships that halves the time of a search and of every autocomplete keystroke."""
        fields = list(self.get_search_fields(request))
        multi = [f for f in fields if lookup_spawns_duplicates(self.opts, f)]
        if not search_term or not multi or any(f[0] in "^=@" for f in fields):
            return super().get_search_results(request, queryset, search_term)
        single = [f for f in fields if f not in multi]
        manager = self.model._default_manager
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            term = Q(*[Q(**{f"{f}__icontains": bit}) for f in single], _connector=Q.OR)
            for path in multi:
                term |= Q(pk__in=manager.filter(**{f"{path}__icontains": bit}).values("pk"))
            queryset = queryset.filter(term)
        return queryset, False

    # --- Form ----------------------------------------------------------------------------------------
    def _model_has(self, name: str) -> bool:
        return any(f.name == name for f in self.model._meta.get_fields())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        fields += [name for name in TIMESTAMP_FIELDS if self._model_has(name) and name not in fields]
        if isinstance(obj, PublicRecord) and _slug_is_frozen(obj) and "slug" not in fields:
            # A published slug is cited by others; the database refuses to change it.
            fields.append("slug")
        if "history" not in fields:
            fields.append("history")
        return fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        readonly = set(self.get_readonly_fields(request, obj))
        return {k: v for k, v in super().get_prepopulated_fields(request, obj).items() if k not in readonly}

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.fieldsets:
            return super().get_fieldsets(request, obj)
        fields = list(self.get_fields(request, obj))
        record = [f for f in RECORD_FIELDS if f in fields]
        history = [f for f in (*TIMESTAMP_FIELDS, "history") if f in fields]
        main = [f for f in fields if f not in record and f not in history]
        source = self.prepopulated_fields.get("slug", [None])[0]
        if "slug" in main and source in main:  # the slug right after the name it is made from
            main.remove("slug")
            main.insert(main.index(source) + 1, "slug")
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": main})]
        if record:
            fieldsets.append(("Sources and publication", {"fields": record}))
        fieldsets.append(("History", {"fields": history}))
        return fieldsets

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> FormField | None:
        if isinstance(db_field, models.PositiveSmallIntegerField) and (
            db_field.name == "year" or db_field.name.startswith("year_")
        ):
            # The same range the database checks (registry.constraints.year_range_check), as a field error.
            kwargs.setdefault("min_value", EARLIEST_YEAR)
            kwargs.setdefault("max_value", timezone.now().year)
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")  # "example.org" means https://example.org (Django 6's default)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class DisputedFilter(admin.SimpleListFilter):
    """Records on one of whose fields the claims disagree."""

    title = "disputed"
    parameter_name = "disputed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Disputed"), ("no", "Not disputed")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() not in ("yes", "no"):
            return queryset
        if self.value() == "yes":
            return queryset.disputed()
        return queryset.undisputed()


class PublicRecordAdmin(RegistryModelAdmin):
    """Admin of a public, sourced record (provenance.models.PublicRecord)."""

    actions = ["publish", "unpublish", "refresh_verification"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if getattr(self.model, "claim_target", ""):
            # One EXISTS per row inside the same query: the "disputed" column costs no extra query.
            qs = qs.annotate(is_disputed=Exists(disputed_fields_subquery(self.model)))
        return qs

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if getattr(self.model, "claim_target", "") and "disputed_fields" not in fields:
            fields.append("disputed_fields")
        if self._model_has("first_published_at") and "first_published_at" not in fields:
            fields.append("first_published_at")
        # Derived from the evidence (sources and claims) on every save, never typed in.
        if "verification_status" not in fields:
            fields.append("verification_status")
        # Publishing is a reviewer's decision (accounts.verify_record): editors save drafts.
        if not can_publish(request.user) and self._model_has("is_published") and "is_published" not in fields:
            fields.append("is_published")
        return fields

    def has_verify_permission(self, request: HttpRequest) -> bool:
        """May the user publish and unpublish records (the actions below, the column in list_editable)?"""
        return can_publish(request.user)

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        """Without the permission to publish, an ``is_published`` column in list_editable is shown disabled
        (a value sent anyway is ignored)."""
        formset = super().get_changelist_formset(request, **kwargs)
        field = formset.form.base_fields.get("is_published")
        if field is not None and not can_publish(request.user):
            field.disabled = True
            field.help_text = "Publishing needs the permission to verify records (reviewers)."
        return formset

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """After the record, its sources and its claims are saved, its status follows the evidence."""
        super().save_related(request, form, formsets, change)
        record_verification_refresh(record=form.instance)

    @admin.display(description="verification", ordering="verification_status")
    def verification(self, obj: Any) -> str:
        """The status in one word; the filter beside the list explains each."""
        return str(obj.verification_status)

    @admin.display(boolean=True, description="disputed")
    def disputed(self, obj: Any) -> bool | None:
        return getattr(obj, "is_disputed", None)

    @admin.display(description="disputed fields")
    def disputed_fields(self, obj: Any) -> str:
        if obj.pk is None:
            return "—"
        fields = obj.disputed_fields()
        if not fields:
            return "None: no two claims on one field disagree."
        # The reviewers' page (provenance.admin.DisputeResolutionAdmin): the claims side by side, choose and say why.
        url = reverse("admin:provenance_disputeresolution_resolve", args=[obj.claim_target, obj.pk])
        return format_html('{} <a class="button" href="{}">Resolve disputes</a>', ", ".join(fields), url)

    def _selected(self, queryset: Any) -> Any:
        # A plain queryset of the selected primary keys (the changelist's one carries annotations).
        return self.model._default_manager.filter(pk__in=queryset.values("pk"))

    @admin.action(description="Publish the selected records", permissions=["verify"])
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        count = self._selected(queryset).filter(is_published=False).update(is_published=True, updated_at=timezone.now())
        self.message_user(request, f"Published {count} record(s).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected records", permissions=["verify"])
    def unpublish(self, request: HttpRequest, queryset: Any) -> None:
        count = self._selected(queryset).filter(is_published=True).update(is_published=False, updated_at=timezone.now())
        self.message_user(request, f"Unpublished {count} record(s).", messages.SUCCESS)

    @admin.action(description="Recompute verification status from the evidence", permissions=["change"])
    def refresh_verification(self, request: HttpRequest, queryset: Any) -> None:
        records = list(self._selected(queryset)[: REFRESH_LIMIT + 1])
        if len(records) > REFRESH_LIMIT:
            self.message_user(
                request, f"Select at most {REFRESH_LIMIT} records at a time for this action.", messages.ERROR
            )
            return
        changed = 0
        for record in records:
            before = record.verification_status
            if record_verification_refresh(record=record) != before:
                changed += 1
        self.message_user(request, f"Checked {len(records)} record(s); {changed} changed status.", messages.SUCCESS)
