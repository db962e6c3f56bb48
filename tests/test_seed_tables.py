"""Every table of the seed document can be rebuilt from the registry.

The markdown tables are parsed out of the seed text; each is rebuilt from the domain models after the
shipped data is loaded (partnerships with their NGOs, police, region and focus; claims where the seed's
own wording is the fact, such as its contradictory founding years; the reference tables; legal instruments
grouped as the seed groups them) and compared cell by cell. Only whitespace is normalised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from cases.models import OverreachCase
from legal.models import LegalInstrument
from partnerships.models import (
    AccountabilityMechanism,
    Challenge,
    Objective,
    Partnership,
    StakeholderGroup,
    SurveillancePractice,
)
from provenance.models import Claim, PublicRecord
from registry.shipped_data import shipped_data_load

SEED_PATH = Path(settings.BASE_DIR) / "fixtures" / "seed" / "000_06da622b75d02cca.txt"

T1 = "Table 1: notable collaborations"
T2 = "Table 2: historical partnerships"
T3 = "Table 3: current scope and scale"
T6 = "Table 6: instances of surveillance overreach"
T7 = "Table 7: key legal instruments"

Row = tuple[str, ...]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_tables(text: str) -> list[list[Row]]:
    """Every markdown table in the text: runs of lines starting with "|", without the |---| separator.
    The first row of each table is its header."""
    tables: list[list[Row]] = []
    current: list[Row] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = tuple(normalise(cell) for cell in line.strip().strip("|").split("|"))
            if not all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


SEED_TABLES = {table[0]: table[1:] for table in seed_tables(SEED_PATH.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def shipped(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The shipped data, loaded once for this module into the empty test database and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        shipped_data_load(path=Path(settings.REGISTRY_DATA_PATH))
        yield
        transaction.set_rollback(True)


pytestmark = pytest.mark.usefixtures("shipped", "db")


def claim_value(record: PublicRecord, field: str, locator: str) -> str | None:
    """What the claim citing ``locator`` says about ``field`` of ``record`` (None if no such claim)."""
    values = {c.value for c in Claim.objects.for_record(record).about(field).filter(locator=locator)}
    assert len(values) <= 1, (record, field, locator, values)
    return values.pop() if values else None


def names(related: Any) -> str:
    return ", ".join(sorted(obj.name for obj in related.all()))


def cited_by(locator: str) -> Any:
    """Public partnerships for which a claim cites the table."""
    return Partnership.objects.public().filter(claims__locator=locator).distinct().with_related()


# --- One rebuild per seed table, each starting from public records --------------------------------------


def notable_collaborations() -> list[Row]:
    return [
        (
            p.region.name,
            claim_value(p, "ngos", T1) or names(p.ngos),
            claim_value(p, "police_departments", T1) or names(p.police_departments),
            names(p.focus_areas),
            claim_value(p, "year_established", T1) or "",
        )
        for p in cited_by(T1)
    ]


def historical_partnerships() -> list[Row]:
    return [
        (p.region.name, p.name, p.primary_objective, claim_value(p, "year_established", T2) or "") for p in cited_by(T2)
    ]


def current_scope() -> list[Row]:
    return [
        (p.region.name, p.name, p.focus_summary, claim_value(p, "year_established", T3) or "") for p in cited_by(T3)
    ]


def objectives() -> list[Row]:
    return [(o.name, o.intended_benefit) for o in Objective.objects.public()]


def surveillance_practices() -> list[Row]:
    return [(s.name, s.implementation, s.concerns) for s in SurveillancePractice.objects.public()]


def overreach_cases() -> list[Row]:
    cases = OverreachCase.objects.public().prefetch_related("surveillance_methods", "issues")
    return [
        (
            case.location,
            claim_value(case, "year", T6) or str(case.year),
            case.partnership_type,
            names(case.surveillance_methods),
            claim_value(case, "issues", T6) or names(case.issues),
        )
        for case in cases
    ]


def legal_instruments() -> list[Row]:
    """Instruments the seed's table names, grouped under the jurisdiction the seed gives them."""
    groups: dict[str, list[LegalInstrument]] = {}
    for instrument in LegalInstrument.objects.public().filter(claims__locator=T7).distinct():
        jurisdiction = claim_value(instrument, "jurisdiction", T7) or instrument.jurisdiction.name
        groups.setdefault(jurisdiction, []).append(instrument)
    rows: list[Row] = []
    for jurisdiction, instruments in groups.items():
        titles = sorted(claim_value(i, "title", T7) or i.title for i in instruments)
        focus = {claim_value(i, "topics", T7) or names(i.topics) for i in instruments}
        assert len(focus) == 1, (jurisdiction, focus)  # one row of the seed: one list of focus areas
        rows.append((jurisdiction, ", ".join(titles), focus.pop()))
    return rows


def challenges() -> list[Row]:
    return [(c.name, c.potential_solutions) for c in Challenge.objects.public()]


def stakeholder_groups() -> list[Row]:
    return [(g.name, g.key_concerns, g.suggested_actions) for g in StakeholderGroup.objects.public()]


def recommendations() -> list[Row]:
    return [(m.recommendation, m.expected_outcome) for m in AccountabilityMechanism.objects.public()]


REBUILDS: dict[Row, Callable[[], list[Row]]] = {
    ("Region", "NGO", "Police Department", "Focus Area", "Year Established"): notable_collaborations,
    ("Region", "Partnership", "Primary Objective", "Established Year"): historical_partnerships,
    ("Region", "Partnership Example", "Focus Area", "Established Year"): current_scope,
    ("Objective", "Intended Benefit"): objectives,
    ("Surveillance Practice", "Implementation", "Concerns"): surveillance_practices,
    ("Location", "Year", "Partnership Type", "Surveillance Method", "Issues Identified"): overreach_cases,
    ("Jurisdiction", "Key Legal Instruments", "Focus Areas"): legal_instruments,
    ("Challenge", "Potential Solutions"): challenges,
    ("Stakeholder Group", "Key Concerns", "Suggested Actions"): stakeholder_groups,
    ("Recommendation", "Expected Outcome"): recommendations,
}
HEADER_OF = {
    T1: ("Region", "NGO", "Police Department", "Focus Area", "Year Established"),
    T2: ("Region", "Partnership", "Primary Objective", "Established Year"),
    T3: ("Region", "Partnership Example", "Focus Area", "Established Year"),
}
# Tables whose rows carry a position in the registry are compared in the seed's order; others as sets.
ORDERED = {objectives, challenges, stakeholder_groups, recommendations}


def test_the_seed_has_the_ten_tables_this_test_knows() -> None:
    assert list(SEED_TABLES) == list(REBUILDS)
    assert [len(rows) for rows in SEED_TABLES.values()] == [4, 4, 4, 5, 4, 2, 4, 4, 3, 7]


@pytest.mark.parametrize("header", list(REBUILDS), ids=[" | ".join(h) for h in REBUILDS])
def test_each_seed_table_is_rebuilt_from_the_registry(header: Row) -> None:
    rebuild = REBUILDS[header]
    expected = SEED_TABLES[header]
    rebuilt = [tuple(normalise(cell) for cell in row) for row in rebuild()]

    assert all(len(row) == len(header) for row in rebuilt)
    if rebuild in ORDERED:
        assert rebuilt == expected
    else:
        assert sorted(rebuilt) == sorted(expected)


@pytest.mark.parametrize(
    ("slug", "ngo", "by_table"),
    [
        ("safe-horizon-nypd", "Safe Horizon", {T1: "2016", T2: "2001", T3: "2001"}),
        (
            "la-strada-international-metropolitan-police",
            "La Strada International",
            {T1: "2018", T2: "1995", T3: "1995"},
        ),
    ],
)
def test_a_disputed_year_shows_in_each_table_as_that_table_gives_it(
    slug: str, ngo: str, by_table: dict[str, str]
) -> None:
    partnership = Partnership.objects.public().disputed().get(slug=slug)

    # Table 1 rebuilds with the year Table 1 gives; Tables 2 and 3 with theirs.
    assert [row[4] for row in notable_collaborations() if row[1] == ngo] == [by_table[T1]]
    assert [row[3] for row in historical_partnerships() if row[1] == partnership.name] == [by_table[T2]]
    assert [row[3] for row in current_scope() if row[1] == partnership.name] == [by_table[T3]]
    # The record itself lists both values, each claim citing the table it came from.
    claims = Claim.objects.for_record(partnership).about("year_established").select_related("source")
    assert {c.value for c in claims} == set(by_table.values())
    for claim in claims:
        if claim.locator in by_table:
            assert claim.value == by_table[claim.locator]
            seed_rows = SEED_TABLES[HEADER_OF[claim.locator]]
            assert normalise(claim.quote) in {f"| {' | '.join(row)} |" for row in seed_rows}


def test_the_rebuilt_cells_match_the_records_where_no_claim_rewords_them() -> None:
    """Where the registry holds the fact itself (no claim), the cell is the record's own value; where a claim
    rewords it (the seed's "New York Police Department"), the record still holds the organisation."""
    safe_horizon = Partnership.objects.get(slug="safe-horizon-nypd")
    assert names(safe_horizon.ngos) == "Safe Horizon"
    assert claim_value(safe_horizon, "ngos", T1) is None
    assert safe_horizon.police_departments.get().aliases == ["NYPD", "New York Police Department"]
    ccpa = LegalInstrument.objects.get(slug="ccpa")
    assert (ccpa.jurisdiction.name, claim_value(ccpa, "jurisdiction", T7)) == ("California", "United States")
