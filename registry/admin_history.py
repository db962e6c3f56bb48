"""Per-record history in the admin: who changed what when, field by field, and revert as a recorded change.

The admin's "History" button (``<pk>/history/``) lists every event of the record, of its many-to-many links and
of its inline rows (claims, checklist rows), newest first, 50 a page, read from django-pghistory's event tables:

- who: the user, and what the change came from (``command X``, ``import #N``, ``revert of event N``);
- what: a field/before/after table for an update, the full values for a creation or deletion, the linked
  record's name for a link added or removed.

Events written in one transaction (one save of the change form) share a time; they are grouped by table. Queries
do not grow with the number of events: one COUNT and one SELECT over the event tables (pghistory computes each
event's diff in the same query), one for the users named and one per kind of linked record named.

An update of the record's fields, or a link added or removed, has a "Revert to before this change" button (change
permission needed; none on a change of a field that is read-only for the user, such as the derived verification
status, or ``is_published`` without the permission to publish): a POST to
``<pk>/history/revert/?event=<event model>:<event id>`` shows the confirmation page with what the revert will
change; confirming applies it through ``registry.revert.record_revert``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pghistory.core
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.text import capfirst
from pghistory.models import Events

from registry.revert import (
    NOT_REVERTED,
    RevertPlan,
    RevertRefused,
    link_field_of,
    record_revert,
    record_revert_plan,
    revertable_columns,
    revertable_event_models,
)

HISTORY_PAGE_SIZE = 50
HIDDEN_COLUMNS = frozenset({"id", *NOT_REVERTED})
EMPTY = "—"
VALUE_LIMIT = 1000  # characters of one value shown (a long description is cut, with an ellipsis)


@dataclass
class HistoryRow:
    """One event as the history page shows it."""

    event_id: int
    reference: str
    when: Any
    who: str
    action: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, before, after
    values: list[tuple[str, str]] = field(default_factory=list)  # field, value
    link: str = ""
    revert_url: str = ""


def _tracked(event_model: type[models.Model]) -> type[models.Model]:
    return event_model.pgh_tracked_model._meta.concrete_model  # type: ignore[attr-defined]


def _columns(model: type[models.Model]) -> dict[str, Any]:
    return {f.column: f for f in model._meta.concrete_fields}


def _related(f: Any) -> Any:
    """The model a foreign key points at (None for any other field)."""
    return f.related_model if f is not None and f.is_relation else None


def event_author(context: dict[str, Any] | None, users: dict[Any, Any]) -> str:
    """Who made a change and from where: "editor", "command load_shipped_data", "editor · import #3",
    "editor · revert of event 17"; never the request's URL or anything a member of the public typed."""
    context = context or {}
    parts = []
    if context.get("user"):
        user = users.get(context["user"])
        parts.append(user.get_username() if user else f"user #{context['user']}")
    if context.get("import_id"):
        parts.append(f"import #{context['import_id']}")
    elif context.get("command"):
        parts.append(f"command {context['command']}")
    if context.get("revert_of"):
        parts.append(f"revert of event {context['revert_of']}")
    if context.get("dispute_resolution"):
        parts.append(f"dispute resolution #{context['dispute_resolution']}")
    if not parts:
        return "anonymous request" if context.get("url") else "—"
    return " · ".join(parts)


class RecordHistoryMixin(admin.ModelAdmin):
    """The record's history page (who changed what when, field by field) and revert."""

    object_history_template = "admin/registry/record_history.html"
    revert_confirmation_template = "admin/registry/record_revert_confirm.html"
    history_page_size = HISTORY_PAGE_SIZE

    def history_event_models(self) -> list[type[models.Model]]:
        """Event tables of the record's links and inline rows (RegistryModelAdmin names them)."""
        return []

    # --- URLs --------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        revert = path(
            "<path:object_id>/history/revert/",
            self.admin_site.admin_view(self.revert_view),
            name="{}_{}_revert".format(*info),
        )
        return [revert, *super().get_urls()]

    def history_url(self, obj: models.Model) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_history", args=[quote(obj.pk)])

    def history_revert_url(self, obj: models.Model, event_label: str, event_id: int) -> str:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_revert", args=[quote(obj.pk)])
        return f"{url}?{urlencode({'event': f'{event_label}:{event_id}'})}"

    # --- Reading the events ------------------------------------------------------------------------------
    def history_own_event_models(self) -> list[type[models.Model]]:
        return list(pghistory.core.event_models(tracks_model=self.model))

    def history_record_events(self, obj: models.Model) -> Any:
        """Every event of the record, its links and its inline rows, newest first (one query over the tables)."""
        own = self.history_own_event_models()
        related = [m for m in self.history_event_models() if m not in own]
        # Events of one transaction (one save: the record, its links, its claims) share a time: grouped by table.
        order = ("-pgh_created_at", "pgh_model", "-pgh_id")
        if not related:
            if not own:
                return Events.objects.none()
            return Events.objects.across(*own).tracks(obj).order_by(*order)
        # "references" also finds the record's own events (through pgh_obj); a column of the record's own table
        # that points at another record of the same kind (a jurisdiction's parent) must not bring that one in.
        own_labels = [m._meta.label for m in own]
        return (
            Events.objects.across(*own, *related)
            .references(obj)
            .filter(~Q(pgh_model__in=own_labels) | Q(pgh_obj_id=str(obj.pk)))
            .order_by(*order)
        )

    def history_rows(self, request: HttpRequest, obj: models.Model, events: list[Any]) -> list[HistoryRow]:
        """The page's events as rows: authors in one query, linked records' names in one query per model."""
        event_models = {m._meta.label: m for m in [*self.history_own_event_models(), *self.history_event_models()]}
        user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
        users = get_user_model()._default_manager.in_bulk(user_ids) if user_ids else {}
        names = self._history_linked_names(obj, events, event_models)
        can_revert = self.has_change_permission(request, obj)
        revertable = revertable_event_models(self.model) if can_revert else {}
        # Columns a revert by this user may restore; a change of a field read-only for them gets no button.
        protected = set(self.get_readonly_fields(request, obj)) if can_revert else set()
        own_columns = {column: f for column, f in revertable_columns(self.model).items() if f.name not in protected}
        blocked = {column for column, f in revertable_columns(self.model).items() if f.name in protected}
        return [
            self._history_row(
                obj, event, event_models.get(event.pgh_model), users, names, revertable, own_columns, blocked
            )
            for event in events
        ]

    def _history_back_columns(self, obj: models.Model, tracked: type[models.Model]) -> set[str]:
        """Columns of a link or inline row that point back at the record (not worth showing on its own page)."""
        return {
            f.column
            for f in tracked._meta.concrete_fields
            if (related := _related(f)) is not None and related._meta.concrete_model is type(obj)
        }

    def _history_linked_names(
        self, obj: models.Model, events: list[Any], event_models: dict[str, type[models.Model]]
    ) -> dict[tuple[type[models.Model], str], str]:
        wanted: dict[type[models.Model], set[Any]] = {}
        for event in events:
            event_model = event_models.get(event.pgh_model)
            if event_model is None:
                continue
            tracked = _tracked(event_model)
            columns = _columns(tracked)
            back = self._history_back_columns(obj, tracked) if tracked is not type(obj) else set()
            values: list[tuple[str, Any]] = []
            if event.pgh_diff:
                values += [(col, v) for col, pair in event.pgh_diff.items() for v in pair]
            else:
                values += list((event.pgh_data or {}).items())
            for column, value in values:
                f = columns.get(column)
                related = _related(f)
                if related is None or column in back or value is None:
                    continue
                wanted.setdefault(related, set()).add(value)
        names = {}
        for model, pks in wanted.items():
            for pk, record in model._default_manager.in_bulk(pks).items():
                names[(model, str(pk))] = str(record)
        return names

    def _history_value(self, f: models.Field[Any, Any] | None, value: Any, names: dict[Any, str]) -> str:
        if value is None or value == "" or value == []:
            return EMPTY
        if f is not None and f.is_relation and f.related_model is not None:
            return names.get((f.related_model, str(value)), f"#{value} (no longer exists)")
        if f is not None and f.flatchoices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(f, models.DateTimeField) and isinstance(value, str):
            value = parse_datetime(value) or value
        elif isinstance(f, models.DateField) and isinstance(value, str):
            value = parse_date(value) or value
        if isinstance(value, datetime):
            return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)
        if isinstance(value, date):
            return formats.date_format(value)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        text = str(value)
        return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"

    def _history_row(
        self,
        obj: models.Model,
        event: Any,
        event_model: type[models.Model] | None,
        users: dict[Any, Any],
        names: dict[Any, str],
        revertable: dict[str, type[models.Model]],
        own_columns: dict[str, models.Field[Any, Any]],
        blocked: set[str],
    ) -> HistoryRow:
        row = HistoryRow(
            event_id=event.pgh_id,
            reference=event.pgh_slug,
            when=event.pgh_created_at,
            who=event_author(event.pgh_context, users),
            action=event.pgh_label,
        )
        if event_model is None:
            return row
        tracked = _tracked(event_model)
        columns = _columns(tracked)

        def label(column: str) -> str:
            f = columns.get(column)
            return capfirst(str(f.verbose_name)) if f is not None else column

        m2m = link_field_of(self.model, event_model)
        if m2m is not None:  # a link added or removed
            target = m2m.remote_field.through._meta.get_field(m2m.m2m_reverse_field_name())
            target_id = (event.pgh_data or {}).get(target.column)
            verb = {"add": "Link added", "remove": "Link removed"}.get(event.pgh_label, event.pgh_label)
            row.action = f"{verb}: {m2m.verbose_name}"
            kind = capfirst(str(m2m.related_model._meta.verbose_name))
            row.link = f"{kind}: {self._history_value(target, target_id, names)}"
        else:
            own = tracked is type(obj)._meta.concrete_model
            kind = "" if own else f" {tracked._meta.verbose_name}"
            verbs = {
                "insert": "Created" if own else "Added",
                "update": "Changed",
                "delete": "Deleted" if own else "Removed",
            }
            row.action = f"{verbs.get(event.pgh_label, capfirst(event.pgh_label))}{kind}"
            position = {column: index for index, column in enumerate(columns)}
            if event.pgh_label == "update" and event.pgh_diff:
                row.changes = [
                    (
                        label(column),
                        self._history_value(columns.get(column), old, names),
                        self._history_value(columns.get(column), new, names),
                    )
                    for column, (old, new) in sorted(event.pgh_diff.items(), key=lambda item: position.get(item[0], 0))
                    if column not in HIDDEN_COLUMNS
                ]
                if not row.changes:
                    row.action += " (timestamps only)"
            else:  # a creation or deletion: the full values
                back = set() if own else self._history_back_columns(obj, tracked)
                row.values = [
                    (label(column), self._history_value(columns.get(column), value, names))
                    for column, value in sorted(
                        (event.pgh_data or {}).items(), key=lambda item: position.get(item[0], 0)
                    )
                    if column not in HIDDEN_COLUMNS and column not in back and value not in (None, "", [])
                ]
        if event.pgh_model in revertable and self._history_can_revert(event, m2m, own_columns, blocked):
            row.revert_url = self.history_revert_url(obj, event.pgh_model, event.pgh_id)
        return row

    @staticmethod
    def _history_can_revert(event: Any, m2m: Any, own_columns: dict[str, Any], blocked: set[str]) -> bool:
        if m2m is not None:
            return event.pgh_label in ("add", "remove")
        diff = event.pgh_diff or {}
        return (
            event.pgh_label == "update"
            and any(column in own_columns for column in diff)
            and not any(column in blocked for column in diff)
        )

    # --- Views ---------------------------------------------------------------------------------------------
    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        """Every change of the record, its links and its inline rows, newest first, with a field-level diff."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        paginator = Paginator(self.history_record_events(obj), self.history_page_size)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        rows = self.history_rows(request, obj, list(page.object_list))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "rows": rows,
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.num_pages > 1,
            # The same events in pghistory's events admin (RegistryModelAdmin.events_url), for the raw data.
            "events_url": self.events_url(obj) if hasattr(self, "events_url") else "",
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def revert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirmation page of a revert (what it will change), and on confirmation the revert itself. The event is
        named in the query string: ``?event=partnerships.PartnershipEvent:17``."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        event = self._revert_event(request.GET.get("event", ""))
        event_id = event.pk
        # What the editor cannot set in the change form (derived, or needing another permission), a revert won't set.
        protected = set(self.get_readonly_fields(request, obj))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": f"Revert event {event_id} of {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "event_id": event_id,
            "history_url": self.history_url(obj),
        }
        request.current_app = self.admin_site.name
        try:
            if request.method == "POST" and request.POST.get("confirm") == "yes":
                plan = record_revert(
                    record=obj,
                    event=event,
                    editor=request.user,  # type: ignore[arg-type]
                    protected_fields=protected,
                )
                done = f"Reverted event {event_id}: {self._revert_describe(plan)}."
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(self.history_url(obj))
            plan = record_revert_plan(record=obj, event=event, protected_fields=protected)
        except RevertRefused as refusal:
            newest = refusal.newest_event
            context.update(
                refusal=refusal.message,
                refusal_errors=[
                    (name if name == "__all__" else capfirst(self._revert_field_name(name)), messages_)
                    for name, messages_ in refusal.errors.items()
                ],
                newest_url=self.history_revert_url(obj, newest._meta.label, newest.pk) if newest is not None else "",
                newest_id=newest.pk if newest is not None else None,
            )
            return TemplateResponse(request, self.revert_confirmation_template, context, status=409)
        link_sentence = self._revert_describe(plan) if plan.link_field is not None else ""
        context.update(plan=plan, changes=self._revert_rows(plan), link_sentence=link_sentence)
        return TemplateResponse(request, self.revert_confirmation_template, context)

    def _revert_event(self, reference: str) -> models.Model:
        label, _, event_id = reference.partition(":")
        allowed = revertable_event_models(self.model)
        if label not in allowed or not event_id.isdigit():
            raise Http404("Name the event to revert as ?event=<event table>:<event id>, one of this record's.")
        event = allowed[label]._default_manager.filter(pk=int(event_id)).first()
        if event is None:
            raise Http404(f"No event {event_id} in {label}.")
        return event

    def _revert_field_name(self, name: str) -> str:
        try:
            return str(self.model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a key of a ValidationError that is not a field
            return name

    def _revert_rows(self, plan: RevertPlan) -> list[tuple[str, str, str]]:
        names = self._revert_names(plan)
        return [
            (
                capfirst(str(change.field.verbose_name)),
                self._history_value(change.field, change.current, names),
                self._history_value(change.field, change.restored, names),
            )
            for change in plan.fields
        ]

    def _revert_names(self, plan: RevertPlan) -> dict[Any, str]:
        names = {}
        for change in plan.fields:
            model = _related(change.field)
            if model is not None:
                for pk, record in model._default_manager.in_bulk(
                    [v for v in (change.current, change.restored) if v is not None]
                ).items():
                    names[(model, str(pk))] = str(record)
        return names

    def _revert_describe(self, plan: RevertPlan) -> str:
        if plan.link_field is not None:
            target = str(plan.link_target) if plan.link_target is not None else f"#{plan.link_target_id}"
            verb = "removes the link to" if plan.link_action == "remove" else "adds back the link to"
            return f"{verb} {target} ({plan.link_field.verbose_name})"
        return "; ".join(f"{name}: {before} → {after}" for name, before, after in self._revert_rows(plan))
