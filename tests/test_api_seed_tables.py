"""The seed document's partnership, legal-instrument and overreach-case tables can be rebuilt from the public API
alone.

A reader with nothing but ``/api/v1/`` pages through the lists (following ``next``) on the shipped data and
rebuilds Tables 1-3, 6 and 7 cell by cell from what the responses carry: names of related records, and the
claims that cite each table (the seed's own wording, such as the founding years on which its tables disagree).
The seed text is parsed as ``test_seed_tables`` parses it; only whitespace is normalised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from registry.shipped_data import shipped_data_load
from tests.test_seed_tables import HEADER_OF, SEED_TABLES, T1, T2, T3, T6, T7, Row, normalise

Record = dict[str, Any]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def api_records(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, list[Record]]]:
    """Every public partnership, legal instrument and case, read through the API once on the shipped data
    (loaded into the empty test database and rolled back after)."""
    with django_db_blocker.unblock(), transaction.atomic():
        shipped_data_load(path=Path(settings.REGISTRY_DATA_PATH))
        client = Client()
        yield {
            resource: list(all_pages(client, f"/api/v1/{resource}/?page_size=100"))
            for resource in ("partnerships", "legal-instruments", "cases")
        }
        transaction.set_rollback(True)


def all_pages(client: Client, url: str | None) -> Iterator[Record]:
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        yield from body["results"]
        url = body["next"]


def claimed(record: Record, field: str, locator: str) -> str | None:
    """What the claim (in the record's ``claims``) citing ``locator`` says about ``field``; None if none does."""
    values = {c["value"] for c in record["claims"] if c["field"] == field and c["locator"] == locator}
    assert len(values) <= 1, (record["slug"], field, locator, values)
    return values.pop() if values else None


def names(related: list[Record]) -> str:
    return ", ".join(sorted(item["name"] for item in related))


def citing(records: list[Record], locator: str) -> list[Record]:
    return [r for r in records if any(c["locator"] == locator for c in r["claims"])]


# --- One rebuild per table, from API responses only -------------------------------------------------------


def notable_collaborations(partnerships: list[Record]) -> list[Row]:
    return [
        (
            p["region"]["name"],
            claimed(p, "ngos", T1) or names(p["ngos"]),
            claimed(p, "police_departments", T1) or names(p["police_departments"]),
            names(p["focus_areas"]),
            claimed(p, "year_established", T1) or "",
        )
        for p in citing(partnerships, T1)
    ]


def historical_partnerships(partnerships: list[Record]) -> list[Row]:
    return [
        (p["region"]["name"], p["name"], p["primary_objective"], claimed(p, "year_established", T2) or "")
        for p in citing(partnerships, T2)
    ]


def current_scope(partnerships: list[Record]) -> list[Row]:
    return [
        (p["region"]["name"], p["name"], p["focus_summary"], claimed(p, "year_established", T3) or "")
        for p in citing(partnerships, T3)
    ]


def overreach_cases(cases: list[Record]) -> list[Row]:
    return [
        (
            case["location"],
            claimed(case, "year", T6) or str(case["year"]),
            case["partnership_type"],
            names(case["surveillance_methods"]),
            claimed(case, "issues", T6) or names(case["issues"]),
        )
        for case in cases
    ]


def legal_instruments(instruments: list[Record]) -> list[Row]:
    """Instruments the seed's table names, grouped under the jurisdiction the seed gives them."""
    groups: dict[str, list[Record]] = {}
    for instrument in citing(instruments, T7):
        jurisdiction = claimed(instrument, "jurisdiction", T7) or instrument["jurisdiction"]["name"]
        groups.setdefault(jurisdiction, []).append(instrument)
    rows: list[Row] = []
    for jurisdiction, group in groups.items():
        titles = sorted(claimed(i, "title", T7) or i["title"] for i in group)
        focus = {claimed(i, "topics", T7) or names(i["topics"]) for i in group}
        assert len(focus) == 1, (jurisdiction, focus)  # one row of the seed: one list of focus areas
        rows.append((jurisdiction, ", ".join(titles), focus.pop()))
    return rows


CASES_HEADER = ("Location", "Year", "Partnership Type", "Surveillance Method", "Issues Identified")
INSTRUMENTS_HEADER = ("Jurisdiction", "Key Legal Instruments", "Focus Areas")
TABLES = {
    T1: ("partnerships", notable_collaborations, HEADER_OF[T1]),
    T2: ("partnerships", historical_partnerships, HEADER_OF[T2]),
    T3: ("partnerships", current_scope, HEADER_OF[T3]),
    T6: ("cases", overreach_cases, CASES_HEADER),
    T7: ("legal-instruments", legal_instruments, INSTRUMENTS_HEADER),
}


@pytest.mark.parametrize("table", list(TABLES))
def test_each_table_is_rebuilt_from_the_api(api_records: dict[str, list[Record]], table: str) -> None:
    resource, rebuild, header = TABLES[table]
    expected = SEED_TABLES[header]
    rebuilt = [tuple(normalise(cell) for cell in row) for row in rebuild(api_records[resource])]

    assert rebuilt, f"nothing in /api/v1/{resource}/ cites {table}"
    assert all(len(row) == len(header) for row in rebuilt)
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
def test_a_disputed_year_reads_in_each_table_as_that_table_gives_it(
    api_records: dict[str, list[Record]], slug: str, ngo: str, by_table: dict[str, str]
) -> None:
    partnerships = api_records["partnerships"]
    [listed] = [p for p in partnerships if p["slug"] == slug]
    detail = Client().get(f"/api/v1/partnerships/{slug}/")
    assert detail.status_code == 200, detail.content
    record = detail.json()

    # The API says the year is disputed, and carries both values, each in a claim citing its table.
    assert record["verification_status"] == "disputed"
    assert "year_established" in record["disputed_fields"]
    years = [c for c in record["claims"] if c["field"] == "year_established"]
    assert len(set(by_table.values())) == 2
    assert {c["value"] for c in years} == set(by_table.values())
    for claim in years:
        if claim["locator"] in by_table:
            assert claim["value"] == by_table[claim["locator"]]
            seed_rows = SEED_TABLES[HEADER_OF[claim["locator"]]]
            assert normalise(claim["quote"]) in {f"| {' | '.join(row)} |" for row in seed_rows}
            assert claim["source"] in {s["slug"] for s in record["sources"]}
    # The list and the detail agree on the claims.
    assert sorted(map(str, listed["claims"])) == sorted(map(str, record["claims"]))

    # Each table rebuilt from the API shows the year that table gives.
    assert [row[4] for row in notable_collaborations(partnerships) if row[1] == ngo] == [by_table[T1]]
    assert [row[3] for row in historical_partnerships(partnerships) if row[1] == record["name"]] == [by_table[T2]]
    assert [row[3] for row in current_scope(partnerships) if row[1] == record["name"]] == [by_table[T3]]
