"""Writes about provenance: sources, claims and verification status. Typed, keyword-only services that the
admin, the API, imports and the shipped-data loader all go through.

Every service is idempotent where it can be: writing the same thing twice changes nothing, and so adds no
history event (a row is saved only when a value really changed)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pghistory
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from provenance.models import (
    CLAIMABLE_FIELDS,
    MANY_TO_MANY_CLAIMABLE,
    Claim,
    DisputeResolution,
    PublicRecord,
    Source,
    SourceTier,
    VerificationStatus,
)

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


# --- Dispute resolution ------------------------------------------------------------------------------------

RESOLVE_DISPUTE_PERMISSION = "accounts.resolve_dispute"


def claimed_values(*, record: PublicRecord, field: str) -> dict[str, list[Claim]]:
    """The values the claims give for ``field`` of ``record``, each with the claims that give it (sorted)."""
    values: dict[str, list[Claim]] = {}
    for claim in Claim.objects.for_record(record).about(field).select_related("source").order_by("value", "id"):
        values.setdefault(claim.value, []).append(claim)
    return values


def _related_by_text(model_field: models.ForeignKey[Any, Any], text: str) -> models.Model:
    """The row a claimed text names: by slug, else by name (case-insensitive); refuse none or several."""
    related: Any = model_field.related_model
    names = {f.name for f in related._meta.get_fields()}
    noun = str(related._meta.verbose_name)
    if "slug" in names:
        found = related._default_manager.filter(slug=text).first()
        if found is not None:
            return found
    if "name" in names:
        matches = list(related._default_manager.filter(name__iexact=text)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValidationError(f"Several {related._meta.verbose_name_plural} are called \u201c{text}\u201d.")
    raise ValidationError(
        f"No {noun} is called \u201c{text}\u201d. Add the {noun} first, or correct the claim so that it names one."
    )


def claimed_value_to_python(*, model: type[models.Model], field: str, text: str) -> Any:
    """Turn a claim's text into a value of the model field: a year into an int, a name into the related row,
    a choice's label into its stored value, a date from ISO 8601. Raises ValidationError saying what is wrong."""
    model_field: Any = model._meta.get_field(field)
    text = text.strip()
    if isinstance(model_field, models.ForeignKey):
        return _related_by_text(model_field, text)
    if model_field.choices:
        for value, label in model_field.flatchoices:
            if text == str(value) or text.casefold() == str(label).casefold():
                return value
        allowed = ", ".join(str(value) for value, _ in model_field.flatchoices)
        raise ValidationError(f"\u201c{text}\u201d is not one of the allowed values ({allowed}).")
    if isinstance(model_field, models.IntegerField):
        try:
            return int(text)
        except ValueError:
            raise ValidationError(f"\u201c{text}\u201d is not a whole number.") from None
    if isinstance(model_field, models.DateField):
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if not isinstance(day, datetime.date):
            raise ValidationError(f"\u201c{text}\u201d is not a date (YYYY-MM-DD).")
        return day
    return model_field.to_python(text)


def _field_errors(error: ValidationError, field: str) -> ValidationError:
    """A record's full_clean errors about ``field`` (or the record as a whole) as errors of the chosen value."""
    if not hasattr(error, "error_dict"):
        return ValidationError({"chosen_value": error.messages})
    messages = []
    for name, errors in error.message_dict.items():
        prefix = "" if name in (field, "__all__") else f"{name}: "
        messages += [f"{prefix}{message}" for message in errors]
    return ValidationError({"chosen_value": messages})


def dispute_resolve(
    *, record: PublicRecord, field: str, chosen_value: str, reason: str, reviewer: Any
) -> DisputeResolution:
    """A reviewer settles a disputed field: the record takes ``chosen_value`` (one of the values its claims give;
    a value no source gives must first be added as a claim with its source) and the resolution, with the
    reviewer's public ``reason``, is stored. All in one transaction whose history events carry the context
    ``dispute_resolution=<id>``. The claims are kept: the field stays disputed (the sources still disagree)
    and so does the record's verification status, now shown with the reviewers' decision.

    Raises PermissionDenied without ``accounts.resolve_dispute`` (superusers have it), ValidationError (keyed
    by ``field``, ``chosen_value`` or ``reason``) for anything else that is wrong; nothing is written then."""
    if reviewer is None or not reviewer.is_authenticated or not reviewer.has_perm(RESOLVE_DISPUTE_PERMISSION):
        raise PermissionDenied("Resolving a dispute needs the permission to resolve disputes (reviewers have it).")
    model = type(record)
    target = model.claim_target
    if not target or record.pk is None:
        raise ValidationError({"field": f"{model.__name__} records do not carry claims."})
    if field not in CLAIMABLE_FIELDS[target]:
        raise ValidationError({"field": f"\u201c{field}\u201d is not a field claims can be about."})
    if field in MANY_TO_MANY_CLAIMABLE.get(target, frozenset()):
        raise ValidationError(
            {"field": f"\u201c{field}\u201d is a list of related records: edit it in the record's form instead."}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this value was chosen: the reason is shown publicly."})
    with transaction.atomic(), pghistory.context():
        # Lock the record: two reviewers resolving the same record at once are served one after the other.
        locked = model._default_manager.select_for_update().get(pk=record.pk)
        values = claimed_values(record=locked, field=field)
        if len(values) < 2:
            raise ValidationError({"field": f"The sources do not disagree about \u201c{field}\u201d."})
        if chosen_value not in values:
            raise ValidationError(
                {"chosen_value": "Choose one of the values the sources give: " + ", ".join(sorted(values)) + "."}
            )
        try:
            value = claimed_value_to_python(model=model, field=field, text=chosen_value)
        except (ValidationError, FieldDoesNotExist) as error:
            raise ValidationError({"chosen_value": getattr(error, "messages", [str(error)])}) from None
        model_field: Any = model._meta.get_field(field)
        changes_value = getattr(locked, model_field.attname) != getattr(value, "pk", value)
        if changes_value:
            # Validate the record with the chosen value before anything is written.
            setattr(locked, field, value)
            try:
                locked.full_clean()
            except ValidationError as error:
                raise _field_errors(error, field) from None
        resolution = DisputeResolution(
            **{target: locked},
            field=field,
            chosen_value=chosen_value,
            chosen_claim=values[chosen_value][0],
            reason=reason,
            resolved_by=reviewer,
            resolved_at=timezone.now(),
        )
        resolution.full_clean()
        resolution.save()
        pghistory.context(dispute_resolution=resolution.pk)
        if changes_value:
            locked.save(update_fields=[model_field.attname, "updated_at"])
            setattr(record, field, value)
        else:
            # The value stands; the record's page still changed (it now shows the resolution).
            locked.save(update_fields=["updated_at"])
        record.updated_at = locked.updated_at
        record_verification_refresh(record=locked)
        record.verification_status = locked.verification_status
    return resolution
