"""No lost edits in the admin: a save based on a stale copy of a record is refused and says what changed.

**The version of a record** is the id of its newest history event in each event table that describes what an
editor sees on its page: the record's own table (every insert, update and delete of a real field; a save that
only moves ``updated_at`` writes none) and the tables of its many-to-many links, claims and inlines
(``RegistryModelAdmin.history_event_models``). Event ids, not times: every write gets a new id, while the time
of an event is its transaction's start. The version is one indexed ``MAX(pgh_id)`` subquery per event table
(a partnership: 8 tables). Cost: a change page reads it in one query; a changelist reads the versions of its
rows inside the page's own query (no extra query; PostgreSQL runs the subqueries for the page's rows only, above
the sort, under the limit); a save, list save or action reads them in one query that also locks the rows
(``SELECT ... FOR UPDATE``) inside the write's transaction, so two saves made from the same version cannot both
pass the check.

**Where it is checked**

- Change form: the form carries the version it was rendered from in a hidden, signed field
  (``registry_version``: the event ids, so the refusal can list what changed since). A save whose version is
  no longer current is a form error: nothing is written (the record, its inlines, its links), the editor's
  input stays in the form, each field changed meanwhile says by whom, when and from which value, and the form
  now carries the current version. Fields, links and inline rows (claims) that the other editor changed and
  this editor left as they found them now show the current values, so saving again applies this editor's
  changes without undoing the other's; where both changed a field, the form keeps this editor's value and says
  so. A form without a valid version is refused too (reload the page).
- list_editable: the changelist form carries the versions of the rows it shows (one signed hidden input,
  ``registry_versions``). A save in which any submitted row changed since the page was rendered is refused as a
  whole (all or nothing), naming each stale record and what changed, merged as in the change form.
- Actions: the same versions; an action on a selected row that changed since the page was rendered is refused
  with a message and nothing is applied. Rows that were never shown (“select all N”) and posts without versions
  (the second step of a confirmation page such as “delete selected”, scripts) are not checked.

Not covered: a writer that does not lock the record's row (e.g. ``claim_add`` through the API) can commit a
claim between the check and the commit of an admin save; that claim is then kept (no edit is lost: the admin
save does not remove it), but the admin save is not refused. Changes to other records the page merely shows
(an NGO renamed) do not count as a change of this record.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import pghistory.core
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import F, Func, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from pghistory.models import MiddlewareEvents

VERSION_FIELD = "registry_version"  # hidden field of the change form
VERSIONS_FIELD = "registry_versions"  # hidden input of the changelist form (list_editable and actions)
SALT = "registry.admin_conflicts"
IGNORED_COLUMNS = {"created_at", "updated_at"}
MAX_CHANGES = 20  # changes listed in one refusal
MAX_EVENTS = 200  # events read to tell them (oldest first: they hold the values the editor started from)
VERBS = {"add": "added", "remove": "removed", "insert": "added", "update": "changed", "delete": "removed"}

Versions = dict[str, int]  # event model label -> newest event id (0: none)


def _short(value: Any, limit: int = 80) -> str:
    text = "—" if value in (None, "", []) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Change:
    """One thing that changed since the editor's version: a field of the record, or a link/claim/inline row."""

    what: str  # a field's verbose name, or what the row is ("claim", "ngos")
    field: str | None  # the form field's name when it is one of the record's own fields
    started: str | None  # the value the editor started from (own fields only)
    current: str | None  # the value now (own fields only)
    detail: str  # for a link/claim/inline row: what happened to it
    who: str
    when: datetime

    def sentence(self) -> str:
        when = formats.localize(timezone.localtime(self.when))
        if self.field is not None:
            return (
                f"{self.what}: you started from “{self.started}”, it is now “{self.current}” "
                f"(changed by {self.who}, {when})."
            )
        return f"{self.what}: {self.detail} (by {self.who}, {when})."


@dataclass(frozen=True)
class Difference:
    changes: list[Change]
    started: dict[str, Any]  # field name -> the value the editor started from (a set of pks for a link field)
    # (inline model label, row pk as text) -> column -> the value the editor started from, for inline rows
    # (claims, assessments) updated meanwhile
    rows: dict[tuple[str, str], dict[str, Any]]


def _comparable(value: Any) -> Any:
    """A form's cleaned value or a model value, comparable with the other: records by pk, many as a set of pks."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | set | list | tuple):
        return {item.pk if isinstance(item, models.Model) else item for item in value}
    return value


def _same(field: models.Field[Any, Any], posted: str | None, started: Any) -> bool:
    """Is the value an editor posted for ``field`` the value they started from (a history event's JSON value)?"""

    def value(raw: Any) -> Any:
        return None if raw in (None, "") else field.to_python(raw)

    try:
        return bool(value(posted) == value(started))
    except ValidationError:
        return False


class VersionedModelForm(forms.ModelForm):
    """The change form's base: carries the record's version and refuses a save based on a stale one."""

    conflict_guard: ClassVar[Any] = None  # the ModelAdmin, set by ConflictGuardMixin.get_form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        guard = type(self).conflict_guard
        if guard is not None and self._guarded():
            # Added per form, not declared: it is no model field, so it stays out of the admin's fieldsets (the
            # template renders it at the top of the form).
            self.fields[VERSION_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False)
            if not self.is_bound:
                self.initial[VERSION_FIELD] = guard.version_token(self.instance.pk)

    def _guarded(self) -> bool:
        return self.instance.pk is not None and not self.instance._state.adding

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        guard = type(self).conflict_guard
        if guard is not None and self._guarded():
            guard.check_change_form(self)
        return cleaned


class ConflictGuardMixin(admin.ModelAdmin):
    """Refuses a change form save, a list_editable row or an action based on a stale version of a record."""

    form: Any = VersionedModelForm
    change_form_template = "admin/registry/conflict_change_form.html"
    change_list_template = "admin/registry/conflict_change_list.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not issubclass(self.form, VersionedModelForm):  # a ModelAdmin with a form of its own
            self.form = type(f"Versioned{self.form.__name__}", (VersionedModelForm, self.form), {})

    # --- Versions ------------------------------------------------------------------------------------------
    @functools.cached_property
    def version_sources(self) -> list[tuple[str, Any, tuple[str, ...]]]:
        """(event model label, event model, lookups from an event to the record) of every table in the version."""
        concrete = self.model._meta.concrete_model
        sources: list[tuple[str, Any, tuple[str, ...]]] = [
            (event_model._meta.label, event_model, ("pgh_obj",))
            for event_model in pghistory.core.event_models(tracks_model=concrete)
        ]
        related_models: list[Any] = getattr(self, "history_event_models", list)()
        for event_model in related_models:
            lookups = tuple(
                field.name
                for field in event_model._meta.fields
                if field.is_relation and field.name != "pgh_obj" and field.related_model is concrete
            )
            if lookups:
                sources.append((event_model._meta.label, event_model, lookups))
        return sources

    def version_annotations(self) -> dict[str, Any]:
        """``conflict_v<n>``: one subquery per event table, the newest event id of the row (None: no event)."""
        annotations: dict[str, Any] = {}
        for index, (_label, event_model, lookups) in enumerate(self.version_sources):
            condition = functools.reduce(operator.or_, [Q(**{lookup: OuterRef("pk")}) for lookup in lookups])
            newest = Func(F("pgh_id"), function="MAX", output_field=models.BigIntegerField())
            events = event_model._default_manager.filter(condition).order_by().annotate(newest=newest)
            annotations[f"conflict_v{index}"] = Subquery(events.values("newest"))
        if not annotations and any(field.name == "updated_at" for field in self.model._meta.concrete_fields):
            annotations["conflict_updated_at"] = F("updated_at")  # a model without history
        return annotations

    def _version_of(self, row: Any) -> Versions:
        """The version from a row annotated with ``version_annotations`` (a model instance or a values() dict)."""
        value: Any = row.get if isinstance(row, dict) else functools.partial(getattr, row)
        versions = {label: value(f"conflict_v{index}") or 0 for index, (label, _, _) in enumerate(self.version_sources)}
        if not versions and value("conflict_updated_at", None) is not None:
            versions["updated_at"] = int(value("conflict_updated_at").timestamp() * 1_000_000)
        return versions

    def record_versions(self, pks: list[Any], *, lock: bool = False) -> dict[Any, Versions]:
        """The version of each record in ``pks`` (one query; ``lock``: and lock their rows until the transaction
        ends)."""
        if not pks:
            return {}
        queryset = self.model._base_manager.filter(pk__in=pks)
        if lock:
            queryset = queryset.select_for_update()
        annotations = self.version_annotations()
        rows = queryset.annotate(**annotations).values("pk", *annotations)
        return {row["pk"]: self._version_of(row) for row in rows}

    def version_token(self, pk: Any, versions: Versions | None = None) -> str:
        """The signed version of one record, for the change form (read unless given)."""
        if versions is None:
            versions = self.record_versions([pk]).get(pk, {})
        return signing.dumps({"m": self.model._meta.label, "pk": str(pk), "v": versions}, salt=SALT)

    def rows_token(self, versions: dict[Any, Versions]) -> str:
        rows = {str(pk): version for pk, version in versions.items()}
        return signing.dumps({"m": self.model._meta.label, "rows": rows}, salt=SALT, compress=True)

    def _read(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        try:
            data = signing.loads(token, salt=SALT)
        except signing.BadSignature:
            return None
        return data if isinstance(data, dict) and data.get("m") == self.model._meta.label else None

    # --- What changed ------------------------------------------------------------------------------------------
    def changes_since(self, obj: models.Model, started: Versions, current: Versions) -> Difference:
        """What changed in ``obj`` (its fields, links, claims, inlines) between two versions, oldest first, and
        the values the editor started from for its own fields and many-to-many fields that changed."""
        newer = {label for label, pgh_id in current.items() if pgh_id > started.get(label, 0)}
        own: list[Any] = []
        related: list[Any] = []
        for label, event_model, lookups in self.version_sources:
            if label in newer:
                (own if lookups == ("pgh_obj",) else related).append(event_model)
        since = functools.reduce(
            operator.or_, [Q(pgh_model=label, pgh_id__gt=started.get(label, 0)) for label in newer], Q(pk__in=[])
        )
        events: list[Any] = []
        if own:
            events += MiddlewareEvents.objects.across(*own).tracks(obj).filter(since).order_by("pgh_id")[:MAX_EVENTS]
        if related:
            events += (
                MiddlewareEvents.objects.across(*related).references(obj).filter(since).order_by("pgh_id")[:MAX_EVENTS]
            )
        events.sort(key=lambda event: (event.pgh_created_at, event.pgh_id))
        user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
        users = get_user_model()._default_manager.in_bulk(user_ids) if user_ids else {}
        author = getattr(self, "_event_author", lambda event, users: "—")
        describe = getattr(self, "_event_change", lambda event, obj: event.pgh_label)
        names: dict[str, str] = getattr(self, "_history_names", dict)()
        columns = {field.column: field for field in self.model._meta.concrete_fields}
        label = self.model._meta.concrete_model._meta.label
        throughs = {field.remote_field.through: field for field in self.model._meta.many_to_many}
        m2m = {  # link event model label -> the many-to-many field (links are tracked through a proxy)
            source: throughs[event_model.pgh_tracked_model._meta.concrete_model]
            for source, event_model, _ in self.version_sources
            if event_model.pgh_tracked_model._meta.concrete_model in throughs
        }

        fields: dict[str, dict[str, Any]] = {}  # column -> first old value, last event
        links: dict[str, set[Any]] = {}  # m2m field name -> the linked pks the editor started from
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        others: list[Change] = []
        for event in events:
            who = author(event, users)
            if event.pgh_obj_model == label and event.pgh_diff:
                for column, (old, _new) in event.pgh_diff.items():
                    if column in IGNORED_COLUMNS or column not in columns:
                        continue
                    entry = fields.setdefault(column, {"started": old})
                    entry.update(who=who, when=event.pgh_created_at)
            elif event.pgh_obj_model != label:
                what = names.get(event.pgh_model, event.pgh_model)
                detail = self._link_target(event) or describe(event, obj)
                verb = VERBS.get(event.pgh_label, event.pgh_label)
                others.append(Change(what, None, None, None, f"{verb} {detail}", who, event.pgh_created_at))
                if event.pgh_diff and event.pgh_obj_id is not None:
                    row = rows.setdefault((event.pgh_obj_model, str(event.pgh_obj_id)), {})
                    for column, (old, _new) in event.pgh_diff.items():
                        row.setdefault(column, old)
                if event.pgh_model in m2m:
                    links.setdefault(m2m[event.pgh_model].name, set())
        started_values: dict[str, Any] = {}
        for column, entry in fields.items():
            field = columns[column]
            try:
                started_values[field.name] = field.to_python(entry["started"])
            except ValidationError:
                continue
        for name in links:  # the current links, with the adds since undone and the removals since redone
            field = self.model._meta.get_field(name)
            current_pks = {related.pk for related in field.value_from_object(obj)}
            other_end = f"{field.m2m_reverse_field_name()}_id"
            for event in reversed(events):
                if m2m.get(event.pgh_model) is field:
                    value = (event.pgh_data or {}).get(other_end)
                    (current_pks.discard if event.pgh_label == "add" else current_pks.add)(value)
            started_values[name] = current_pks
        changes = [
            Change(
                what=str(columns[column].verbose_name),
                field=columns[column].name,
                started=self._display(columns[column], entry["started"]),
                current=self._display(columns[column], columns[column].value_from_object(obj)),
                detail="",
                who=entry["who"],
                when=entry["when"],
            )
            for column, entry in fields.items()
        ]
        ordered = sorted([*changes, *others], key=lambda change: change.when)[:MAX_CHANGES]
        return Difference(changes=ordered, started=started_values, rows=rows)

    def merge_into(self, form: Any, obj: models.Model, difference: Difference) -> dict[str, bool]:
        """For each field of ``form`` changed meanwhile: if the editor left it as they found it, put the current
        value into the form (so saving again keeps the other change); else keep theirs. Field name -> kept theirs.
        ``form.data`` must be a mutable copy."""
        kept = {}
        for name, started in difference.started.items():
            if name not in form.fields or name not in getattr(form, "cleaned_data", {}):
                continue
            submitted = _comparable(form.cleaned_data[name])
            field = self.model._meta.get_field(name)
            if submitted != _comparable(started):
                kept[name] = True
                continue
            kept[name] = False
            current = field.value_from_object(obj)
            key = form.add_prefix(name)
            if isinstance(form.fields[name].widget, forms.CheckboxInput):
                if current:
                    form.data[key] = "on"
                else:
                    form.data.pop(key, None)
            elif field.many_to_many:
                form.data.setlist(key, [str(related.pk) for related in current])
            else:
                value = form.fields[name].prepare_value(current)
                form.data[key] = "" if value is None else str(value)
        return kept

    def _link_target(self, event: Any) -> str:
        """For a many-to-many link event, the record at the other end (“Safe Horizon”); else ""."""
        sources = {label: (event_model, lookups) for label, event_model, lookups in self.version_sources}
        if event.pgh_model not in sources:
            return ""
        event_model, lookups = sources[event.pgh_model]
        if not event_model.pgh_tracked_model._meta.concrete_model._meta.auto_created:
            return ""
        names = []
        for field in event_model._meta.fields:
            if field.is_relation and field.name not in {*lookups, "pgh_obj", "pgh_context"}:
                value = (event.pgh_data or {}).get(field.attname)
                related = field.related_model._base_manager.filter(pk=value).first() if value is not None else None
                names.append(f"“{_short(related if related is not None else f'#{value}')}”")
        return ", ".join(names)

    @staticmethod
    def _display(field: models.Field[Any, Any], value: Any) -> str:
        if value in (None, ""):
            return "—"
        related_model: Any = field.related_model
        if field.is_relation and related_model is not None:
            related = related_model._base_manager.filter(pk=value).first()
            return _short(related if related is not None else f"#{value}")
        if field.flatchoices:
            return _short(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        return _short(value)

    # --- Change form -------------------------------------------------------------------------------------------
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.conflict_guard = self  # type: ignore[attr-defined]
        return form

    def check_change_form(self, form: Any) -> None:
        """Lock the record, compare versions; on a stale one, add the errors and carry the current version."""
        pk = form.instance.pk
        current = self.record_versions([pk], lock=True).get(pk)
        if current is None:
            return  # deleted meanwhile: the save fails on its own
        data = self._read(form.data.get(form.add_prefix(VERSION_FIELD)))
        form.data = form.data.copy()
        form.data[form.add_prefix(VERSION_FIELD)] = self.version_token(pk, current)  # if shown again
        if data is None or data.get("pk") != str(pk):
            raise ValidationError(
                "This form does not say which version of the record it was opened from, so saving it could "
                "overwrite someone else's change. Nothing was saved: reload the page and make your change again.",
                code="no_version",
            )
        started: Versions = data["v"]
        if started == current:
            return
        fresh = self.model._base_manager.get(pk=pk)
        difference = self.changes_since(fresh, started, current)
        kept = self.merge_into(form, fresh, difference)
        for model, prefix, inline_data in getattr(form.instance, "_registry_inline_data", []):
            self.merge_inline(model, prefix, inline_data, difference)
        for change in difference.changes:
            if change.field in kept and change.field not in form.errors:
                form.add_error(
                    change.field,
                    f"Changed meanwhile by {change.who} from “{change.started}” to “{change.current}”; "
                    + ("you changed it too: the value below is yours." if kept[change.field] else "the form shows it."),
                )
        lines = [change.sentence() for change in difference.changes] or ["(see the record's history)"]
        raise ValidationError(
            [
                "Someone else saved this record after you opened it, so nothing of yours was saved. "
                "Changed since you opened the page:",
                *lines,
                "Your changes are kept below, with the other changes to the fields you did not touch. Check the "
                "fields marked and save again to apply your changes.",
            ],
            code="stale",
        )

    def get_formset_kwargs(self, request: HttpRequest, obj: Any, inline: Any, prefix: str) -> dict[str, Any]:
        """Each inline formset of a change form's POST gets a copy of the data of its own, which
        ``check_change_form`` may still change (the formsets are made before the form is validated, their forms
        only when validated)."""
        kwargs: dict[str, Any] = super().get_formset_kwargs(request, obj, inline, prefix)
        if "data" in kwargs and obj is not None and obj.pk is not None:
            kwargs["data"] = kwargs["data"].copy()
            obj.__dict__.setdefault("_registry_inline_data", []).append((inline.model, prefix, kwargs["data"]))
        return kwargs

    @staticmethod
    def merge_inline(model: Any, prefix: str, data: Any, difference: Difference) -> None:
        """After a refused save, an inline row (a claim) that someone else changed meanwhile and the editor left
        as they found it is shown with its current values, so that saving again does not undo that change."""
        label = model._meta.label
        changed = {pk: columns for (row_model, pk), columns in difference.rows.items() if row_model == label}
        if not changed:
            return
        current = {str(pk): row for pk, row in model._base_manager.in_bulk(list(changed)).items()}
        fields = {field.column: field for field in model._meta.concrete_fields}
        try:
            initial = int(data.get(f"{prefix}-INITIAL_FORMS", 0))
        except ValueError:
            return
        for index in range(initial):
            pk = data.get(f"{prefix}-{index}-{model._meta.pk.name}")
            if pk not in changed or pk not in current:
                continue
            columns = [fields[c] for c in changed[pk] if c in fields and c not in IGNORED_COLUMNS]
            keys = {field.name: f"{prefix}-{index}-{field.name}" for field in columns}
            if all(_same(field, data.get(keys[field.name]), changed[pk][field.column]) for field in columns):
                for field in columns:
                    value = field.value_from_object(current[pk])
                    data[keys[field.name]] = "" if value is None else str(value)

    # --- Changelist: list_editable and actions -----------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if request.method == "POST" and "_save" in request.POST:
            # The rows are locked and checked in the formset's clean, inside this transaction, then saved in it.
            with transaction.atomic(using=router.db_for_write(self.model)):
                response = super().changelist_view(request, extra_context)
        else:
            response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and context.get("cl") is not None:
            cl = context["cl"]
            if cl.list_editable or context.get("action_form") is not None:
                rows = list(cl.result_list)
                if all(hasattr(row, "conflict_v0") or hasattr(row, "conflict_updated_at") for row in rows):
                    versions = {row.pk: self._version_of(row) for row in rows}  # read with the page's rows
                else:
                    versions = self.record_versions([row.pk for row in rows])
                context[VERSIONS_FIELD] = self.rows_token(versions)
        return response

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> Any:
        """A ChangeList whose page of rows also reads their versions, in the same query (no query of its own).
        Only the page: the count, the facets and the actions' querysets are left alone. PostgreSQL evaluates the
        subqueries for the rows on the page only (after the sort and the limit)."""
        changelist = super().get_changelist(request, **kwargs)
        guard = self

        class VersionedChangeList(changelist):  # type: ignore[misc,valid-type]
            def get_results(self, request: HttpRequest) -> None:
                super().get_results(request)
                result_list: Any = getattr(self, "result_list", None)
                if isinstance(result_list, models.QuerySet) and result_list._result_cache is None:
                    self.result_list = result_list.annotate(**guard.version_annotations())

        return VersionedChangeList

    def stale_rows(
        self, request: HttpRequest, pks: list[Any], *, require: bool, forms_by_pk: dict[Any, Any] | None = None
    ) -> list[str] | None:
        """Lock the rows ``pks`` and return a sentence per row that changed since the changelist was rendered
        (an empty list: all current). ``None``: the post has no readable versions and ``require`` is false.
        ``forms_by_pk``: the list_editable forms of the rows, into which the other changes are merged."""
        data = self._read(request.POST.get(VERSIONS_FIELD))
        if data is None:
            if require:
                return [
                    "This list was sent without the versions of its rows, so saving it could overwrite someone "
                    "else's change. Nothing was saved: reload the page and make your changes again."
                ]
            return None
        shown: dict[str, Versions] = data.get("rows", {})
        current = self.record_versions(pks, lock=True)
        stale = [pk for pk in pks if pk in current and (str(pk) not in shown or shown[str(pk)] != current[pk])]
        if not require:
            stale = [pk for pk in stale if str(pk) in shown]
        lines = []
        records = self.model._base_manager.in_bulk(stale)
        for pk in stale:
            obj = records.get(pk)
            if obj is None:
                continue
            started = shown.get(str(pk))
            if started is None:
                lines.append(f"“{obj}” was not on the page you saved from.")
                continue
            difference = self.changes_since(obj, started, current[pk])
            if forms_by_pk and pk in forms_by_pk:
                self.merge_into(forms_by_pk[pk], obj, difference)
            sentences = " ".join(change.sentence() for change in difference.changes) or "(see its history)."
            lines.append(f"“{obj}” changed after the list was shown: {sentences}")
        return lines

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        formset = super().get_changelist_formset(request, **kwargs)
        guard = self

        class GuardedFormSet(formset):  # type: ignore[misc,valid-type]
            def clean(self) -> None:
                super().clean()
                rows = {form.instance.pk: form for form in self.forms if form.instance.pk is not None}
                self.data: Any = self.data.copy()  # the other changes are merged into the rows shown again
                for form in rows.values():
                    form.data = self.data
                lines = guard.stale_rows(request, list(rows), require=True, forms_by_pk=rows) or []
                if lines:
                    raise ValidationError(
                        [
                            "Nothing was saved: some rows changed since you loaded this list.",
                            *lines,
                            "Your changes are kept below, with the other changes where you changed nothing; "
                            "save again to apply yours.",
                        ],
                        code="stale",
                    )

        return GuardedFormSet

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if VERSIONS_FIELD not in request.POST:
            return super().response_action(request, queryset)
        with transaction.atomic(using=router.db_for_write(self.model)):
            selected = []
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                try:
                    selected.append(self.model._meta.pk.to_python(value))
                except ValidationError:
                    continue
            lines = self.stale_rows(request, selected, require=False)
            if lines is None and request.POST.get(VERSIONS_FIELD):
                lines = ["The list's versions are unreadable: reload the page and choose the action again."]
            if lines:
                self.message_user(
                    request,
                    " ".join(
                        [
                            "The action was not applied to any row: a selected row changed since the list was "
                            "shown. Reload the page, check the rows and choose the action again.",
                            *lines,
                        ]
                    ),
                    messages.ERROR,
                )
                return None
            return super().response_action(request, queryset)
