"""Writes about partnerships: typed, keyword-only services that the API (and any script) goes through.

Each service validates with ``full_clean`` (a bad value is a ValidationError naming the field, before the
database would refuse it), runs in one transaction, and stores the verification status the evidence supports.
The editor is attached to the history events: inside a request pghistory's middleware already records the
user; outside one, ``editor`` is added to the history context.

Versions (optimistic locking): ``partnership_update`` takes ``expected_version`` and refuses with
``StaleRecord`` when the record changed since the client read it. The row is locked (``SELECT ... FOR
UPDATE``) before the version is read, so two concurrent updates made from the same version cannot both
succeed. By default the version is ``partnership_version`` (the record's ``updated_at``); the API passes
``current_version`` computing the detail endpoint's ETag instead, which also changes when a claim, a link or
a linked record changes (see registry/api/conditional.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import pghistory
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from geography.models import Jurisdiction, Region
from partnerships.models import NGO, FocusArea, Partnership, PoliceDepartment, SurveillancePractice
from provenance.models import Source
from provenance.services import m2m_set, record_verification_refresh

# Many-to-many fields a create or an update may set (each to exactly the given records).
PARTNERSHIP_M2M_FIELDS = ("sources", "ngos", "police_departments", "focus_areas", "surveillance_practices")


class StaleRecord(Exception):
    """The record changed since the version the editor's change was based on."""

    def __init__(self, *, expected: str, current: str) -> None:
        super().__init__(f"The record has changed (expected version {expected}, current version {current}).")
        self.expected = expected
        self.current = current


def partnership_version(partnership: Partnership) -> str:
    """The version of a partnership outside HTTP: when it was last saved."""
    return partnership.updated_at.isoformat()


@contextmanager
def _editor_context(editor: AbstractBaseUser | AnonymousUser | None) -> Iterator[None]:
    user_id = getattr(editor, "pk", None)
    with pghistory.context(user=user_id) if user_id is not None else nullcontext():
        yield


def partnership_create(
    *,
    name: str,
    slug: str,
    region: Region,
    jurisdiction: Jurisdiction,
    focus_summary: str = "",
    primary_objective: str = "",
    description: str = "",
    year_established: int | None = None,
    year_ended: int | None = None,
    status: str = "",
    formalisation: str = "",
    data_sharing: str = "",
    is_published: bool = False,
    editorial_note: str = "",
    sources: Iterable[Source] = (),
    ngos: Iterable[NGO] = (),
    police_departments: Iterable[PoliceDepartment] = (),
    focus_areas: Iterable[FocusArea] = (),
    surveillance_practices: Iterable[SurveillancePractice] = (),
    editor: AbstractBaseUser | AnonymousUser | None = None,
) -> Partnership:
    """Create a partnership with its links. Empty ``status``/``formalisation``/``data_sharing`` keep the
    model's default (unknown)."""
    values: dict[str, Any] = {
        "focus_summary": focus_summary,
        "primary_objective": primary_objective,
        "description": description,
        "year_established": year_established,
        "year_ended": year_ended,
        "is_published": is_published,
        "editorial_note": editorial_note,
    }
    values.update(
        {k: v for k, v in {"status": status, "formalisation": formalisation, "data_sharing": data_sharing}.items() if v}
    )
    links = {
        "sources": sources,
        "ngos": ngos,
        "police_departments": police_departments,
        "focus_areas": focus_areas,
        "surveillance_practices": surveillance_practices,
    }
    with transaction.atomic(), _editor_context(editor):
        partnership = Partnership(name=name, slug=slug, region=region, jurisdiction=jurisdiction, **values)
        partnership.full_clean()
        partnership.save()
        for field, targets in links.items():
            m2m_set(obj=partnership, field=field, targets=list(targets))
        record_verification_refresh(record=partnership)
    return partnership


def partnership_update(
    *,
    partnership: Partnership,
    changes: Mapping[str, Any],
    expected_version: str | None,
    current_version: Callable[[Partnership], str] = partnership_version,
    editor: AbstractBaseUser | AnonymousUser | None = None,
) -> Partnership:
    """Apply ``changes`` (field name -> value; a many-to-many field -> the records it must hold) and return
    the saved partnership. Raises ``StaleRecord`` (nothing written) when ``expected_version`` is given and is
    not the current version; ``None`` skips the check (scripts that own the data)."""
    unknown = sorted(set(changes) - {f.name for f in Partnership._meta.get_fields()})
    if unknown:
        raise ValueError(f"Partnership has no field(s) {', '.join(unknown)}.")
    with transaction.atomic(), _editor_context(editor):
        locked = Partnership.objects.select_for_update().get(pk=partnership.pk)
        if expected_version is not None:
            current = current_version(locked)
            if current != expected_version:
                raise StaleRecord(expected=expected_version, current=current)
        scalars = {name: value for name, value in changes.items() if name not in PARTNERSHIP_M2M_FIELDS}
        changed = [name for name, value in scalars.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, scalars[name])
        if changed:
            locked.full_clean()
            locked.save(update_fields=[*changed, "updated_at"])
        for field in PARTNERSHIP_M2M_FIELDS:
            if field in changes:
                m2m_set(obj=locked, field=field, targets=list(changes[field]))
        record_verification_refresh(record=locked)
    return locked
