"""The change history of one public record, for ``/api/v1/<resource>/<slug>/history/``.

Three kinds of event are merged, newest first: the record's own row (insert, update with the fields that
changed, delete), its many-to-many links (a source, topic or party added or removed), its claims (a sourced
value of a field added, changed or removed) and the reviewers' resolutions of its disputed fields
(``dispute_resolved``). No personal data: never the user, URL or context of a change."""

from __future__ import annotations

import datetime
from typing import Any

from django.apps import apps
from django.db import models
from pghistory.models import Events

# Fields every history entry leaves out of "changed_fields": they change on every save.
HISTORY_IGNORED_FIELDS = frozenset({"updated_at", "created_at"})
CLAIM_LABELS = {"insert": "claim_add", "update": "claim_update", "delete": "claim_remove"}


def m2m_event_model(field: models.ManyToManyField[Any, Any]) -> type[models.Model] | None:
    """The pghistory event model of a tracked many-to-many field (see registry.history.track_m2m)."""
    owner = field.model
    name = f"{owner.__name__}{field.name.title().replace('_', '')}Event"
    try:
        return apps.get_model(owner._meta.app_label, name)
    except LookupError:
        return None


def record_history(record: models.Model) -> list[dict[str, Any]]:
    """Every event of the record, its links and its claims, newest first, without personal data."""
    entries: list[tuple[datetime.datetime, int, int, dict[str, Any]]] = []
    own = Events.objects.tracks(record).only("pgh_id", "pgh_created_at", "pgh_label", "pgh_diff")
    for event in own:
        changed = sorted(set(event.pgh_diff or {}) - HISTORY_IGNORED_FIELDS)
        entries.append(
            (
                event.pgh_created_at,
                0 if event.pgh_label == "insert" else 3,
                event.pgh_id,
                {"event": event.pgh_label, "at": event.pgh_created_at, "changed_fields": changed},
            )
        )
    for field in type(record)._meta.many_to_many:
        event_model: Any = m2m_event_model(field)
        if event_model is None:
            continue
        link_column = f"{field.m2m_field_name()}_id"
        links = event_model.objects.filter(**{link_column: record.pk}).values_list(
            "pgh_id", "pgh_created_at", "pgh_label"
        )
        for pgh_id, at, label in links:
            entries.append((at, 1, pgh_id, {"event": label, "at": at, "changed_fields": [field.name]}))
    target = getattr(type(record), "claim_target", "")
    if target:
        claim_events = apps.get_model("provenance", "ClaimEvent").objects.filter(**{f"{target}_id": record.pk})
        for pgh_id, at, label, claimed_field in claim_events.values_list(
            "pgh_id", "pgh_created_at", "pgh_label", "field"
        ):
            entries.append(
                (at, 2, pgh_id, {"event": CLAIM_LABELS.get(label, label), "at": at, "changed_fields": [claimed_field]})
            )
        # The reviewers' resolution of a disputed field (who resolved it is never shown).
        resolution_events = apps.get_model("provenance", "DisputeResolutionEvent").objects.filter(
            **{f"{target}_id": record.pk}, pgh_label="insert"
        )
        for pgh_id, at, resolved_field in resolution_events.values_list("pgh_id", "pgh_created_at", "field"):
            entries.append((at, 2, pgh_id, {"event": "dispute_resolved", "at": at, "changed_fields": [resolved_field]}))
    # Events of one transaction share a time: then the creation comes first, its links and claims next, and
    # later updates last (newest first reverses this).
    entries.sort(key=lambda entry: entry[:3], reverse=True)
    return [entry[3] for entry in entries]
