"""What the public record pages show about provenance, shared by every page type: the claims of a record
grouped by field (a dispute side by side), and its change history in words.

Works from prefetched ``claims`` (with their ``source``), so a record page costs no query per claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from provenance.models import latest_resolutions
from registry.api.resources.history import record_history

EVENT_WORDS = {
    "insert": "Created",
    "update": "Changed",
    "delete": "Deleted",
    "add": "Linked",
    "remove": "Unlinked",
    "claim_add": "Claim added",
    "claim_update": "Claim changed",
    "claim_remove": "Claim removed",
    "dispute_resolved": "Dispute resolved by the reviewers",
}


@dataclass
class ClaimedValue:
    """One value the sources give for a field, with every claim that gives it."""

    value: str
    claims: list[Any] = field(default_factory=list)


@dataclass
class FieldClaims:
    """The claims about one field: several values means the sources disagree."""

    field: str
    label: str
    values: list[ClaimedValue]
    resolution: Any = None  # the reviewers' current DisputeResolution of this field, if any

    @property
    def disputed(self) -> bool:
        return len(self.values) > 1


def field_label(model: type[models.Model], name: str) -> str:
    try:
        verbose_name = getattr(model._meta.get_field(name), "verbose_name", None)
    except FieldDoesNotExist:  # a claim about a name that is not a model field: show it as it is
        verbose_name = None
    return capfirst(str(verbose_name or name.replace("_", " ")))


def claims_by_field(record: models.Model) -> list[FieldClaims]:
    """The record's claims grouped by field (disputed fields first), each value with the claims that give it."""
    grouped: dict[str, dict[str, ClaimedValue]] = {}
    for claim in record.claims.all():  # type: ignore[attr-defined]
        values = grouped.setdefault(claim.field, {})
        values.setdefault(claim.value, ClaimedValue(claim.value)).claims.append(claim)
    resolutions = latest_resolutions(record) if grouped else {}  # one query (none when prefetched)
    fields = [
        FieldClaims(
            name,
            field_label(type(record), name),
            sorted(values.values(), key=lambda v: v.value),
            resolutions.get(name),
        )
        for name, values in grouped.items()
    ]
    return sorted(fields, key=lambda f: (not f.disputed, f.label))


def history_entries(record: models.Model) -> list[dict[str, Any]]:
    """The record's change history, newest first, in words ("Changed: name, year established")."""
    entries = []
    for event in record_history(record):
        labels = [field_label(type(record), name).lower() for name in event["changed_fields"]]
        entries.append({**event, "words": EVENT_WORDS.get(event["event"], event["event"]), "fields": labels})
    return entries
