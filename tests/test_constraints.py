"""The database itself refuses bad data: every CheckConstraint and UniqueConstraint is broken here through
``QuerySet.update()`` (which skips every form and model validation) and must raise IntegrityError. A published
record's slug cannot change, and the editor's form path (full_clean) reports constraints as validation errors."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import psycopg.errors
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, ProgrammingError, models, transaction
from django.db.models import F
from django.utils import timezone
from factory.django import DjangoModelFactory

from imports.models import ImportStatus
from inquiries.models import RequestKind, RequestStatus
from inquiries.records import RecordKind
from partnerships.models import AccountabilityMechanism, AssessmentStatus, Partnership, PartnershipStatus
from provenance.models import (
    CLAIMABLE_FIELDS,
    MANY_TO_MANY_CLAIMABLE,
    RESOLVABLE_FIELDS,
    Claim,
    DisputeResolution,
    PublicRecord,
    SourceKind,
    SourceTier,
)
from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("provenance", "geography", "partnerships", "legal", "cases", "accounts", "imports", "inquiries")
NEXT_YEAR = timezone.now().year + 1
RECEIVED = datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.UTC)
CLOSED = RECEIVED + datetime.timedelta(days=2)
BAD_SLUGS = [{"slug": "Not a slug"}, {"slug": "double--hyphen"}, {"slug": "-leading"}, {"slug": "ünïcode"}]

Setup = Callable[[], models.Model]
Factory = type[DjangoModelFactory[Any]]
# Keyword arguments for ``update()``; a callable value is called after setup (e.g. a factory building a row).
Update = dict[str, Any]

# Targets a claim can point at, with a factory for each.
CLAIM_TARGET_FACTORIES: dict[str, Factory] = {
    "partnership": factories.PartnershipFactory,
    "ngo": factories.NGOFactory,
    "police_department": factories.PoliceDepartmentFactory,
    "surveillance_practice": factories.SurveillancePracticeFactory,
    "legal_instrument": factories.LegalInstrumentFactory,
    "oversight_body": factories.OversightBodyFactory,
    "overreach_case": factories.OverreachCaseFactory,
}


def draft(factory: Factory, **kwargs: Any) -> Setup:
    """An unpublished record (a published one's slug is protected by a trigger, tested on its own below)."""
    return lambda: factory.create(is_published=False, **kwargs)


def made(factory: Factory, **kwargs: Any) -> Setup:
    return lambda: factory.create(**kwargs)


def claim_on(target: str, record: models.Model | None = None, **kwargs: Any) -> Claim:
    """A valid claim about ``record`` (by default a fresh draft record of type ``target``)."""
    record = record or CLAIM_TARGET_FACTORIES[target].create(is_published=False)
    values = {"partnership": None, target: record, "field": CLAIMABLE_FIELDS[target][0], "value": "A"} | kwargs
    return factories.ClaimFactory.create(**values)


def a_claim_on(target: str) -> Setup:
    return lambda: claim_on(target)


def claim_twin(target: str) -> Setup:
    """A second claim on the same record, field and source as a first one (value "A"), with value "B"."""

    def setup() -> Claim:
        first = claim_on(target)
        return claim_on(target, getattr(first, target), source=first.source, value="B")

    return setup


def a_field_not_claimable_for(target: str) -> str:
    every_field = {field for fields in CLAIMABLE_FIELDS.values() for field in fields}
    return sorted(every_field - set(CLAIMABLE_FIELDS[target]))[0]


def resolution_on(target: str) -> DisputeResolution:
    """A valid dispute resolution about a fresh draft record of type ``target``."""
    record = CLAIM_TARGET_FACTORIES[target].create(is_published=False)
    values = {"partnership": None, target: record, "field": RESOLVABLE_FIELDS[target][0], "chosen_value": "A"}
    return factories.DisputeResolutionFactory.create(**values)


def a_resolution_on(target: str) -> Setup:
    return lambda: resolution_on(target)


def fields_not_resolvable_for(target: str) -> list[str]:
    """Another record type's field, and (if the record has any) a many-to-many field, which is claimable but not
    resolvable: a dispute over a set of links is settled by editing the links."""
    every_field = {field for fields in RESOLVABLE_FIELDS.values() for field in fields}
    other_records_field = sorted(every_field - set(RESOLVABLE_FIELDS[target]))[0]
    return [other_records_field, *sorted(MANY_TO_MANY_CLAIMABLE.get(target, ()))[:1]]


def twin(factory: Factory, shared: str, **first: Any) -> Setup:
    """Two valid rows sharing ``shared`` (e.g. the same jurisdiction); returns the second one."""

    def setup() -> models.Model:
        original = factory.create(**first)
        return factory.create(**{shared: getattr(original, shared)})

    return setup


def assessment_twin() -> models.Model:
    first = factories.MechanismAssessmentFactory.create(mechanism__slug="taken")
    return factories.MechanismAssessmentFactory.create(partnership=first.partnership)


# Every declared constraint, with how to make a valid row and one or more updates that break it.
VIOLATIONS: dict[str, tuple[Setup, list[Update]]] = {
    # --- provenance.Source
    "provenance_source_slug_format": (made(factories.SourceFactory), BAD_SLUGS),
    "provenance_source_kind_valid": (made(factories.SourceFactory), [{"kind": "blog"}, {"kind": ""}]),
    "provenance_source_tier_valid": (made(factories.SourceFactory), [{"tier": "tertiary"}]),
    "provenance_source_primary_document_is_primary": (
        made(factories.SourceFactory, tier=SourceTier.SECONDARY),
        [{"kind": SourceKind.PRIMARY_DOCUMENT}],
    ),
    "provenance_source_title_not_empty": (made(factories.SourceFactory), [{"title": ""}]),
    "provenance_source_published_before_accessed": (
        made(factories.SourceFactory, published_on=datetime.date(2020, 1, 2)),
        [{"accessed_on": datetime.date(2020, 1, 1)}],
    ),
    # --- provenance.Claim
    "provenance_claim_exactly_one_record": (
        made(factories.ClaimFactory),
        [{"partnership": None}, {"ngo": lambda: factories.NGOFactory.create(is_published=False)}],
    ),
    "provenance_claim_value_not_empty": (made(factories.ClaimFactory), [{"value": ""}]),
    **{
        f"provenance_claim_{target}_field_valid": (
            a_claim_on(target),
            [{"field": a_field_not_claimable_for(target)}, {"field": "no_such_field"}],
        )
        for target in CLAIM_TARGET_FACTORIES
    },
    **{
        f"provenance_claim_unique_per_{target}": (claim_twin(target), [{"value": "A"}])
        for target in CLAIM_TARGET_FACTORIES
    },
    # --- provenance.DisputeResolution
    "provenance_resolution_exactly_one_record": (
        # "name" is a resolvable field of both a partnership and an NGO: only the record count is wrong.
        made(factories.DisputeResolutionFactory, field="name"),
        [{"partnership": None}, {"ngo": lambda: factories.NGOFactory.create(is_published=False)}],
    ),
    "provenance_resolution_value_not_empty": (made(factories.DisputeResolutionFactory), [{"chosen_value": ""}]),
    "provenance_resolution_reason_not_blank": (
        made(factories.DisputeResolutionFactory),
        [{"reason": ""}, {"reason": "   "}, {"reason": "\n\t"}],
    ),
    **{
        f"provenance_resolution_{target}_field_valid": (
            a_resolution_on(target),
            [{"field": field} for field in [*fields_not_resolvable_for(target), "no_such_field"]],
        )
        for target in CLAIM_TARGET_FACTORIES
    },
    # --- geography
    "geography_region_slug_format": (made(factories.RegionFactory), BAD_SLUGS),
    "geography_region_name_not_blank": (made(factories.RegionFactory), [{"name": ""}]),
    "geography_country_slug_format": (made(factories.CountryFactory, code="FR"), BAD_SLUGS),
    "geography_country_code_iso": (
        made(factories.CountryFactory, code="FR"),
        [{"code": "fr"}, {"code": "F1"}, {"code": "F"}],
    ),
    "geography_jurisdiction_slug_format": (made(factories.JurisdictionFactory), BAD_SLUGS),
    "geography_jurisdiction_name_not_blank": (made(factories.JurisdictionFactory), [{"name": ""}]),
    "geography_jurisdiction_level_valid": (made(factories.JurisdictionFactory), [{"level": "planet"}]),
    "geography_jurisdiction_unique_name_per_parent": (
        twin(factories.JurisdictionFactory, "parent", name="Taken"),
        [{"name": "Taken"}],
    ),
    "geography_jurisdiction_parent_required": (made(factories.JurisdictionFactory), [{"parent": None}]),
    "geography_jurisdiction_not_own_parent": (made(factories.JurisdictionFactory), [{"parent": F("pk")}]),
    "geography_jurisdiction_country_required": (made(factories.JurisdictionFactory), [{"country": None}]),
    "geography_jurisdiction_subdivision_iso": (
        made(factories.JurisdictionFactory),
        [{"subdivision_code": "us-ca"}, {"subdivision_code": "California"}],
    ),
    # --- partnerships: reference tables and organisations
    "partnerships_focusarea_slug_format": (made(factories.FocusAreaFactory), BAD_SLUGS),
    "partnerships_focusarea_name_not_blank": (made(factories.FocusAreaFactory), [{"name": ""}]),
    "partnerships_ngo_slug_format": (draft(factories.NGOFactory), BAD_SLUGS),
    "partnerships_ngo_verification_status_valid": (draft(factories.NGOFactory), [{"verification_status": "maybe"}]),
    "partnerships_ngo_name_not_blank": (draft(factories.NGOFactory), [{"name": ""}]),
    "partnerships_ngo_unique_name": (twin(factories.NGOFactory, "jurisdiction", name="Taken"), [{"name": "Taken"}]),
    "partnerships_policedepartment_slug_format": (draft(factories.PoliceDepartmentFactory), BAD_SLUGS),
    "partnerships_policedepartment_verification_status_valid": (
        draft(factories.PoliceDepartmentFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_policedepartment_name_not_blank": (draft(factories.PoliceDepartmentFactory), [{"name": ""}]),
    "partnerships_policedepartment_unique_name": (
        twin(factories.PoliceDepartmentFactory, "jurisdiction", name="Taken"),
        [{"name": "Taken"}],
    ),
    "partnerships_surveillancepractice_slug_format": (draft(factories.SurveillancePracticeFactory), BAD_SLUGS),
    "partnerships_surveillancepractice_verification_status_valid": (
        draft(factories.SurveillancePracticeFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_surveillancepractice_name_not_blank": (draft(factories.SurveillancePracticeFactory), [{"name": ""}]),
    "partnerships_accountabilitymechanism_slug_format": (draft(factories.AccountabilityMechanismFactory), BAD_SLUGS),
    "partnerships_accountabilitymechanism_verification_status_valid": (
        draft(factories.AccountabilityMechanismFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_accountabilitymechanism_name_not_blank": (
        draft(factories.AccountabilityMechanismFactory),
        [{"name": ""}],
    ),
    # --- partnerships.Partnership
    "partnerships_partnership_slug_format": (draft(factories.PartnershipFactory), BAD_SLUGS),
    "partnerships_partnership_verification_status_valid": (
        draft(factories.PartnershipFactory),
        [{"verification_status": "maybe"}, {"verification_status": ""}],
    ),
    "partnerships_partnership_name_not_blank": (draft(factories.PartnershipFactory), [{"name": ""}]),
    "partnerships_partnership_year_established_in_range": (
        draft(factories.PartnershipFactory),
        [{"year_established": 1799}, {"year_established": NEXT_YEAR}, {"year_established": 0}],
    ),
    "partnerships_partnership_year_ended_in_range": (
        draft(factories.PartnershipFactory, year_established=None, status=PartnershipStatus.ENDED),
        [{"year_ended": 1799}, {"year_ended": NEXT_YEAR}],
    ),
    "partnerships_partnership_ended_after_established": (
        draft(factories.PartnershipFactory, year_established=2015, status=PartnershipStatus.ENDED),
        [{"year_ended": 2014}],
    ),
    "partnerships_partnership_end_year_only_if_ended": (
        draft(factories.PartnershipFactory, year_established=2015),
        [{"year_ended": 2016, "status": PartnershipStatus.ACTIVE}, {"year_ended": 2016, "status": "unknown"}],
    ),
    "partnerships_partnership_status_valid": (draft(factories.PartnershipFactory), [{"status": "paused"}]),
    "partnerships_partnership_formalisation_valid": (
        draft(factories.PartnershipFactory),
        [{"formalisation": "handshake"}],
    ),
    "partnerships_partnership_data_sharing_valid": (
        draft(factories.PartnershipFactory),
        [{"data_sharing": "telepathy"}, {"data_sharing": ""}],
    ),
    # --- partnerships.MechanismAssessment
    "partnerships_assessment_one_per_mechanism": (
        assessment_twin,
        [{"mechanism": lambda: AccountabilityMechanism.objects.get(slug="taken")}],
    ),
    "partnerships_mechanismassessment_status_valid": (
        made(factories.MechanismAssessmentFactory),
        [{"status": "maybe"}],
    ),
    "partnerships_assessment_evidence_required": (
        made(factories.MechanismAssessmentFactory, status=AssessmentStatus.PRESENT),
        [{"evidence": None}, {"evidence": None, "status": AssessmentStatus.ABSENT}],
    ),
    # --- partnerships: the seed's reference tables
    "partnerships_objective_slug_format": (draft(factories.ObjectiveFactory), BAD_SLUGS),
    "partnerships_objective_verification_status_valid": (
        draft(factories.ObjectiveFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_objective_name_not_blank": (draft(factories.ObjectiveFactory), [{"name": ""}]),
    "partnerships_challenge_slug_format": (draft(factories.ChallengeFactory), BAD_SLUGS),
    "partnerships_challenge_verification_status_valid": (
        draft(factories.ChallengeFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_challenge_name_not_blank": (draft(factories.ChallengeFactory), [{"name": ""}]),
    "partnerships_stakeholdergroup_slug_format": (draft(factories.StakeholderGroupFactory), BAD_SLUGS),
    "partnerships_stakeholdergroup_verification_status_valid": (
        draft(factories.StakeholderGroupFactory),
        [{"verification_status": "maybe"}],
    ),
    "partnerships_stakeholdergroup_name_not_blank": (draft(factories.StakeholderGroupFactory), [{"name": ""}]),
    # --- legal
    "legal_legaltopic_slug_format": (made(factories.LegalTopicFactory), BAD_SLUGS),
    "legal_legaltopic_name_not_blank": (made(factories.LegalTopicFactory), [{"name": ""}]),
    "legal_legalinstrument_slug_format": (draft(factories.LegalInstrumentFactory), BAD_SLUGS),
    "legal_legalinstrument_verification_status_valid": (
        draft(factories.LegalInstrumentFactory),
        [{"verification_status": "maybe"}],
    ),
    "legal_legalinstrument_short_name_not_blank": (draft(factories.LegalInstrumentFactory), [{"short_name": ""}]),
    "legal_legalinstrument_title_not_blank": (draft(factories.LegalInstrumentFactory), [{"title": ""}]),
    "legal_legalinstrument_kind_valid": (draft(factories.LegalInstrumentFactory), [{"kind": "edict"}]),
    "legal_legalinstrument_year_in_range": (
        draft(factories.LegalInstrumentFactory),
        [{"year": 1799}, {"year": NEXT_YEAR}],
    ),
    "legal_legalinstrument_in_force_dates_ordered": (
        draft(factories.LegalInstrumentFactory, in_force_from=datetime.date(2018, 5, 25)),
        [{"in_force_to": datetime.date(2018, 5, 24)}],
    ),
    "legal_legalinstrument_unique_short_name": (
        twin(factories.LegalInstrumentFactory, "jurisdiction", short_name="TAKEN"),
        [{"short_name": "TAKEN"}],
    ),
    "legal_oversightbody_slug_format": (draft(factories.OversightBodyFactory), BAD_SLUGS),
    "legal_oversightbody_verification_status_valid": (
        draft(factories.OversightBodyFactory),
        [{"verification_status": "maybe"}],
    ),
    "legal_oversightbody_name_not_blank": (draft(factories.OversightBodyFactory), [{"name": ""}]),
    "legal_oversightbody_kind_valid": (draft(factories.OversightBodyFactory), [{"kind": "oracle"}]),
    "legal_oversightbody_unique_name": (
        twin(factories.OversightBodyFactory, "jurisdiction", name="Taken"),
        [{"name": "Taken"}],
    ),
    # --- cases
    "cases_issuetype_slug_format": (made(factories.IssueTypeFactory), BAD_SLUGS),
    "cases_issuetype_name_not_blank": (made(factories.IssueTypeFactory), [{"name": ""}]),
    "cases_overreachcase_slug_format": (draft(factories.OverreachCaseFactory), BAD_SLUGS),
    "cases_overreachcase_verification_status_valid": (
        draft(factories.OverreachCaseFactory),
        [{"verification_status": "maybe"}],
    ),
    "cases_overreachcase_title_not_blank": (draft(factories.OverreachCaseFactory), [{"title": ""}]),
    "cases_overreachcase_year_in_range": (
        draft(factories.OverreachCaseFactory),
        [{"year": 1799}, {"year": NEXT_YEAR}],
    ),
    "cases_overreachcase_found_by_kind_valid": (
        draft(factories.OverreachCaseFactory),
        [{"found_by_kind": "psychic"}],
    ),
    "cases_casequote_text_not_blank": (made(factories.CaseQuoteFactory), [{"text": ""}]),
    "cases_casequote_unique_text": (twin(factories.CaseQuoteFactory, "case", text="Taken"), [{"text": "Taken"}]),
    # --- imports.ImportBatch (the factory makes a running dry run)
    "imports_importbatch_format_valid": (made(factories.ImportBatchFactory), [{"format": "xml"}, {"format": ""}]),
    "imports_importbatch_status_valid": (made(factories.ImportBatchFactory), [{"status": "paused"}, {"status": ""}]),
    "imports_importbatch_sha256_hex": (
        made(factories.ImportBatchFactory),
        [{"sha256": "A" * 64}, {"sha256": "g" * 64}, {"sha256": "0" * 63}, {"sha256": ""}],
    ),
    "imports_importbatch_applied_not_dry": (made(factories.ImportBatchFactory), [{"status": ImportStatus.APPLIED}]),
    "imports_importbatch_validated_is_dry": (
        made(factories.ImportBatchFactory, status=ImportStatus.VALIDATED),
        [{"dry_run": False}],
    ),
    # --- inquiries.Requester
    "inquiries_requester_has_contact": (
        made(factories.RequesterFactory, name=""),
        [{"email": ""}, {"email": "", "name": ""}],
    ),
    # --- inquiries.InformationRequest (the factory makes a received question about a partnership)
    "inquiries_request_kind_valid": (
        made(factories.InformationRequestFactory),
        [{"kind": "complaint"}, {"kind": ""}],
    ),
    "inquiries_request_status_valid": (
        made(factories.InformationRequestFactory),
        [{"status": "lost"}, {"status": ""}],
    ),
    "inquiries_request_record_kind_valid": (
        # A correction: a question must be about a partnership, which another constraint checks.
        made(factories.InformationRequestFactory, kind=RequestKind.CORRECTION),
        [{"record_kind": "planet"}, {"record_kind": ""}],
    ),
    "inquiries_request_reference_format": (
        made(factories.InformationRequestFactory),
        [{"reference": "ABCDEFGH12345678"}, {"reference": "abc-def-ghi-jklm"}, {"reference": "abc123"}],
    ),
    "inquiries_request_record_complete": (
        made(factories.InformationRequestFactory, kind=RequestKind.CORRECTION),
        [{"record_id": None}, {"record_kind": None}],
    ),
    "inquiries_request_question_about_partnership": (
        # A question naming no record too (the check says IS NOT NULL: a comparison with NULL would pass).
        made(factories.InformationRequestFactory),
        [{"record_kind": RecordKind.NGO}, {"record_kind": RecordKind.CASE}, {"record_kind": None, "record_id": None}],
    ),
    "inquiries_request_closed_at_iff_closed": (
        made(factories.InformationRequestFactory),
        [
            {"closed_at": F("received_at")},
            {"status": RequestStatus.WITHDRAWN},
            {"status": RequestStatus.ANSWERED, "public_answer": "It began in 2015."},
        ],
    ),
    "inquiries_request_closed_after_received": (
        made(
            factories.InformationRequestFactory,
            status=RequestStatus.WITHDRAWN,
            received_at=RECEIVED,
            closed_at=CLOSED,
        ),
        [
            {"closed_at": F("received_at") - datetime.timedelta(seconds=1)},
            {"received_at": F("closed_at") + datetime.timedelta(days=1)},
        ],
    ),
    "inquiries_request_answer_when_answered": (
        made(
            factories.InformationRequestFactory,
            status=RequestStatus.ANSWERED,
            public_answer="It began in 2015.",
            received_at=RECEIVED,
            closed_at=CLOSED,
        ),
        [{"public_answer": ""}, {"status": RequestStatus.REFUSED, "public_answer": ""}],
    ),
    "inquiries_request_erased_means_empty": (
        made(factories.InformationRequestFactory, requester=None, subject="", message="", erased_at=CLOSED),
        [{"subject": "Hello"}, {"message": "A question."}, {"requester": lambda: factories.RequesterFactory.create()}],
    ),
}


def declared_constraints() -> dict[str, type[models.Model]]:
    found: dict[str, type[models.Model]] = {}
    for app_label in PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            for constraint in model._meta.constraints:
                if isinstance(constraint, models.CheckConstraint | models.UniqueConstraint):
                    assert constraint.name not in found, f"constraint name {constraint.name} is used twice"
                    found[constraint.name] = model
    return found


DECLARED = declared_constraints()


def test_every_declared_constraint_has_a_violation_test() -> None:
    assert sorted(set(DECLARED) - set(VIOLATIONS)) == [], "add these constraints to VIOLATIONS"
    assert sorted(set(VIOLATIONS) - set(DECLARED)) == [], "these VIOLATIONS name no declared constraint"


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_update_that_breaks_a_constraint_is_refused_by_the_database(name: str) -> None:
    setup, updates = VIOLATIONS[name]
    row = setup()
    model = type(row)
    assert DECLARED[name] is model, f"{name} is declared on {DECLARED[name].__name__}, the setup makes a {model}"
    row.refresh_from_db()
    constraint = next(c for c in model._meta.constraints if c.name == name)
    expected_cause = (
        psycopg.errors.UniqueViolation
        if isinstance(constraint, models.UniqueConstraint)
        else psycopg.errors.CheckViolation
    )
    for update in updates:
        values = {field: value() if callable(value) else value for field, value in update.items()}
        with pytest.raises(IntegrityError) as caught, transaction.atomic():
            model._default_manager.filter(pk=row.pk).update(**values)
        assert name in str(caught.value), f"{update} broke another constraint: {caught.value}"
        assert isinstance(caught.value.__cause__, expected_cause)
    # Nothing was written: the row reads back exactly as it was.
    fresh = model._default_manager.get(pk=row.pk)
    assert all(getattr(fresh, f.attname) == getattr(row, f.attname) for f in model._meta.concrete_fields)


# --- Published slugs are stable -----------------------------------------------------------------------------------

PUBLIC_RECORD_FACTORIES: dict[type[models.Model], Factory] = {
    factory._meta.model: factory
    for factory in (
        factories.NGOFactory,
        factories.PoliceDepartmentFactory,
        factories.SurveillancePracticeFactory,
        factories.AccountabilityMechanismFactory,
        factories.PartnershipFactory,
        factories.ObjectiveFactory,
        factories.ChallengeFactory,
        factories.StakeholderGroupFactory,
        factories.LegalInstrumentFactory,
        factories.OversightBodyFactory,
        factories.OverreachCaseFactory,
    )
}


def test_every_public_record_type_is_checked_for_a_stable_slug() -> None:
    public_records = {
        model
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if issubclass(model, PublicRecord)
    }
    assert public_records == set(PUBLIC_RECORD_FACTORIES)


@pytest.mark.parametrize("model", list(PUBLIC_RECORD_FACTORIES), ids=lambda m: m.__name__)
def test_a_published_slug_cannot_change_but_a_draft_slug_can(model: type[models.Model]) -> None:
    factory = PUBLIC_RECORD_FACTORIES[model]
    published, draft_record = factory.create(is_published=True), factory.create(is_published=False)
    with pytest.raises(ProgrammingError) as caught, transaction.atomic():
        model._default_manager.filter(pk=published.pk).update(slug="a-new-slug")
    # pgtrigger's Protect raises a PL/pgSQL exception (SQLSTATE P0001), which Django wraps as ProgrammingError.
    assert isinstance(caught.value.__cause__, psycopg.errors.RaiseException)
    assert f"pgtrigger: Cannot update rows from {model._meta.db_table} table" in str(caught.value)
    assert model._default_manager.get(pk=published.pk).slug == published.slug

    # Other fields of a published record still change, and so does a draft's slug.
    model._default_manager.filter(pk=published.pk).update(editorial_note="Checked again.")
    model._default_manager.filter(pk=draft_record.pk).update(slug="a-draft-slug")
    assert model._default_manager.get(pk=draft_record.pk).slug == "a-draft-slug"


def test_a_slug_can_be_fixed_in_the_same_update_that_publishes_the_record() -> None:
    record = factories.PartnershipFactory.create(is_published=False, slug="draft-name")
    Partnership.objects.filter(pk=record.pk).update(slug="final-name", is_published=True)
    assert Partnership.objects.get(pk=record.pk).slug == "final-name"
    with pytest.raises(ProgrammingError), transaction.atomic():
        Partnership.objects.filter(pk=record.pk).update(slug="another-name", is_published=False)


def test_unpublishing_does_not_unfreeze_a_slug_that_was_once_published() -> None:
    record = factories.PartnershipFactory.create(is_published=True, slug="cited-name")
    stamped = Partnership.objects.get(pk=record.pk).first_published_at
    assert stamped is not None
    Partnership.objects.filter(pk=record.pk).update(is_published=False, first_published_at=None)
    assert Partnership.objects.get(pk=record.pk).first_published_at == stamped  # the stamp cannot be erased
    with pytest.raises(ProgrammingError), transaction.atomic():
        Partnership.objects.filter(pk=record.pk).update(slug="renamed-after-unpublishing")
    assert Partnership.objects.get(pk=record.pk).slug == "cited-name"


# --- The editor's path: full_clean reports constraints as validation errors -----------------------------------------


def _unsaved_partnership(**kwargs: Any) -> Partnership:
    jurisdiction = factories.JurisdictionFactory.create()
    values = {"name": "Safe Horizon & NYPD", "slug": "safe-horizon-nypd", "region": factories.RegionFactory.create()}
    return Partnership(jurisdiction=jurisdiction, **(values | kwargs))


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"year_established": 1700}, "partnerships_partnership_year_established_in_range"),
        ({"year_established": NEXT_YEAR}, "partnerships_partnership_year_established_in_range"),
        (
            {"year_established": 2015, "year_ended": 2010, "status": PartnershipStatus.ENDED},
            "partnerships_partnership_ended_after_established",
        ),
        ({"year_ended": 2016}, "partnerships_partnership_end_year_only_if_ended"),
    ],
)
def test_full_clean_reports_a_broken_check_constraint(fields: dict[str, Any], constraint: str) -> None:
    partnership = _unsaved_partnership(**fields)
    with pytest.raises(ValidationError) as caught:
        partnership.full_clean()
    # The editor reads the constraint's own sentence, not its database name.
    declared = next(c for c in Partnership._meta.constraints if c.name == constraint)
    assert str(declared.violation_error_message) in str(caught.value)
    assert constraint not in str(caught.value)


def test_full_clean_reports_a_broken_unique_constraint() -> None:
    first = factories.NGOFactory.create(name="Safe Horizon")
    duplicate = factories.NGOFactory.build(name="Safe Horizon", slug="safe-horizon-2", jurisdiction=first.jurisdiction)
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "This jurisdiction already has an NGO of this name." in str(caught.value)


def test_full_clean_accepts_a_valid_record() -> None:
    _unsaved_partnership(year_established=2001, year_ended=2016, status=PartnershipStatus.ENDED).full_clean()
