"""Revert one recorded change of a record, as a new recorded change.

The history (django-pghistory's event tables) keeps a snapshot of a record after every insert and update, and one
row per many-to-many link added or removed. Two kinds of event can be reverted:

- an **update** of the record's own fields: the fields that event changed get back the values of the snapshot
  before it (only fields an editor may set: not the primary key, not the timestamps, not values the database
  sets itself such as the first publication time);
- a **link** added or removed (``ngos``, ``sources``, ...): the link is removed or added again.

A revert is refused, with nothing written, when the record changed those fields (or that link) again since the
event (the newest such change is named, so the editor can revert that one instead), when the event is not one of
the record's, or when the restored values do not pass ``full_clean``. A revert runs in one transaction with the
record's row locked, inside ``pghistory.context(revert_of=<event id>, revert_of_event=<model:id>)``, so the
event it writes says what it reverted.

``record_revert_plan`` (read only) says what a revert would do, for the confirmation page; ``record_revert``
does it.
"""

from __future__ import annotations

import operator
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import pghistory
import pghistory.core
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import Q

# Set by Django on every save: restoring them would only make the history lie about when the revert happened.
NOT_REVERTED = frozenset({"created_at", "updated_at"})


class RevertRefused(Exception):
    """The revert cannot be applied; ``message`` says why, nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        newest_event: models.Model | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # The newest event that changed the same fields (or link) again: the one the editor may revert instead.
        self.newest_event = newest_event
        self.errors = errors or {}


@dataclass(frozen=True)
class FieldRevert:
    """One field a revert restores: its value now (what the event set) and the value it gets back."""

    field: models.Field[Any, Any]
    current: Any
    restored: Any


@dataclass(frozen=True)
class RevertPlan:
    """What reverting ``event`` on ``record`` does: restore ``fields``, or add/remove the link to ``link_target``."""

    record: models.Model
    event: models.Model
    fields: list[FieldRevert] = field(default_factory=list)
    link_field: models.ManyToManyField[Any, Any] | None = None
    link_target_id: Any = None
    link_target: models.Model | None = None
    link_action: str = ""  # "add" or "remove": what the revert does to the link


def event_reference(event: models.Model) -> str:
    """A history event's identity across every event table: ``app.ModelEvent:pgh_id``."""
    return f"{event._meta.label}:{event.pk}"


def _concrete(model: type[models.Model]) -> type[models.Model]:
    return model._meta.concrete_model or model


def _tracked(event_model: type[models.Model]) -> type[models.Model]:
    return _concrete(event_model.pgh_tracked_model)  # type: ignore[attr-defined]


def _through(m2m: Any) -> type[models.Model]:
    """The concrete link table model of a many-to-many field."""
    return _concrete(m2m.remote_field.through)


def revertable_event_models(model: type[models.Model]) -> dict[str, type[models.Model]]:
    """Event tables whose events a revert can undo on a ``model`` record: its own (updates) and its links'."""
    throughs = {_through(f) for f in model._meta.many_to_many}
    found = {}
    for event_model in pghistory.core.event_models():
        tracked = _tracked(event_model)
        if tracked is _concrete(model) or tracked in throughs:
            found[event_model._meta.label] = event_model
    return found


def revertable_columns(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    """Column -> field for the fields of ``model`` a revert restores (what an editor may set)."""
    return {
        f.column: f
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in NOT_REVERTED
    }


def link_field_of(model: type[models.Model], event_model: type[models.Model]) -> Any:
    """The many-to-many field of ``model`` whose links ``event_model`` records, or None."""
    tracked = _tracked(event_model)
    for m2m in model._meta.many_to_many:
        if _through(m2m) is tracked:
            return m2m
    return None


def _link_columns(m2m: Any) -> tuple[str, str]:
    """Attribute names of the owner and the target in the link table (``partnership_id``, ``ngo_id``)."""
    through: Any = _through(m2m)
    owner = through._meta.get_field(m2m.m2m_field_name()).attname
    target = through._meta.get_field(m2m.m2m_reverse_field_name()).attname
    return owner, target


def record_revert_plan(
    *, record: models.Model, event: models.Model, protected_fields: Collection[str] = ()
) -> RevertPlan:
    """What reverting ``event`` would do to ``record`` now; raises RevertRefused if it cannot be done.

    ``protected_fields``: fields the editor may not set (read-only for them in the admin, e.g. ``is_published``
    without the permission to publish, or a derived ``verification_status``); a change of one is not reverted."""
    model = _concrete(type(record))
    event_model = type(event)
    if event_model._meta.label not in revertable_event_models(model):
        raise RevertRefused(f"Event {event.pk} is not a change of this {model._meta.verbose_name}.")
    if _tracked(event_model) is model:
        return _field_plan(record=record, event=event, protected_fields=protected_fields)
    return _link_plan(record=record, event=event)


def _field_plan(*, record: models.Model, event: models.Model, protected_fields: Collection[str]) -> RevertPlan:
    model = _concrete(type(record))
    event_model = type(event)
    if str(event.pgh_obj_id) != str(record.pk):  # type: ignore[attr-defined]
        raise RevertRefused(f"Event {event.pk} is a change of another {model._meta.verbose_name}.")
    if event.pgh_label != "update":  # type: ignore[attr-defined]
        what = {"insert": "the creation", "delete": "the deletion"}.get(event.pgh_label, "this event")  # type: ignore[attr-defined]
        raise RevertRefused(f"Event {event.pk} is {what} of the record; only a change of its fields can be reverted.")
    before = event_model._default_manager.filter(pgh_obj_id=record.pk, pgh_id__lt=event.pk).order_by("-pgh_id").first()
    if before is None:
        raise RevertRefused(f"The history holds no state of the record before event {event.pk}.")
    tracked_names = {f.name for f in event_model._meta.concrete_fields}
    changed = [
        f
        for f in revertable_columns(model).values()
        if f.name in tracked_names and getattr(before, f.attname) != getattr(event, f.attname)
    ]
    if not changed:
        raise RevertRefused(
            f"Event {event.pk} changed nothing a revert can restore (only timestamps or values the database sets)."
        )
    protected = [str(f.verbose_name) for f in changed if f.name in protected_fields]
    if protected:
        raise RevertRefused(
            f"Event {event.pk} changed {', '.join(protected)}, which you cannot set here (derived from the evidence, "
            "or it needs a permission you do not have)."
        )
    # Changed again since? A later snapshot whose value differs from what the event set (a change and a change back
    # included), or a current value that differs.
    differs = reduce(operator.or_, [~Q(**{f.attname: getattr(event, f.attname)}) for f in changed])
    newest = (
        event_model._default_manager.filter(pgh_obj_id=record.pk, pgh_id__gt=event.pk)
        .filter(differs)
        .order_by("-pgh_id")
        .first()
    )
    moved = [f for f in changed if getattr(record, f.attname) != getattr(event, f.attname)]
    if newest is not None or moved:
        fields = ", ".join(str(f.verbose_name) for f in changed)
        raise RevertRefused(
            f"The record's {fields} changed again after event {event.pk}"
            + (f" (event {newest.pk})" if newest is not None else "")
            + ": reverting it would undo that later change too. Revert the newest change instead.",
            newest_event=newest,
        )
    return RevertPlan(
        record=record,
        event=event,
        fields=[
            FieldRevert(field=f, current=getattr(record, f.attname), restored=getattr(before, f.attname))
            for f in changed
        ],
    )


def _link_plan(*, record: models.Model, event: models.Model) -> RevertPlan:
    model = _concrete(type(record))
    m2m = link_field_of(model, type(event))
    if m2m is None:
        raise RevertRefused(f"Event {event.pk} is not a link of this {model._meta.verbose_name}.")
    owner_column, target_column = _link_columns(m2m)
    if str(getattr(event, owner_column)) != str(record.pk):
        raise RevertRefused(f"Event {event.pk} is a link of another {model._meta.verbose_name}.")
    label = event.pgh_label  # type: ignore[attr-defined]
    if label not in ("add", "remove"):
        raise RevertRefused(f"Event {event.pk} is neither a link added nor a link removed.")
    target_id = getattr(event, target_column)
    pair = {owner_column: record.pk, target_column: target_id}
    newest = type(event)._default_manager.filter(**pair, pgh_id__gt=event.pk).order_by("-pgh_id").first()
    linked = _through(m2m)._default_manager.filter(**pair).exists()
    if newest is not None or linked != (label == "add"):
        raise RevertRefused(
            f"The link to {m2m.related_model._meta.verbose_name} #{target_id} changed again after event {event.pk}"
            + (f" (event {newest.pk})" if newest is not None else "")
            + ". Revert the newest change instead.",
            newest_event=newest,
        )
    target = m2m.related_model._default_manager.filter(pk=target_id).first()
    if target is None and label == "remove":
        raise RevertRefused(
            f"The {m2m.related_model._meta.verbose_name} #{target_id} no longer exists; the link cannot be added back."
        )
    return RevertPlan(
        record=record,
        event=event,
        link_field=m2m,
        link_target_id=target_id,
        link_target=target,
        link_action="remove" if label == "add" else "add",
    )


def record_revert(
    *,
    record: models.Model,
    event: models.Model,
    editor: AbstractBaseUser,
    protected_fields: Collection[str] = (),
) -> RevertPlan:
    """Undo ``event`` on ``record`` as a new recorded change (its history context names the event reverted).

    Locks the record's row, re-checks the plan against the locked row, validates with ``full_clean`` and writes
    in one transaction; raises RevertRefused (nothing written) when it cannot."""
    model = type(record)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=record.pk)
        plan = record_revert_plan(record=locked, event=event, protected_fields=protected_fields)
        context = {"revert_of": event.pk, "revert_of_event": event_reference(event), "user": editor.pk}
        with pghistory.context(**context):
            if plan.link_field is not None:
                related = getattr(locked, plan.link_field.name)
                if plan.link_action == "remove":
                    related.remove(plan.link_target_id)
                else:
                    related.add(plan.link_target_id)
            else:
                _restore_fields(locked, plan)
    record.refresh_from_db()
    return RevertPlan(
        record=record,
        event=plan.event,
        fields=plan.fields,
        link_field=plan.link_field,
        link_target_id=plan.link_target_id,
        link_target=plan.link_target,
        link_action=plan.link_action,
    )


def _restore_fields(record: models.Model, plan: RevertPlan) -> None:
    if any(change.field.name == "slug" for change in plan.fields) and getattr(record, "first_published_at", None):
        raise RevertRefused("The record has been published: its slug is cited by others and cannot change back.")
    for change in plan.fields:
        setattr(record, change.field.attname, change.restored)
    try:
        record.full_clean()
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        message = "The values from before this change are not valid for the record any more."
        raise RevertRefused(message, errors=errors) from None
    update_fields = [change.field.name for change in plan.fields]
    if any(f.name == "updated_at" for f in record._meta.concrete_fields):
        update_fields.append("updated_at")
    try:
        with transaction.atomic():
            record.save(update_fields=update_fields)
    except DatabaseError as error:
        raise RevertRefused(f"The database refused the revert: {str(error).splitlines()[0]}") from None
