"""Overreach case studies: documented instances where a service partnership turned into surveillance."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from geography.models import Jurisdiction
from partnerships.models import Partnership, SurveillancePractice
from provenance.models import PublicRecord, Source
from registry.constraints import choices_check, not_blank_check, slug_format_check, year_range_check
from registry.history import track_changes, track_m2m


@track_changes()
class IssueType(models.Model):
    """A kind of harm a case exposed: privacy breach, data misuse, discriminatory practices, ..."""

    slug = models.SlugField(max_length=80, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=120, unique=True, help_text='Name, e.g. "Privacy Breach".')
    description = models.TextField(blank=True, help_text="What counts as this issue.")

    class Meta:
        ordering = ["name"]
        constraints = [slug_format_check("cases_issuetype"), not_blank_check("cases_issuetype", "name")]

    def __str__(self) -> str:
        return self.name


class FinderKind(models.TextChoices):
    AUDIT = "audit", "Audit"
    OVERSIGHT_BODY = "oversight_body", "Oversight body"
    NGO_REPORT = "ngo_report", "NGO report"
    JOURNALISM = "journalism", "Journalism"
    COURT = "court", "Court"
    WHISTLEBLOWER = "whistleblower", "Whistleblower"
    UNKNOWN = "unknown", "Unknown"


@track_changes()
class OverreachCase(PublicRecord):
    """A documented case of surveillance overreach in an NGO-police partnership."""

    claim_target: ClassVar[str] = "overreach_case"

    title = models.CharField(max_length=300, help_text="Short descriptive title of the case.")
    location = models.CharField(max_length=200, help_text='Where it happened, as reported ("London, UK").')
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="overreach_cases", help_text="Jurisdiction it happened in."
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Year the overreach took place.")
    partnerships = models.ManyToManyField(
        Partnership,
        related_name="overreach_cases",
        blank=True,
        help_text="Registry partnerships involved, where they are identified.",
    )
    partnership_type = models.CharField(
        max_length=200, blank=True, help_text='Who partnered, as reported ("NGO & Police").'
    )
    surveillance_methods = models.ManyToManyField(
        SurveillancePractice, related_name="overreach_cases", blank=True, help_text="Surveillance methods used."
    )
    issues = models.ManyToManyField(IssueType, related_name="cases", blank=True, help_text="Issues the case exposed.")
    found_by = models.CharField(
        max_length=300, blank=True, help_text='Who found it ("an audit by an independent oversight body").'
    )
    found_by_kind = models.CharField(
        max_length=16, choices=FinderKind.choices, default=FinderKind.UNKNOWN, help_text="What kind of finder it was."
    )
    summary = models.TextField(blank=True, help_text="What happened.")
    outcome = models.TextField(blank=True, help_text="What followed: reforms, rulings, nothing known.")

    class Meta:
        ordering = ["-year", "title"]
        verbose_name = "overreach case"
        constraints = [
            *PublicRecord.record_constraints("cases_overreachcase"),
            not_blank_check("cases_overreachcase", "title"),
            year_range_check("cases_overreachcase", "year"),
            choices_check("cases_overreachcase", "found_by_kind", FinderKind.values),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.title


@track_changes()
class CaseQuote(models.Model):
    """A quotation about a case, with who said it (as published) and where it was published."""

    case = models.ForeignKey(OverreachCase, on_delete=models.CASCADE, related_name="quotes", help_text="The case.")
    text = models.TextField(help_text="The words quoted.")
    speaker = models.CharField(
        max_length=300, help_text='Who said it, as the source describes them ("an anonymous community member").'
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="quotes", help_text="Where it was published."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the case page.")

    class Meta:
        ordering = ["case", "position", "id"]
        constraints = [
            not_blank_check("cases_casequote", "text"),
            models.UniqueConstraint(
                fields=["case", "text"],
                name="cases_casequote_unique_text",
                violation_error_message="This case already has this quote.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:60]}"


track_m2m(OverreachCase._meta.get_field("sources"))
for _field in ("partnerships", "surveillance_methods", "issues"):
    track_m2m(OverreachCase._meta.get_field(_field))
