"""factory_boy factories for every model. Tests build their data here; fixtures/ holds only shipped data."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory
from rest_framework.authtoken.models import TokenProxy

from cases.models import CaseQuote, IssueType, OverreachCase
from geography.models import Country, Jurisdiction, JurisdictionLevel, Region
from inquiries.models import InformationRequest, Requester, RequestKind
from inquiries.records import RecordKind
from legal.models import InstrumentKind, LegalInstrument, LegalTopic, OversightBody
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    AssessmentStatus,
    Challenge,
    FocusArea,
    MechanismAssessment,
    Objective,
    Partnership,
    PoliceDepartment,
    StakeholderGroup,
    SurveillancePractice,
)
from provenance.models import Claim, DisputeResolution, Source, SourceKind, SourceTier

COUNTRY_CODES = ["GB", "US", "IN", "ZA", "AU", "FR", "DE", "KE", "BR", "CA", "NL", "ES", "IT", "JP", "MX"]
DEFAULT_COUNTRY_CODES = [code for code in COUNTRY_CODES if code not in {"GB", "US", "FR"}]


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"editor{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@registry.test")
    password = factory.django.Password("a-long-test-password-1234")


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"Region {n}")
    slug = factory.Sequence(lambda n: f"region-{n}")


class CountryFactory(DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    # Never one of the countries tests name (GB, US, FR): a record made without a country must not land in theirs.
    code = factory.Sequence(lambda n: DEFAULT_COUNTRY_CODES[n % len(DEFAULT_COUNTRY_CODES)])
    name = factory.LazyAttribute(lambda c: f"Country {c.code}")
    slug = factory.LazyAttribute(lambda c: f"country-{c.code.lower()}")
    region = factory.SubFactory(RegionFactory)


class JurisdictionFactory(DjangoModelFactory):
    """A national jurisdiction under a fresh international root, unless told otherwise."""

    class Meta:
        model = Jurisdiction

    name = factory.Sequence(lambda n: f"Jurisdiction {n}")
    slug = factory.Sequence(lambda n: f"jurisdiction-{n}")
    level = JurisdictionLevel.NATIONAL
    parent = factory.LazyFunction(
        lambda: Jurisdiction.objects.get_or_create(
            slug="international", defaults={"name": "International", "level": JurisdictionLevel.INTERNATIONAL}
        )[0]
    )
    country = factory.SubFactory(CountryFactory)


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = Source

    slug = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Report number {n}")
    publisher = factory.Sequence(lambda n: f"Publisher {n}")
    url = factory.Sequence(lambda n: f"https://example.org/report/{n}")
    kind = SourceKind.NEWS
    tier = SourceTier.SECONDARY


class FocusAreaFactory(DjangoModelFactory):
    class Meta:
        model = FocusArea

    name = factory.Sequence(lambda n: f"Focus area {n}")
    slug = factory.Sequence(lambda n: f"focus-area-{n}")


class PublicRecordFactory(DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    is_published = True

    @factory.post_generation
    def sources(self, create: bool, extracted: list[Source] | None, **kwargs: object) -> None:
        if create:
            self.sources.set(extracted if extracted is not None else [SourceFactory()])


class NGOFactory(PublicRecordFactory):
    class Meta:
        model = NGO

    name = factory.Sequence(lambda n: f"NGO {n}")
    slug = factory.Sequence(lambda n: f"ngo-{n}")
    jurisdiction = factory.SubFactory(JurisdictionFactory)


class PoliceDepartmentFactory(PublicRecordFactory):
    class Meta:
        model = PoliceDepartment

    name = factory.Sequence(lambda n: f"Police department {n}")
    slug = factory.Sequence(lambda n: f"police-department-{n}")
    jurisdiction = factory.SubFactory(JurisdictionFactory)


class SurveillancePracticeFactory(PublicRecordFactory):
    class Meta:
        model = SurveillancePractice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    implementation = "Data analytics"
    concerns = "Risk of bias"


class AccountabilityMechanismFactory(PublicRecordFactory):
    class Meta:
        model = AccountabilityMechanism

    name = factory.Sequence(lambda n: f"Mechanism {n}")
    slug = factory.Sequence(lambda n: f"mechanism-{n}")
    position = factory.Sequence(lambda n: n)
    expected_outcome = "Better accountability"


class PartnershipFactory(PublicRecordFactory):
    class Meta:
        model = Partnership

    name = factory.Sequence(lambda n: f"Partnership {n}")
    slug = factory.Sequence(lambda n: f"partnership-{n}")
    region = factory.SubFactory(RegionFactory)
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    year_established = 2015

    @factory.post_generation
    def ngos(self, create: bool, extracted: list[NGO] | None, **kwargs: object) -> None:
        if create:
            self.ngos.set(extracted if extracted is not None else [NGOFactory(jurisdiction=self.jurisdiction)])

    @factory.post_generation
    def police_departments(self, create: bool, extracted: list[PoliceDepartment] | None, **kwargs: object) -> None:
        if create:
            self.police_departments.set(
                extracted if extracted is not None else [PoliceDepartmentFactory(jurisdiction=self.jurisdiction)]
            )

    @factory.post_generation
    def focus_areas(self, create: bool, extracted: list[FocusArea] | None, **kwargs: object) -> None:
        if create and extracted:
            self.focus_areas.set(extracted)


class MechanismAssessmentFactory(DjangoModelFactory):
    class Meta:
        model = MechanismAssessment

    partnership = factory.SubFactory(PartnershipFactory)
    mechanism = factory.SubFactory(AccountabilityMechanismFactory)
    status = AssessmentStatus.PRESENT
    evidence = factory.SubFactory(SourceFactory)


class ClaimFactory(DjangoModelFactory):
    class Meta:
        model = Claim

    partnership = factory.SubFactory(PartnershipFactory)
    field = "year_established"
    value = "2015"
    source = factory.SubFactory(SourceFactory)


class LegalTopicFactory(DjangoModelFactory):
    class Meta:
        model = LegalTopic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class LegalInstrumentFactory(PublicRecordFactory):
    class Meta:
        model = LegalInstrument

    short_name = factory.Sequence(lambda n: f"ACT{n}")
    title = factory.Sequence(lambda n: f"Data Protection Act {n}")
    slug = factory.Sequence(lambda n: f"act-{n}")
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    kind = InstrumentKind.STATUTE
    year = 2018


class OversightBodyFactory(PublicRecordFactory):
    class Meta:
        model = OversightBody

    name = factory.Sequence(lambda n: f"Commissioner {n}")
    slug = factory.Sequence(lambda n: f"commissioner-{n}")
    jurisdiction = factory.SubFactory(JurisdictionFactory)


class IssueTypeFactory(DjangoModelFactory):
    class Meta:
        model = IssueType

    name = factory.Sequence(lambda n: f"Issue {n}")
    slug = factory.Sequence(lambda n: f"issue-{n}")


class OverreachCaseFactory(PublicRecordFactory):
    class Meta:
        model = OverreachCase

    title = factory.Sequence(lambda n: f"Case {n}")
    slug = factory.Sequence(lambda n: f"case-{n}")
    location = "London, UK"
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    year = 2021


class CaseQuoteFactory(DjangoModelFactory):
    class Meta:
        model = CaseQuote

    case = factory.SubFactory(OverreachCaseFactory)
    text = factory.Sequence(lambda n: f"Quote {n}")
    speaker = "An anonymous community member"
    source = factory.SubFactory(SourceFactory)


class ObjectiveFactory(PublicRecordFactory):
    class Meta:
        model = Objective

    name = factory.Sequence(lambda n: f"Objective {n}")
    slug = factory.Sequence(lambda n: f"objective-{n}")
    intended_benefit = "A benefit"


class ChallengeFactory(PublicRecordFactory):
    class Meta:
        model = Challenge

    name = factory.Sequence(lambda n: f"Challenge {n}")
    slug = factory.Sequence(lambda n: f"challenge-{n}")
    potential_solutions = "A solution"


class StakeholderGroupFactory(PublicRecordFactory):
    class Meta:
        model = StakeholderGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    key_concerns = "A concern"
    suggested_actions = "An action"


class TokenFactory(DjangoModelFactory):
    """An editor's API token (DRF's token admin shows the TokenProxy model)."""

    class Meta:
        model = TokenProxy

    user = factory.SubFactory(UserFactory)


# --- Dispute resolutions (provenance.DisputeResolution; tests/test_disputes.py) ------------------------------


class DisputeResolutionFactory(DjangoModelFactory):
    """A stored resolution, written directly (tests of the resolution's own workflow go through
    provenance.services.dispute_resolve)."""

    class Meta:
        model = DisputeResolution

    partnership = factory.SubFactory(PartnershipFactory)
    field = "year_established"
    chosen_value = "2015"
    reason = factory.Sequence(lambda n: f"Reason {n}: the primary source gives this year.")
    resolved_by = factory.SubFactory(UserFactory, is_staff=True)


# --- Information requests (inquiries/; tests/test_inquiries.py) ----------------------------------------------


class RequesterFactory(DjangoModelFactory):
    """A requester's contact details (never shown publicly)."""

    class Meta:
        model = Requester

    name = factory.Sequence(lambda n: f"Requester {n}")
    email = factory.Sequence(lambda n: f"requester{n}@example.org")


class InformationRequestFactory(DjangoModelFactory):
    """A question about a published partnership, from a requester who left contact details."""

    class Meta:
        model = InformationRequest

    kind = RequestKind.QUESTION
    record_kind = RecordKind.PARTNERSHIP
    record_id = factory.LazyFunction(lambda: PartnershipFactory(is_published=True).pk)
    subject = factory.Sequence(lambda n: f"Question {n}")
    message = "When did this partnership begin?"
    requester = factory.SubFactory(RequesterFactory)


# --- Bulk imports (imports/) ---------------------------------------------------------------------------


class ImportBatchFactory(DjangoModelFactory):
    """A dry run of a small partnership CSV, as the admin's upload records it."""

    class Meta:
        model = "imports.ImportBatch"

    model = "partnership"
    filename = factory.Sequence(lambda n: f"partnerships-{n}.csv")
    format = "csv"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size = 120
    dry_run = True
    rows_total = 2
    rows_created = 1
    rows_unchanged = 1
