"""Writes about provenance: sources, claims and verification status. Typed, keyword-only services that the
admin, the API, imports and the shipped-data loader all go through.

Every service is idempotent where it can be: writing the same thing twice changes nothing, and so adds no
history event (a row is saved only when a value really changed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models, transaction

from provenance.models import Claim, PublicRecord, Source, SourceTier, VerificationStatus

M = TypeVar("M", bound=models.Model)


def record_upsert(*, model: type[M], lookup: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[M, bool]:
    """Create the row found by ``lookup``, or update it with ``values``; save only what changed.

    Returns the row and whether anything was written. Validates with ``full_clean`` so that a bad value
    is reported as a ValidationError naming the field, before the database would refuse it."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        return obj, True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, False
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean()
    update_fields = [*changed]
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        update_fields.append("updated_at")
    obj.save(update_fields=update_fields)
    return obj, True


def m2m_set(*, obj: models.Model, field: str, targets: Iterable[models.Model]) -> bool:
    """Make a many-to-many relation hold exactly ``targets``; touch nothing when it already does."""
    manager = getattr(obj, field)
    wanted = {t.pk for t in targets}
    current = set(manager.values_list("pk", flat=True))
    if wanted == current:
        return False
    manager.set(list(wanted))
    return True


def source_upsert(*, slug: str, title: str, kind: str, tier: str, **values: Any) -> Source:
    source, _ = record_upsert(
        model=Source, lookup={"slug": slug}, values={"title": title, "kind": kind, "tier": tier, **values}
    )
    return source


def claim_add(
    *,
    record: PublicRecord,
    field: str,
    value: str,
    source: Source,
    locator: str = "",
    quote: str = "",
    note: str = "",
    refresh_status: bool = True,
) -> Claim:
    """Record that ``source`` gives ``value`` for ``field`` of ``record``. Adding the same claim twice
    changes nothing. A claim that contradicts another makes the record disputed."""
    target = type(record).claim_target
    if not target:
        raise ValueError(f"{type(record).__name__} records do not carry claims.")
    with transaction.atomic():
        claim, _ = record_upsert(
            model=Claim,
            lookup={target: record, "field": field, "value": str(value), "source": source, "locator": locator},
            values={"quote": quote, "note": note},
        )
        if refresh_status:
            record_verification_refresh(record=record)
    return claim


def record_source_add(*, record: PublicRecord, source: Source) -> bool:
    """Cite ``source`` for ``record`` as a whole and refresh its verification status. Returns whether the
    source was newly attached (attaching it twice changes nothing)."""
    with transaction.atomic():
        if record.sources.filter(pk=source.pk).exists():
            return False
        record.sources.add(source)
        record_verification_refresh(record=record)
    return True


def derive_verification_status(*, record: PublicRecord) -> str:
    """The status the evidence supports:

    - disputed: claims on one of its fields disagree;
    - verified: a primary source (an MOU, the statute itself, the body's own record) backs it;
    - corroborated: two sources from different publishers back it;
    - unverified: otherwise (one secondary source, or none).
    """
    # Always read the evidence from the database: a record with prefetched claims or sources (a view's
    # object) would otherwise be judged on what it held before the write that asked for this refresh.
    claimed = type(record).claim_target
    claims = list(Claim.objects.for_record(record).select_related("source")) if claimed else []
    values: dict[str, set[str]] = {}
    for claim in claims:
        values.setdefault(claim.field, set()).add(claim.value)
    if any(len(seen) > 1 for seen in values.values()):
        return VerificationStatus.DISPUTED
    sources = list(record.sources.order_by()) + [claim.source for claim in claims]  # order_by(): not the prefetch
    if any(s.tier == SourceTier.PRIMARY for s in sources):
        return VerificationStatus.VERIFIED
    publishers = {(s.publisher or s.slug).casefold() for s in sources}
    if len(publishers) >= 2:
        return VerificationStatus.CORROBORATED
    return VerificationStatus.UNVERIFIED


def record_verification_refresh(*, record: PublicRecord) -> str:
    """Store the status the evidence supports; write only if it changed."""
    status = derive_verification_status(record=record)
    if record.verification_status != status:
        record.verification_status = status
        record.save(update_fields=["verification_status", "updated_at"])
    return status
