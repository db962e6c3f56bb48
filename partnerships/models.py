"""Partnerships between NGOs and police forces, the organisations in them, what they focus on, the
surveillance practices they use, and the accountability checklist (the seed's seven recommendations)
assessed for each partnership. Also the seed's reference tables (objectives, challenges, stakeholders)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q

from geography.models import Country, Jurisdiction, Region
from provenance.models import PublicRecord, PublicRecordQuerySet, Source
from registry.constraints import choices_check, not_blank_check, slug_format_check, year_range_check
from registry.history import track_changes, track_m2m


@track_changes()
class FocusArea(models.Model):
    """What a partnership works on: domestic violence, human trafficking, child protection, ..."""

    slug = models.SlugField(max_length=80, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=120, unique=True, help_text='Name, e.g. "Domestic Violence".')
    description = models.TextField(blank=True, help_text="What falls under this focus area.")

    class Meta:
        ordering = ["name"]
        constraints = [slug_format_check("partnerships_focusarea"), not_blank_check("partnerships_focusarea", "name")]

    def __str__(self) -> str:
        return self.name


class OrganisationBase(PublicRecord):
    """Shared by NGOs and police departments: a named organisation in one jurisdiction."""

    name = models.CharField(max_length=300, help_text="Name of the organisation as it calls itself.")
    aliases = ArrayField(
        models.CharField(max_length=300),
        default=list,
        blank=True,
        help_text="Other names and abbreviations it is known by (e.g. NYPD), one per entry.",
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        help_text="Jurisdiction the organisation is based in or answers to.",
    )
    website = models.URLField(max_length=500, blank=True, help_text="Official website.")
    description = models.TextField(blank=True, help_text="What the organisation does.")

    class Meta:
        abstract = True


@track_changes()
class NGO(OrganisationBase):
    """A non-governmental organisation that partners with police."""

    claim_target: ClassVar[str] = "ngo"

    class Meta:
        ordering = ["name"]
        verbose_name = "NGO"
        verbose_name_plural = "NGOs"
        constraints = [
            *PublicRecord.record_constraints("partnerships_ngo"),
            not_blank_check("partnerships_ngo", "name"),
            models.UniqueConstraint(
                fields=["jurisdiction", "name"],
                name="partnerships_ngo_unique_name",
                violation_error_message="This jurisdiction already has an NGO of this name.",
            ),
        ]
        indexes = [GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="ngo_name_trgm")]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


@track_changes()
class PoliceDepartment(OrganisationBase):
    """A police force or law-enforcement agency."""

    claim_target: ClassVar[str] = "police_department"

    class Meta:
        ordering = ["name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_policedepartment"),
            not_blank_check("partnerships_policedepartment", "name"),
            models.UniqueConstraint(
                fields=["jurisdiction", "name"],
                name="partnerships_policedepartment_unique_name",
                violation_error_message="This jurisdiction already has a police department of this name.",
            ),
        ]
        indexes = [GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="police_name_trgm")]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


@track_changes()
class SurveillancePractice(PublicRecord):
    """A surveillance practice partnerships may use, with how it is implemented and what it risks."""

    claim_target: ClassVar[str] = "surveillance_practice"

    name = models.CharField(max_length=200, unique=True, help_text='Name, e.g. "Predictive Policing".')
    implementation = models.TextField(blank=True, help_text="How the practice is typically implemented.")
    concerns = models.TextField(blank=True, help_text="The privacy and rights concerns it raises.")
    description = models.TextField(blank=True, help_text="Longer description.")

    class Meta:
        ordering = ["name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_surveillancepractice"),
            not_blank_check("partnerships_surveillancepractice", "name"),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


@track_changes()
class AccountabilityMechanism(PublicRecord):
    """One item of the accountability checklist (the seed's seven recommendations)."""

    name = models.CharField(max_length=200, unique=True, help_text='Name, e.g. "Independent oversight".')
    recommendation = models.CharField(
        max_length=300,
        blank=True,
        help_text='The recommendation as worded in the source ("Enforce Independent Oversight").',
    )
    description = models.TextField(blank=True, help_text="What the mechanism is and what evidence of it looks like.")
    expected_outcome = models.TextField(blank=True, help_text="What the mechanism is expected to achieve.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the checklist.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_accountabilitymechanism"),
            not_blank_check("partnerships_accountabilitymechanism", "name"),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


class PartnershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    UNKNOWN = "unknown", "Unknown"


class Formalisation(models.TextChoices):
    MOU = "mou", "Memorandum of understanding"
    CONTRACT = "contract", "Contract"
    TASK_FORCE = "task_force", "Joint task force"
    INFORMAL = "informal", "Informal"
    UNKNOWN = "unknown", "Unknown"


class DataSharing(models.TextChoices):
    NONE = "none", "No data shared"
    REFERRALS = "referrals", "Referrals only"
    CASE_LEVEL = "case_level", "Case-level sharing"
    SHARED_DATABASE = "shared_database", "Shared database"
    REAL_TIME = "real_time", "Real-time access"
    UNKNOWN = "unknown", "Unknown"


# Arrangements under which personal data reaches the police.
SHARES_DATA_WITH_POLICE = [
    DataSharing.CASE_LEVEL,
    DataSharing.SHARED_DATABASE,
    DataSharing.REAL_TIME,
]


class AssessmentStatus(models.TextChoices):
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    UNKNOWN = "unknown", "Unknown"


class PartnershipQuerySet(PublicRecordQuerySet):
    def in_region(self, region: Region | str) -> Self:
        if isinstance(region, str):
            return self.filter(region__slug=region)
        return self.filter(region=region)

    def in_country(self, country: Country | str) -> Self:
        if isinstance(country, str):
            return self.filter(Q(jurisdiction__country__slug=country) | Q(jurisdiction__country__code=country.upper()))
        return self.filter(jurisdiction__country=country)

    def in_jurisdiction(self, jurisdiction: Jurisdiction, *, below: bool = True) -> Self:
        """Partnerships in the jurisdiction, and by default in any jurisdiction below it."""
        if not below:
            return self.filter(jurisdiction=jurisdiction)
        return self.filter(jurisdiction__in=Jurisdiction.objects.descendants_of(jurisdiction))

    def with_focus(self, focus_area: FocusArea | str) -> Self:
        if isinstance(focus_area, str):
            return self.filter(focus_areas__slug=focus_area)
        return self.filter(focus_areas=focus_area)

    def established_between(self, start: int | None = None, end: int | None = None) -> Self:
        qs = self
        if start is not None:
            qs = qs.filter(year_established__gte=start)
        if end is not None:
            qs = qs.filter(year_established__lte=end)
        return qs

    def sharing_data_with_police(self) -> Self:
        return self.filter(data_sharing__in=SHARES_DATA_WITH_POLICE)

    def using_practice(self, practice: SurveillancePractice | str) -> Self:
        if isinstance(practice, str):
            return self.filter(surveillance_practices__slug=practice)
        return self.filter(surveillance_practices=practice)

    def with_mechanism(self, mechanism: AccountabilityMechanism | str, status: str) -> Self:
        """Partnerships whose assessment of ``mechanism`` is ``status`` (present, absent or unknown)."""
        key = "mechanism__slug" if isinstance(mechanism, str) else "mechanism"
        if status == AssessmentStatus.UNKNOWN:
            # No assessment at all counts as unknown too.
            return self.exclude(
                Exists(
                    MechanismAssessment.objects.filter(
                        partnership=OuterRef("pk"),
                        status__in=[AssessmentStatus.PRESENT, AssessmentStatus.ABSENT],
                        **{key: mechanism},
                    )
                )
            )
        return self.filter(
            Exists(MechanismAssessment.objects.filter(partnership=OuterRef("pk"), status=status, **{key: mechanism}))
        )

    def lacking(self, mechanism: AccountabilityMechanism | str) -> Self:
        """Partnerships with no evidence that ``mechanism`` is present (absent or unknown)."""
        key = "mechanism__slug" if isinstance(mechanism, str) else "mechanism"
        return self.exclude(
            Exists(
                MechanismAssessment.objects.filter(
                    partnership=OuterRef("pk"), status=AssessmentStatus.PRESENT, **{key: mechanism}
                )
            )
        )

    def with_related(self) -> Self:
        """Everything a list or record page shows, in a fixed number of queries."""
        return (
            self.defer("search_vector")  # derived, only ever used inside SQL
            .select_related("region", "jurisdiction", "jurisdiction__country")
            .prefetch_related("ngos", "police_departments", "focus_areas", "surveillance_practices")
        )

    def with_checklist(self) -> Self:
        return self.prefetch_related(
            models.Prefetch(
                "assessments",
                queryset=MechanismAssessment.objects.select_related("mechanism", "evidence").order_by(
                    "mechanism__position"
                ),
            )
        )


# The stored search vector of a partnership, computed by the database on every insert and update (a trigger
# may call unaccent(), which an index expression or generated column may not). Only the partnership's own text
# is in it: the names of its NGOs and police departments live in other tables and are matched at query time
# (partnerships/search.py), so renaming or unpublishing an organisation needs no cascade of vector updates.
PARTNERSHIP_SEARCH_VECTOR_SQL = (
    "NEW.search_vector := "
    "setweight(to_tsvector('english', registry_unaccent(coalesce(NEW.name, ''))), 'A') || "
    "setweight(to_tsvector('english', registry_unaccent(concat_ws(' ', NEW.focus_summary, NEW.primary_objective, "
    "NEW.description))), 'B'); "
    "RETURN NEW;"
)


@track_changes(exclude=["search_vector"])  # derived data: no history rows, no update events of its own
class Partnership(PublicRecord):
    """A partnership between one or more NGOs and one or more police departments."""

    claim_target: ClassVar[str] = "partnership"

    name = models.CharField(max_length=300, help_text='Short name, e.g. "Safe Horizon & NYPD".')
    ngos = models.ManyToManyField(
        NGO, related_name="partnerships", blank=True, verbose_name="NGOs", help_text="NGOs taking part."
    )
    police_departments = models.ManyToManyField(
        PoliceDepartment, related_name="partnerships", blank=True, help_text="Police departments taking part."
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="partnerships", help_text="Continent-level region."
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="partnerships",
        help_text="Jurisdiction the partnership operates in; its applicable law is derived from it.",
    )
    focus_areas = models.ManyToManyField(
        FocusArea, related_name="partnerships", blank=True, help_text="What the partnership works on."
    )
    focus_summary = models.CharField(
        max_length=300, blank=True, help_text='Focus in the source\'s words, e.g. "Domestic violence victim support".'
    )
    primary_objective = models.TextField(blank=True, help_text="The partnership's primary objective.")
    description = models.TextField(blank=True, help_text="What the partnership does, in a few sentences.")
    year_established = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Year the partnership began (the editor's chosen value where sources disagree; see claims).",
    )
    year_ended = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Year the partnership ended, if it did."
    )
    status = models.CharField(
        max_length=16,
        choices=PartnershipStatus.choices,
        default=PartnershipStatus.UNKNOWN,
        help_text="Whether the partnership is still running.",
    )
    formalisation = models.CharField(
        max_length=16,
        choices=Formalisation.choices,
        default=Formalisation.UNKNOWN,
        help_text="How the partnership is formalised (MOU, contract, task force, informal).",
    )
    data_sharing = models.CharField(
        max_length=16,
        choices=DataSharing.choices,
        default=DataSharing.UNKNOWN,
        help_text="What data flows between the partners, from none to real-time police access.",
    )
    surveillance_practices = models.ManyToManyField(
        SurveillancePractice,
        related_name="partnerships",
        blank=True,
        help_text="Surveillance practices the partnership uses.",
    )
    search_vector = SearchVectorField(
        null=True,
        editable=False,
        help_text="Full-text search vector of the name (weight A) and the focus, objective and description "
        "(weight B), accents removed; kept up to date by a database trigger.",
    )

    objects = PartnershipQuerySet.as_manager()  # type: ignore[misc]  # narrows the base's manager

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_partnership"),
            not_blank_check("partnerships_partnership", "name"),
            year_range_check("partnerships_partnership", "year_established"),
            year_range_check("partnerships_partnership", "year_ended"),
            models.CheckConstraint(
                condition=Q(year_ended__isnull=True)
                | Q(year_established__isnull=True)
                | Q(year_ended__gte=F("year_established")),
                name="partnerships_partnership_ended_after_established",
                violation_error_message="A partnership cannot end before it was established.",
            ),
            models.CheckConstraint(
                condition=Q(year_ended__isnull=True) | Q(status=PartnershipStatus.ENDED),
                name="partnerships_partnership_end_year_only_if_ended",
                violation_error_message="Only an ended partnership can have an end year.",
            ),
            choices_check("partnerships_partnership", "status", PartnershipStatus.values),
            choices_check("partnerships_partnership", "formalisation", Formalisation.values),
            choices_check("partnerships_partnership", "data_sharing", DataSharing.values),
        ]
        indexes = [
            models.Index(fields=["year_established"], name="partnership_year_idx"),
            models.Index(fields=["data_sharing"], name="partnership_sharing_idx"),
            models.Index(fields=["verification_status"], name="partnership_verif_idx"),
            models.Index(fields=["updated_at"], name="partnership_updated_idx"),
            models.Index(fields=["name", "id"], name="partnership_name_idx"),
            # Counting and grouping the published partnerships (page counts, facets, home figures) reads this
            # small index instead of the wide rows (an index-only scan).
            models.Index(fields=["region", "id"], condition=Q(is_published=True), name="partnership_public_region_idx"),
            # Editors and readers search names by fragments ("horizon"): trigram index for icontains.
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="partnership_name_trgm"),
            # Full-text search (?q=) on the stored vector, and near-miss names with accents ignored.
            GinIndex(fields=["search_vector"], name="partnership_search_idx"),
            GinIndex(
                OpClass(Func(F("name"), function="registry_unaccent", output_field=models.TextField()), "gin_trgm_ops"),
                name="partnership_name_unaccent_trgm",
            ),
        ]
        triggers = [
            *PublicRecord.record_triggers(),
            pgtrigger.Trigger(
                name="search_vector_refresh",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=PARTNERSHIP_SEARCH_VECTOR_SQL,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def checklist(self, mechanisms: list[AccountabilityMechanism]) -> list[ChecklistItem]:
        """Every mechanism of the accountability checklist, in order, as assessed for this partnership (unknown
        when never assessed). Uses the assessments prefetched by ``with_checklist()``."""
        assessed = {assessment.mechanism_id: assessment for assessment in self.assessments.all()}
        return [ChecklistItem(mechanism, assessed.get(mechanism.pk)) for mechanism in mechanisms]

    def applicable_law(self, on: Any = None) -> models.QuerySet[Any]:
        """Legal instruments in force on ``on`` (default today) in this jurisdiction or any above it."""
        from legal.models import LegalInstrument

        return LegalInstrument.objects.public().applicable_to(self.jurisdiction, on=on)


@dataclass(frozen=True)
class ChecklistItem:
    """One accountability mechanism as assessed for one partnership."""

    mechanism: AccountabilityMechanism
    assessment: MechanismAssessment | None

    @property
    def status(self) -> str:
        return self.assessment.status if self.assessment else AssessmentStatus.UNKNOWN.value

    @property
    def status_label(self) -> str:
        return str(AssessmentStatus(self.status).label)

    @property
    def evidence(self) -> Source | None:
        return self.assessment.evidence if self.assessment else None

    @property
    def note(self) -> str:
        return self.assessment.note if self.assessment else ""


@track_changes()
class MechanismAssessment(models.Model):
    """Whether a partnership has one accountability mechanism: present, absent or unknown, with evidence."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="assessments", help_text="The partnership assessed."
    )
    mechanism = models.ForeignKey(
        AccountabilityMechanism,
        on_delete=models.PROTECT,
        related_name="assessments",
        help_text="The checklist item assessed.",
    )
    status = models.CharField(
        max_length=8,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.UNKNOWN,
        help_text="Present or absent need evidence; unknown means no source says either way.",
    )
    evidence = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
        help_text="The source showing the mechanism is present or absent.",
    )
    note = models.TextField(blank=True, help_text="What the evidence says, briefly.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the assessment last changed.")

    class Meta:
        ordering = ["mechanism__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "mechanism"],
                name="partnerships_assessment_one_per_mechanism",
                violation_error_message="This partnership already has an assessment of this mechanism.",
            ),
            choices_check("partnerships_mechanismassessment", "status", AssessmentStatus.values),
            models.CheckConstraint(
                condition=Q(status=AssessmentStatus.UNKNOWN) | Q(evidence__isnull=False),
                name="partnerships_assessment_evidence_required",
                violation_error_message=(
                    "Saying a mechanism is present or absent needs an evidence source; otherwise choose unknown."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mechanism}: {self.get_status_display()}"


@track_changes()
class Objective(PublicRecord):
    """Reference table: an objective of NGO-police partnerships and its intended benefit."""

    name = models.CharField(max_length=200, unique=True, help_text='The objective, e.g. "Enhance Community Trust".')
    intended_benefit = models.TextField(help_text="The benefit the objective is meant to bring.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the table.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_objective"),
            not_blank_check("partnerships_objective", "name"),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


@track_changes()
class Challenge(PublicRecord):
    """Reference table: a challenge to accountability and its potential solutions."""

    name = models.CharField(max_length=200, unique=True, help_text="The challenge.")
    potential_solutions = models.TextField(help_text="Solutions proposed for it.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the table.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_challenge"),
            not_blank_check("partnerships_challenge", "name"),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


@track_changes()
class StakeholderGroup(PublicRecord):
    """Reference table: a stakeholder group, its key concerns and the actions it suggests."""

    name = models.CharField(max_length=200, unique=True, help_text='The group, e.g. "Communities".')
    key_concerns = models.TextField(help_text="What the group is worried about.")
    suggested_actions = models.TextField(help_text="What the group asks for.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the table.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            *PublicRecord.record_constraints("partnerships_stakeholdergroup"),
            not_blank_check("partnerships_stakeholdergroup", "name"),
        ]
        triggers = PublicRecord.record_triggers()

    def __str__(self) -> str:
        return self.name


for _model in (
    NGO,
    PoliceDepartment,
    SurveillancePractice,
    AccountabilityMechanism,
    Partnership,
    Objective,
    Challenge,
    StakeholderGroup,
):
    track_m2m(_model._meta.get_field("sources"))
for _field in ("ngos", "police_departments", "focus_areas", "surveillance_practices"):
    track_m2m(Partnership._meta.get_field(_field))
