"""Law by jurisdiction: legal instruments (statutes, regulations, reports, guidance) and the bodies that
oversee them. A partnership's applicable law is derived from its jurisdiction's chain and the dates."""

from __future__ import annotations

import datetime
from typing import ClassVar, Self

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from geography.models import Jurisdiction
from provenance.models import PublicRecord, PublicRecordQuerySet
from registry.constraints import choices_check, not_blank_check, slug_format_check, year_range_check
from registry.history import track_changes, track_m2m


@track_changes()
class LegalTopic(models.Model):
    """What an instrument covers: data protection, consent, surveillance oversight, ..."""

    slug = models.SlugField(max_length=80, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=120, unique=True, help_text='Name, e.g. "Data Protection".')
    description = models.TextField(blank=True, help_text="What falls under this topic.")

    class Meta:
        ordering = ["name"]
        constraints = [slug_format_check("legal_legaltopic"), not_blank_check("legal_legaltopic", "name")]

    def __str__(self) -> str:
        return self.name


class InstrumentKind(models.TextChoices):
    TREATY = "treaty", "Treaty or convention"
    REGULATION = "regulation", "Regulation"
    DIRECTIVE = "directive", "Directive"
    STATUTE = "statute", "Statute (act of a legislature)"
    BILL = "bill", "Bill (not enacted)"
    REPORT = "report", "Report"
    GUIDANCE = "guidance", "Guidance"


class LegalInstrumentQuerySet(PublicRecordQuerySet):
    def in_force_on(self, on: datetime.date | None = None) -> Self:
        """In force on the date: started on or before it (or, lacking a start date, adopted by that year)
        and not ended before it. Instruments of no date at all are kept: the registry cannot rule them out."""
        day = on or timezone.localdate()
        started = Q(in_force_from__lte=day) | (
            Q(in_force_from__isnull=True) & (Q(year__isnull=True) | Q(year__lte=day.year))
        )
        not_ended = Q(in_force_to__isnull=True) | Q(in_force_to__gte=day)
        return self.filter(started & not_ended)

    def in_jurisdiction_chain(self, jurisdiction: Jurisdiction) -> Self:
        return self.filter(jurisdiction__in=Jurisdiction.objects.ancestors_of(jurisdiction))

    def applicable_to(self, jurisdiction: Jurisdiction, *, on: datetime.date | None = None) -> Self:
        """Instruments in force on ``on`` in the jurisdiction or any jurisdiction above it."""
        return self.in_jurisdiction_chain(jurisdiction).in_force_on(on).select_related("jurisdiction")


@track_changes()
class LegalInstrument(PublicRecord):
    """A law, regulation, report or guidance that governs NGO-police partnerships in a jurisdiction."""

    claim_target: ClassVar[str] = "legal_instrument"

    short_name = models.CharField(max_length=80, help_text='Common short name, e.g. "GDPR".')
    title = models.CharField(max_length=400, help_text="Full official title.")
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="instruments",
        help_text="Jurisdiction the instrument applies in.",
    )
    kind = models.CharField(max_length=16, choices=InstrumentKind.choices, help_text="What sort of instrument it is.")
    year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Year adopted, enacted or published.")
    in_force_from = models.DateField(null=True, blank=True, help_text="Date it took effect (or applies from).")
    in_force_to = models.DateField(null=True, blank=True, help_text="Date it ceased to have effect, if it has.")
    topics = models.ManyToManyField(
        LegalTopic, related_name="instruments", blank=True, help_text="What the instrument covers."
    )
    summary = models.TextField(blank=True, help_text="What the instrument requires, in plain words.")
    official_url = models.URLField(max_length=1000, blank=True, help_text="Link to the official text.")

    objects = LegalInstrumentQuerySet.as_manager()  # type: ignore[misc]  # narrows the base's manager

    class Meta:
        ordering = ["jurisdiction__name", "short_name"]
        constraints = [
            *PublicRecord.record_constraints("legal_legalinstrument"),
            not_blank_check("legal_legalinstrument", "short_name"),
            not_blank_check("legal_legalinstrument", "title"),
            choices_check("legal_legalinstrument", "kind", InstrumentKind.values),
            year_range_check("legal_legalinstrument", "year"),
            models.CheckConstraint(
                condition=Q(in_force_from__isnull=True)
                | Q(in_force_to__isnull=True)
                | Q(in_force_from__lte=F("in_force_to")),
                name="legal_legalinstrument_in_force_dates_ordered",
                violation_error_message="The instrument cannot stop being in force before it starts.",
            ),
            models.UniqueConstraint(
                fields=["jurisdiction", "short_name"],
                name="legal_legalinstrument_unique_short_name",
                violation_error_message="This jurisdiction already has an instrument with this short name.",
            ),
        ]
        indexes = [models.Index(fields=["in_force_from", "in_force_to"], name="instrument_in_force_idx")]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.short_name


class OversightKind(models.TextChoices):
    COMMISSIONER = "commissioner", "Statutory commissioner or regulator"
    UN_MANDATE = "un_mandate", "UN special procedure"
    COURT = "court", "Court or tribunal"
    COMMUNITY_COUNCIL = "community_council", "Community advisory council"
    OTHER = "other", "Other"


@track_changes()
class OversightBody(PublicRecord):
    """A body that oversees surveillance or data use: a commissioner, a UN rapporteur, a community council."""

    claim_target: ClassVar[str] = "oversight_body"

    name = models.CharField(max_length=300, help_text="Name of the body.")
    kind = models.CharField(
        max_length=20, choices=OversightKind.choices, default=OversightKind.OTHER, help_text="What sort of body it is."
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="oversight_bodies",
        help_text="Jurisdiction the body oversees.",
    )
    powers = models.TextField(blank=True, help_text="What the body may do: review, inspect, order, recommend.")
    instruments = models.ManyToManyField(
        LegalInstrument, related_name="oversight_bodies", blank=True, help_text="Instruments the body oversees."
    )
    website = models.URLField(max_length=500, blank=True, help_text="Official website.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "oversight bodies"
        constraints = [
            *PublicRecord.record_constraints("legal_oversightbody"),
            not_blank_check("legal_oversightbody", "name"),
            choices_check("legal_oversightbody", "kind", OversightKind.values),
            models.UniqueConstraint(
                fields=["jurisdiction", "name"],
                name="legal_oversightbody_unique_name",
                violation_error_message="This jurisdiction already has an oversight body of this name.",
            ),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


for _model in (LegalInstrument, OversightBody):
    track_m2m(_model._meta.get_field("sources"))
track_m2m(LegalInstrument._meta.get_field("topics"))
track_m2m(OversightBody._meta.get_field("instruments"))
