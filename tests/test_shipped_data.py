"""The shipped data (fixtures/registry.yaml) and its loader: what loading creates, that loading again
changes nothing, that every public record is sourced, that the seed's contradictions stay disputed, and
that a bad file is refused whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pghistory.models
import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models, transaction

from cases.models import CaseQuote, OverreachCase
from geography.models import Country, Jurisdiction, Region
from legal.models import LegalInstrument, OversightBody
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    AssessmentStatus,
    Challenge,
    MechanismAssessment,
    Objective,
    Partnership,
    PoliceDepartment,
    StakeholderGroup,
    SurveillancePractice,
)
from provenance.models import Claim, PublicRecord, Source, SourceTier, VerificationStatus
from registry.shipped_data import COMMAND_NAME, LoadReport, ShippedDataError, shipped_data_load

DATA_PATH = Path(settings.REGISTRY_DATA_PATH)
SEED = "srinagar-insider-ngo-police-partnerships"

EXPECTED_COUNTS: dict[type[models.Model], int] = {
    Region: 5,
    Country: 7,
    Jurisdiction: 21,
    NGO: 6,
    PoliceDepartment: 5,
    SurveillancePractice: 4,
    AccountabilityMechanism: 7,
    Objective: 5,
    Challenge: 4,
    StakeholderGroup: 3,
    Partnership: 7,
    LegalInstrument: 12,
    OversightBody: 9,
    OverreachCase: 2,
    CaseQuote: 2,
    MechanismAssessment: 2,
}


def public_models() -> list[type[PublicRecord]]:
    return [m for m in apps.get_models() if issubclass(m, PublicRecord)]


def event_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, pghistory.models.Event)]


def event_count() -> int:
    return sum(model._default_manager.count() for model in event_models())


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: Any) -> Iterator[LoadReport]:
    """The shipped data loaded once into the empty test database for this module, rolled back afterwards.

    (Loading writes a few hundred rows through full validation; once per module keeps the suite fast.
    Each test still runs in its own savepoint.)"""
    with django_db_blocker.unblock(), transaction.atomic():
        report = shipped_data_load(path=DATA_PATH)
        yield report
        transaction.set_rollback(True)


pytestmark = pytest.mark.usefixtures("db")


def test_loading_into_an_empty_database_creates_every_record(loaded: LoadReport) -> None:
    for model, expected in EXPECTED_COUNTS.items():
        assert model.objects.count() == expected, model.__name__
        assert loaded.count(model._meta.label).created == expected, model.__name__
    assert loaded.count(Claim._meta.label).created == Claim.objects.count() > 0
    assert loaded.count(Source._meta.label).created == Source.objects.count()
    assert all(c.updated == 0 and c.unchanged == 0 for c in loaded.counts.values())


def test_loading_twice_changes_nothing_and_adds_no_history(loaded: LoadReport) -> None:
    events_before = event_count()
    assert events_before > 0

    again = shipped_data_load(path=DATA_PATH)

    assert again.changed == 0
    assert all(c.created == 0 and c.updated == 0 for c in again.counts.values())
    assert again.count(Partnership._meta.label).unchanged == EXPECTED_COUNTS[Partnership]
    assert event_count() == events_before


def test_every_public_record_is_published_and_sourced(loaded: LoadReport) -> None:
    for model in public_models():
        records = model.objects.all()
        assert records.exists(), model.__name__
        assert not records.exclude(is_published=True).exists(), model.__name__
        unsourced = records.filter(sources__isnull=True).values_list("slug", flat=True)
        assert list(unsourced) == [], model.__name__


def test_the_seed_is_a_secondary_news_source(loaded: LoadReport) -> None:
    seed = Source.objects.get(slug=SEED)
    assert (seed.kind, seed.tier) == ("news", "secondary")


@pytest.mark.parametrize(
    ("slug", "years", "chosen"),
    [
        (
            "safe-horizon-nypd",
            {"Table 1: notable collaborations": "2016", "Table 2: historical partnerships": "2001"},
            2001,
        ),
        (
            "la-strada-international-metropolitan-police",
            {"Table 1: notable collaborations": "2018", "Table 2: historical partnerships": "1995"},
            1995,
        ),
    ],
)
def test_the_seeds_contradictory_years_stay_disputed(
    loaded: LoadReport, slug: str, years: dict[str, str], chosen: int
) -> None:
    partnership = Partnership.objects.disputed().get(slug=slug)

    claims = Claim.objects.for_record(partnership).about("year_established")
    by_table = {claim.locator: claim.value for claim in claims}
    assert by_table.items() >= years.items()
    assert {claim.source.slug for claim in claims} == {SEED}
    assert partnership.disputed_fields() == ["year_established"]
    assert partnership.verification_status == VerificationStatus.DISPUTED
    assert partnership.year_established == chosen
    assert str(chosen) in partnership.editorial_note


def test_only_the_two_contradicted_partnerships_are_disputed(loaded: LoadReport) -> None:
    assert set(Partnership.objects.disputed().values_list("slug", flat=True)) == {
        "safe-horizon-nypd",
        "la-strada-international-metropolitan-police",
    }
    for model in public_models():
        if model is not Partnership:
            assert not model.objects.filter(verification_status=VerificationStatus.DISPUTED).exists()


def test_a_record_sourced_only_by_the_seed_is_unverified(loaded: LoadReport) -> None:
    for record in [
        Partnership.objects.get(slug="prerana-mumbai-police"),
        LegalInstrument.objects.get(slug="community-policing-act"),
        OversightBody.objects.get(slug="chicago-community-advisory-council"),
        SurveillancePractice.objects.get(slug="predictive-policing"),
    ]:
        assert [s.slug for s in record.sources.all()] == [SEED]
        assert record.verification_status == VerificationStatus.UNVERIFIED, record.slug


def test_an_instrument_with_its_official_text_is_verified(loaded: LoadReport) -> None:
    gdpr = LegalInstrument.objects.get(slug="gdpr")
    official = gdpr.sources.get(tier=SourceTier.PRIMARY)
    assert official.kind == "primary_document"
    assert official.url == gdpr.official_url == "https://eur-lex.europa.eu/eli/reg/2016/679/oj"
    assert gdpr.verification_status == VerificationStatus.VERIFIED
    assert set(gdpr.topics.values_list("name", flat=True)) >= {"Data Protection", "Consent"}
    # Every instrument with an official link has that link as a primary source.
    for instrument in LegalInstrument.objects.exclude(official_url=""):
        assert instrument.sources.filter(tier=SourceTier.PRIMARY, url=instrument.official_url).exists()
        assert instrument.verification_status == VerificationStatus.VERIFIED, instrument.slug


def test_ccpa_is_filed_under_california_with_the_seeds_united_states_as_a_claim(loaded: LoadReport) -> None:
    ccpa = LegalInstrument.objects.get(slug="ccpa")
    assert ccpa.jurisdiction.slug == "california"
    claim = Claim.objects.for_record(ccpa).about("jurisdiction").get()
    assert (claim.value, claim.source.slug, claim.locator) == ("United States", SEED, "Table 7: key legal instruments")
    new_york = Partnership.objects.get(slug="safe-horizon-nypd")
    applicable = set(new_york.applicable_law().values_list("slug", flat=True))
    assert "ccpa" not in applicable  # New York is not California
    assert {"iccpr", "community-policing-act"} <= applicable


def test_the_toronto_case_study_has_its_mechanisms_assessed_from_the_seed(loaded: LoadReport) -> None:
    toronto = Partnership.objects.get(slug="toronto-community-safety-partnership")
    present = toronto.assessments.filter(status=AssessmentStatus.PRESENT)
    assert set(present.values_list("mechanism__slug", flat=True)) == {"community-involvement", "transparency-reports"}
    assert {a.evidence.slug for a in present if a.evidence} == {SEED}
    assert Partnership.objects.lacking("independent-oversight").count() == EXPECTED_COUNTS[Partnership]


def test_every_event_the_loader_writes_carries_the_command_context(loaded: LoadReport) -> None:
    total = 0
    for model in event_models():
        for event in model._default_manager.select_related("pgh_context"):
            total += 1
            assert event.pgh_context is not None, model.__name__
            assert event.pgh_context.metadata.get("command") == COMMAND_NAME, model.__name__
    assert total > 0


def test_dry_run_reports_changes_and_writes_nothing(loaded: LoadReport, tmp_path: Path) -> None:
    document = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))
    document["regions"].append({"slug": "south-america", "name": "South America"})
    changed = tmp_path / "registry.yaml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    events_before = event_count()

    report = shipped_data_load(path=changed, dry_run=True)

    assert report.count(Region._meta.label).created == 1
    assert report.changed == 1
    assert not Region.objects.filter(slug="south-america").exists()
    assert event_count() == events_before


def set_in(path: tuple[str | int, ...], value: Any) -> Any:
    def edit(document: Any) -> None:
        for step in path[:-1]:
            document = document[step]
        document[path[-1]] = value

    return edit


def remove(path: tuple[str | int, ...]) -> Any:
    def edit(document: Any) -> None:
        for step in path[:-1]:
            document = document[step]
        del document[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            set_in(("partnerships", 0, "ngos"), ["safe-horizon", "no-such-ngo"]),
            "partnerships[safe-horizon-nypd].ngos: unknown ngos slug 'no-such-ngo'",
        ),
        (
            set_in(("partnerships", 0, "claims", 0, "source"), "no-such-source"),
            "partnerships[safe-horizon-nypd].claims[0].source: unknown sources slug 'no-such-source'",
        ),
        (remove(("regions", 0, "name")), "regions[north-america].name: missing required field"),
        (
            set_in(("jurisdictions", 1, "level"), "galactic"),
            "jurisdictions[european-union].level: Value 'galactic' is not a valid choice.",
        ),
        (
            set_in(("objectives", 0, "sources"), []),
            "objectives[enhance-community-trust].sources: every public record needs at least one source",
        ),
        (
            # Valid field by field, refused by the database's rules while writing: still nothing is kept.
            set_in(("jurisdictions", 1, "level"), "city"),
            "jurisdictions[european-union]:",
        ),
    ],
    ids=["unknown-slug", "unknown-claim-source", "missing-field", "bad-choice", "unsourced", "refused-on-write"],
)
def test_a_bad_file_is_refused_whole_with_a_clear_error(
    loaded: LoadReport, tmp_path: Path, edit: Any, expected: str
) -> None:
    document = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))
    document["regions"].append({"slug": "south-america", "name": "South America"})  # would be written first
    edit(document)
    bad = tmp_path / "registry.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    events_before = event_count()

    with pytest.raises(ShippedDataError) as raised:
        shipped_data_load(path=bad)

    assert any(problem.startswith(expected) for problem in raised.value.problems), raised.value.problems
    assert "nothing was written" in str(raised.value)
    assert not Region.objects.filter(slug="south-america").exists()
    assert Jurisdiction.objects.get(slug="european-union").level == "supranational"
    assert event_count() == events_before


def test_the_command_loads_and_reports(loaded: LoadReport, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_shipped_data", "--path", str(DATA_PATH), verbosity=0)
    out = capsys.readouterr().out
    assert "partnerships.Partnership" in out
    assert "already up to date" in out
