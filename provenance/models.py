"""Provenance: the documents the registry cites (Source), the sourced values of single fields (Claim),
and the base every public, sourced record shares (PublicRecord: slug, verification status, sources).

A field is *disputed* when two claims about the same field of the same record disagree. The record keeps
the editor's chosen value in its own column and every claim beside it; nothing is silently resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, F, Func, OuterRef, Q
from django.db.models.lookups import Exact
from django.utils import timezone

from registry.constraints import slug_format_check
from registry.history import track_changes


class SourceKind(models.TextChoices):
    PRIMARY_DOCUMENT = "primary_document", "Primary document (MOU, contract, statute, official text)"
    NEWS = "news", "News article"
    NGO_REPORT = "ngo_report", "NGO report"
    ACADEMIC = "academic", "Academic publication"
    OFFICIAL_STATISTICS = "official_statistics", "Official statistics"
    OFFICIAL_WEBSITE = "official_website", "Official website of the body concerned"


class SourceTier(models.TextChoices):
    PRIMARY = "primary", "Primary: the document itself or its author's own record"
    SECONDARY = "secondary", "Secondary: reports on what others did or decided"


class SourceQuerySet(models.QuerySet["Source"]):
    def primary(self) -> SourceQuerySet:
        return self.filter(tier=SourceTier.PRIMARY)

    def real(self) -> SourceQuerySet:
        """Sources that are not synthetic benchmark data."""
        return self.filter(is_synthetic=False)


@track_changes()
class Source(models.Model):
    """A citable document. Every public record cites one or more."""

    slug = models.SlugField(max_length=120, unique=True, help_text="Stable identifier used in URLs and citations.")
    title = models.CharField(max_length=500, help_text="Title of the document as published.")
    publisher = models.CharField(
        max_length=300, blank=True, help_text="Organisation or outlet that published the document."
    )
    author = models.CharField(max_length=300, blank=True, help_text="Author(s), if named.")
    url = models.URLField(max_length=2000, blank=True, help_text="Where the document can be read.")
    archived_url = models.URLField(
        max_length=2000, blank=True, help_text="An archived copy (e.g. a web archive snapshot) of the URL."
    )
    published_on = models.DateField(null=True, blank=True, help_text="Publication date, if known.")
    accessed_on = models.DateField(null=True, blank=True, help_text="Date an editor last read the document at its URL.")
    kind = models.CharField(max_length=32, choices=SourceKind.choices, help_text="What sort of document this is.")
    tier = models.CharField(
        max_length=16,
        choices=SourceTier.choices,
        help_text="Primary sources are the document itself (an MOU, a statute); secondary sources report on it.",
    )
    note = models.TextField(blank=True, help_text="Editorial note on the source and how far it can be trusted.")
    is_synthetic = models.BooleanField(
        default=False, help_text="Generated test data for benchmarks; never real. Shown as such everywhere."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the source was added.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the source was last changed.")

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            slug_format_check("provenance_source"),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values),
                name="provenance_source_kind_valid",
                violation_error_message="Unknown kind of source.",
            ),
            models.CheckConstraint(
                condition=Q(tier__in=SourceTier.values),
                name="provenance_source_tier_valid",
                violation_error_message="Unknown source tier.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=SourceKind.PRIMARY_DOCUMENT) | Q(tier=SourceTier.PRIMARY),
                name="provenance_source_primary_document_is_primary",
                violation_error_message="A primary document is a primary source: set the tier to primary.",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="provenance_source_title_not_empty",
                violation_error_message="A source needs a title.",
            ),
            models.CheckConstraint(
                condition=Q(published_on__isnull=True)
                | Q(accessed_on__isnull=True)
                | Q(published_on__lte=F("accessed_on")),
                name="provenance_source_published_before_accessed",
                violation_error_message="A source cannot be accessed before it was published.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.publisher})" if self.publisher else self.title


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified: one secondary source"
    CORROBORATED = "corroborated", "Corroborated: two independent sources agree"
    VERIFIED = "verified", "Verified: a primary document confirms it"
    DISPUTED = "disputed", "Disputed: sources disagree on at least one fact"


# Which fields of which record may carry claims. The Claim table enforces this in the database.
CLAIMABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "partnership": (
        "name",
        "region",
        "jurisdiction",
        "ngos",
        "police_departments",
        "focus_areas",
        "focus_summary",
        "primary_objective",
        "year_established",
        "year_ended",
        "status",
        "formalisation",
        "data_sharing",
        "surveillance_practices",
    ),
    "ngo": ("name", "jurisdiction", "website", "description"),
    "police_department": ("name", "jurisdiction", "website", "description"),
    "surveillance_practice": ("name", "implementation", "concerns"),
    "legal_instrument": (
        "short_name",
        "title",
        "jurisdiction",
        "kind",
        "year",
        "in_force_from",
        "in_force_to",
        "topics",
        "official_url",
    ),
    "oversight_body": ("name", "jurisdiction", "powers", "instruments"),
    "overreach_case": (
        "title",
        "location",
        "jurisdiction",
        "year",
        "partnership_type",
        "surveillance_methods",
        "issues",
        "found_by",
        "outcome",
    ),
}
CLAIM_TARGETS: dict[str, str] = {
    "partnership": "partnerships.Partnership",
    "ngo": "partnerships.NGO",
    "police_department": "partnerships.PoliceDepartment",
    "surveillance_practice": "partnerships.SurveillancePractice",
    "legal_instrument": "legal.LegalInstrument",
    "oversight_body": "legal.OversightBody",
    "overreach_case": "cases.OverreachCase",
}


class PublicRecordQuerySet(models.QuerySet[Any]):
    """Querysets shared by every public, sourced record."""

    def public(self) -> Self:
        """What may be shown to the public: published records only. Every public output starts here."""
        return self.filter(is_published=True)

    def with_sources(self) -> Self:
        return self.prefetch_related("sources")

    def with_claims(self) -> Self:
        return self.prefetch_related(models.Prefetch("claims", queryset=Claim.objects.select_related("source")))

    def verified(self) -> Self:
        return self.filter(verification_status=VerificationStatus.VERIFIED)

    def with_status(self, status: str) -> Self:
        return self.filter(verification_status=status)

    def disputed(self) -> Self:
        """Records with at least one field on which claims disagree. Read from the claims side (one pass over
        the claims): twice as fast over a million partnerships as probing the claims once per record."""
        return self.filter(pk__in=disputed_record_ids(self.model))

    def with_disputed_flag(self) -> Self:
        """Annotate ``is_disputed`` on each row, inside the same query."""
        return self.annotate(is_disputed=Exists(disputed_fields_subquery(self.model)))

    def undisputed(self) -> Self:
        return self.exclude(pk__in=disputed_record_ids(self.model))

    def real(self) -> Self:
        return self.filter(is_synthetic=False)

    def synthetic(self) -> Self:
        return self.filter(is_synthetic=True)


def disputed_fields_subquery(model: type[models.Model], outer: str = "pk") -> models.QuerySet[Any]:
    """Claims of ``model`` rows, grouped by field, that hold more than one distinct value."""
    target = model.claim_target  # type: ignore[attr-defined]
    return (
        Claim.objects.filter(**{target: OuterRef(outer)})
        .values("field")
        .annotate(values=Count("value", distinct=True))
        .filter(values__gt=1)
    )


def disputed_record_ids(model: type[models.Model]) -> models.QuerySet[Any]:
    """Ids of ``model`` rows with a field whose claims hold more than one distinct value."""
    target = model.claim_target  # type: ignore[attr-defined]
    return (
        Claim.objects.filter(**{f"{target}__isnull": False})
        .values(target, "field")
        .annotate(values=Count("value", distinct=True))
        .filter(values__gt=1)
        .values(target)
    )


class PublicRecord(models.Model):
    """Abstract base for every public record: a stable slug, sources, verification and publication."""

    claim_target: ClassVar[str] = ""

    slug = models.SlugField(
        max_length=160,
        unique=True,
        help_text="Stable identifier used in URLs and citations; it cannot change once the record is published.",
    )
    sources = models.ManyToManyField(
        Source,
        blank=True,
        related_name="%(app_label)s_%(class)s_records",
        help_text="Documents this record as a whole rests on.",
    )
    verification_status = models.CharField(
        max_length=16,
        choices=VerificationStatus.choices,
        default=VerificationStatus.UNVERIFIED,
        help_text="How well the record is sourced: unverified, corroborated, verified or disputed.",
    )
    is_published = models.BooleanField(
        default=False, help_text="Only published records appear on public pages, in the API and in exports."
    )
    first_published_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the record was first published (set by the database); its slug is frozen from then on.",
    )
    is_synthetic = models.BooleanField(
        default=False,
        help_text="Generated test data for benchmarks; never real, and labelled as synthetic wherever shown.",
    )
    editorial_note = models.TextField(
        blank=True, help_text="Public note from the editors, e.g. why a disputed value was chosen."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the record was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the record last changed.")

    objects = PublicRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def record_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            slug_format_check(prefix),
            models.CheckConstraint(
                condition=Q(verification_status__in=VerificationStatus.values),
                name=f"{prefix}_verification_status_valid",
                violation_error_message="Unknown verification status.",
            ),
        ]

    @classmethod
    def record_triggers(cls) -> list[pgtrigger.Trigger]:
        """Published slugs are cited by others: once a record has been published, the database refuses to
        change its slug (even after unpublishing) or to forget that it was published."""
        return [
            pgtrigger.Trigger(
                name="stamp_first_publication",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                # Kept once set, whatever a save() sends (the Python object never learns the stamp).
                func=(
                    "IF TG_OP = 'UPDATE' AND OLD.first_published_at IS NOT NULL THEN "
                    "NEW.first_published_at := OLD.first_published_at; "
                    "ELSIF NEW.is_published AND NEW.first_published_at IS NULL THEN "
                    "NEW.first_published_at := NOW(); END IF; RETURN NEW;"
                ),
            ),
            pgtrigger.Protect(
                name="stable_slug",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__first_published_at__isnull=False)
                & pgtrigger.Q(old__slug__df=pgtrigger.F("new__slug")),
            ),
        ]

    def disputed_fields(self) -> list[str]:
        """Names of fields on which this record's claims disagree (uses prefetched claims if present)."""
        values: dict[str, set[str]] = {}
        for claim in self.claims.all():  # type: ignore[attr-defined]
            values.setdefault(claim.field, set()).add(claim.value)
        return sorted(field for field, seen in values.items() if len(seen) > 1)


def exactly_one_record_check(*, name: str, message: str) -> models.CheckConstraint:
    """Rows about one record (claims, dispute resolutions) have one foreign key per kind of record in
    CLAIM_TARGETS: exactly one of them is set."""
    return models.CheckConstraint(
        condition=Exact(
            Func(
                *[F(f"{target}_id") for target in CLAIM_TARGETS],
                function="num_nonnulls",
                output_field=models.IntegerField(),
            ),
            1,
        ),
        name=name,
        violation_error_message=message,
    )


def field_of_target_checks(
    *, prefix: str, fields_by_target: dict[str, tuple[str, ...]], message: Callable[[str, str], str]
) -> list[models.BaseConstraint]:
    """For each kind of record, ``field`` names one of its ``fields_by_target`` when the row is about that kind
    (``<prefix>_<target>_field_valid``); ``message(target words, allowed fields)`` is the refusal."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{target}__isnull": True}) | Q(field__in=fields),
            name=f"{prefix}_{target}_field_valid",
            violation_error_message=message(target.replace("_", " "), ", ".join(fields)),
        )
        for target, fields in fields_by_target.items()
    ]


def _claimable_field_checks() -> list[models.BaseConstraint]:
    return field_of_target_checks(
        prefix="provenance_claim",
        fields_by_target=CLAIMABLE_FIELDS,
        message=lambda target, fields: f"A {target} claim can only be about: {fields}.",
    )


class ClaimQuerySet(models.QuerySet["Claim"]):
    def for_record(self, record: PublicRecord) -> ClaimQuerySet:
        return self.filter(**{type(record).claim_target: record})

    def about(self, field: str) -> ClaimQuerySet:
        return self.filter(field=field)


@track_changes()
class Claim(models.Model):
    """One sourced value of one field of one record ("Table 2 of the seed says it began in 2001")."""

    partnership = models.ForeignKey(
        CLAIM_TARGETS["partnership"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The partnership this claim is about.",
    )
    ngo = models.ForeignKey(
        CLAIM_TARGETS["ngo"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The NGO this claim is about.",
    )
    police_department = models.ForeignKey(
        CLAIM_TARGETS["police_department"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The police department this claim is about.",
    )
    surveillance_practice = models.ForeignKey(
        CLAIM_TARGETS["surveillance_practice"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The surveillance practice this claim is about.",
    )
    legal_instrument = models.ForeignKey(
        CLAIM_TARGETS["legal_instrument"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The legal instrument this claim is about.",
    )
    oversight_body = models.ForeignKey(
        CLAIM_TARGETS["oversight_body"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The oversight body this claim is about.",
    )
    overreach_case = models.ForeignKey(
        CLAIM_TARGETS["overreach_case"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The overreach case this claim is about.",
    )
    field = models.CharField(max_length=64, help_text="Name of the record's field the claim is about.")
    value = models.CharField(max_length=1000, help_text="The value the source gives, as text (a year, a name, a date).")
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="claims", help_text="Where the value comes from."
    )
    locator = models.CharField(
        max_length=200,
        blank=True,
        help_text='Where in the source: a page, section or table ("Table 2: historical partnerships").',
    )
    quote = models.TextField(blank=True, help_text="The passage of the source that states the value.")
    note = models.TextField(blank=True, help_text="Editorial note on the claim.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the claim was recorded.")

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["field", "value", "id"]
        constraints = [
            exactly_one_record_check(
                name="provenance_claim_exactly_one_record", message="A claim is about exactly one record."
            ),
            models.CheckConstraint(
                condition=~Q(value=""),
                name="provenance_claim_value_not_empty",
                violation_error_message="A claim needs a value.",
            ),
            *_claimable_field_checks(),
            *[
                models.UniqueConstraint(
                    fields=[target, "field", "source", "locator", "value"],
                    condition=Q(**{f"{target}__isnull": False}),
                    name=f"provenance_claim_unique_per_{target}",
                    violation_error_message="This source already makes this claim at this place.",
                )
                for target in CLAIM_TARGETS
            ],
        ]
        indexes = [
            models.Index(fields=[target, "field"], name=f"claim_{target[:12]}_field_idx") for target in CLAIM_TARGETS
        ]

    def __str__(self) -> str:
        return f"{self.field} = {self.value} ({self.source_id})"

    @property
    def record(self) -> PublicRecord | None:
        for target in CLAIM_TARGETS:
            if getattr(self, f"{target}_id") is not None:
                return getattr(self, target)
        return None


def sources_prefetch(path: str = "sources") -> models.Prefetch:
    """A record's sources, by title: what every API response and record page shows."""
    return models.Prefetch(path, queryset=Source.objects.order_by("title", "id"))


def claims_prefetch(path: str = "claims") -> models.Prefetch:
    """A record's claims (in the model's order: field, value) with their sources."""
    return models.Prefetch(path, queryset=Claim.objects.select_related("source"))


# --- Dispute resolutions -----------------------------------------------------------------------------------

# Claimable fields that are many-to-many relations: a dispute about them (which NGOs take part) is settled by
# editing the relation in the record's form, not by choosing one claimed text (tests check this list against
# the models).
MANY_TO_MANY_CLAIMABLE: dict[str, frozenset[str]] = {
    "partnership": frozenset({"ngos", "police_departments", "focus_areas", "surveillance_practices"}),
    "legal_instrument": frozenset({"topics"}),
    "oversight_body": frozenset({"instruments"}),
    "overreach_case": frozenset({"surveillance_methods", "issues"}),
}
RESOLVABLE_FIELDS: dict[str, tuple[str, ...]] = {
    target: tuple(name for name in fields if name not in MANY_TO_MANY_CLAIMABLE.get(target, frozenset()))
    for target, fields in CLAIMABLE_FIELDS.items()
}


def _resolvable_field_checks() -> list[models.BaseConstraint]:
    return field_of_target_checks(
        prefix="provenance_resolution",
        fields_by_target=RESOLVABLE_FIELDS,
        message=lambda target, fields: f"A dispute about a {target} can only be resolved for: {fields}.",
    )


class DisputeResolutionQuerySet(models.QuerySet["DisputeResolution"]):
    def for_record(self, record: PublicRecord) -> DisputeResolutionQuerySet:
        return self.filter(**{type(record).claim_target: record})

    def about(self, field: str) -> DisputeResolutionQuerySet:
        return self.filter(field=field)


@track_changes()
class DisputeResolution(models.Model):
    """The reviewers' decision on a disputed field: which of the values the sources give the record shows, and
    why. Resolutions are kept, never edited: a later one about the same field supersedes the earlier (the
    public sees the latest, the history keeps them all). The conflicting claims stay visible beside it."""

    partnership = models.ForeignKey(
        CLAIM_TARGETS["partnership"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The partnership whose disputed field was resolved.",
    )
    ngo = models.ForeignKey(
        CLAIM_TARGETS["ngo"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The NGO whose disputed field was resolved.",
    )
    police_department = models.ForeignKey(
        CLAIM_TARGETS["police_department"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The police department whose disputed field was resolved.",
    )
    surveillance_practice = models.ForeignKey(
        CLAIM_TARGETS["surveillance_practice"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The surveillance practice whose disputed field was resolved.",
    )
    legal_instrument = models.ForeignKey(
        CLAIM_TARGETS["legal_instrument"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The legal instrument whose disputed field was resolved.",
    )
    oversight_body = models.ForeignKey(
        CLAIM_TARGETS["oversight_body"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The oversight body whose disputed field was resolved.",
    )
    overreach_case = models.ForeignKey(
        CLAIM_TARGETS["overreach_case"],
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispute_resolutions",
        help_text="The overreach case whose disputed field was resolved.",
    )
    field = models.CharField(max_length=64, help_text="Name of the record's field the sources disagreed on.")
    chosen_value = models.CharField(
        max_length=1000, help_text="The value the reviewers chose, as the claims give it (one of the claimed values)."
    )
    chosen_claim = models.ForeignKey(
        Claim,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolutions",
        help_text="A claim giving the chosen value when the dispute was resolved (empty if it was removed since).",
    )
    reason = models.TextField(help_text="Why the reviewers chose this value; shown publicly beside the claims.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text='The reviewer who resolved it; for editors only, the public sees "the reviewers".',
    )
    resolved_at = models.DateTimeField(default=timezone.now, help_text="When the dispute was resolved.")

    objects = DisputeResolutionQuerySet.as_manager()

    class Meta:
        ordering = ["-resolved_at", "-id"]
        constraints = [
            exactly_one_record_check(
                name="provenance_resolution_exactly_one_record",
                message="A dispute resolution is about exactly one record.",
            ),
            models.CheckConstraint(
                condition=~Q(chosen_value=""),
                name="provenance_resolution_value_not_empty",
                violation_error_message="A dispute resolution needs the chosen value.",
            ),
            models.CheckConstraint(
                condition=~Q(reason__regex=r"^\s*$"),
                name="provenance_resolution_reason_not_blank",
                violation_error_message="Say why this value was chosen.",
            ),
            *_resolvable_field_checks(),
        ]
        indexes = [
            models.Index(fields=[target, "field"], name=f"resolution_{target[:12]}_idx") for target in CLAIM_TARGETS
        ]

    def __str__(self) -> str:
        return f"{self.field} = {self.chosen_value}"

    @property
    def target(self) -> str:
        return next((t for t in CLAIM_TARGETS if getattr(self, f"{t}_id") is not None), "")

    @property
    def record(self) -> PublicRecord | None:
        return getattr(self, self.target) if self.target else None


def latest_resolutions(record: models.Model) -> dict[str, DisputeResolution]:
    """Field -> the current (latest) resolution of ``record``; uses prefetched ``dispute_resolutions`` (one
    query otherwise, whatever the number of resolutions)."""
    if not getattr(type(record), "claim_target", "") or record.pk is None:
        return {}
    latest: dict[str, DisputeResolution] = {}
    for resolution in record.dispute_resolutions.all():  # type: ignore[attr-defined]
        current = latest.get(resolution.field)
        if current is None or (resolution.resolved_at, resolution.pk) > (current.resolved_at, current.pk):
            latest[resolution.field] = resolution
    return latest


def resolutions_prefetch(path: str = "dispute_resolutions") -> models.Prefetch:
    """A record's dispute resolutions, newest first (``latest_resolutions`` picks one per field)."""
    return models.Prefetch(path, queryset=DisputeResolution.objects.order_by("-resolved_at", "-id"))
