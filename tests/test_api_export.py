"""Exports of the partnerships list: the whole filtered list as CSV or JSON Lines, streamed, in one query
whatever its size, with pinned columns, disputed years visible and spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import PartnershipStatus
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"
COLUMNS = [
    "slug",
    "name",
    "region",
    "country",
    "jurisdiction",
    "ngos",
    "police_departments",
    "focus_areas",
    "year_established",
    "year_established_claims",
    "status",
    "formalisation",
    "data_sharing",
    "surveillance_practices",
    "verification_status",
    "disputed_fields",
    "source_urls",
    "updated_at",
    "permalink",
]


def body(response: Any) -> str:
    assert response.status_code == 200, getattr(response, "content", b"")
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    return list(csv.DictReader(io.StringIO(body(response), newline="")))


def export_csv(client: Any, **params: str) -> list[dict[str, str]]:
    return csv_rows(client.get(LIST_URL, {"format": "csv", **params}))


def rich_partnership(n: int, **kwargs: Any) -> Any:
    """A partnership with ``n`` parties, focus areas, practices, sources and claims."""
    partnership = factories.PartnershipFactory(
        ngos=[factories.NGOFactory() for _ in range(n)],
        police_departments=[factories.PoliceDepartmentFactory() for _ in range(n)],
        focus_areas=[factories.FocusAreaFactory() for _ in range(n)],
        sources=[factories.SourceFactory() for _ in range(n)],
        **kwargs,
    )
    partnership.surveillance_practices.set([factories.SurveillancePracticeFactory() for _ in range(n)])
    for i in range(n):
        factories.ClaimFactory(partnership=partnership, value=str(2010 + i % 2), locator=f"Table {i}")
    return partnership


def test_csv_is_a_download_with_the_pinned_header_and_crlf_line_ends(anon_client) -> None:
    factories.PartnershipFactory()
    response = anon_client.get(LIST_URL, {"format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="partnerships.csv"'
    text = body(response)
    assert not text.startswith("\ufeff"), "no byte order mark"
    assert text.split("\r\n")[0] == ",".join(COLUMNS)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_csv_row_of_a_partnership(anon_client) -> None:
    uk = factories.JurisdictionFactory(name="United Kingdom", country__code="GB", country__region__name="Europe")
    news = factories.SourceFactory(url="https://example.org/news")
    table = factories.SourceFactory(url="https://example.org/table")
    partnership = factories.PartnershipFactory(
        slug="safe-met",
        name="SafeLives & Met",
        region=uk.country.region,
        jurisdiction=uk,
        ngos=[factories.NGOFactory(name="SafeLives"), factories.NGOFactory(name="Refuge")],
        police_departments=[factories.PoliceDepartmentFactory(name="Met")],
        focus_areas=[factories.FocusAreaFactory(name="Domestic Violence")],
        sources=[news],
        year_established=2001,
        status=PartnershipStatus.ACTIVE,
    )
    factories.NGOFactory(name="Draft NGO", is_published=False).partnerships.add(partnership)
    claim_add(record=partnership, field="year_established", value="2001", source=news)
    claim_add(record=partnership, field="year_established", value="2003", source=table)
    partnership.refresh_from_db()

    [row] = export_csv(anon_client)

    assert list(row) == COLUMNS
    assert row == {
        "slug": "safe-met",
        "name": "SafeLives & Met",
        "region": "Europe",
        "country": "GB",
        "jurisdiction": "United Kingdom",
        "ngos": "Refuge; SafeLives",
        "police_departments": "Met",
        "focus_areas": "Domestic Violence",
        "year_established": "2001",
        "year_established_claims": "2001; 2003",
        "status": "active",
        "formalisation": "unknown",
        "data_sharing": "unknown",
        "surveillance_practices": "",
        "verification_status": "disputed",
        "disputed_fields": "year_established",
        "source_urls": "https://example.org/news; https://example.org/table",
        "updated_at": partnership.updated_at.isoformat().replace("+00:00", "Z"),
        "permalink": "http://testserver/api/v1/partnerships/safe-met/",
    }


def test_csv_takes_the_filters_and_leaves_out_unpublished_records(anon_client) -> None:
    factories.PartnershipFactory(slug="active-one", status=PartnershipStatus.ACTIVE)
    factories.PartnershipFactory(slug="ended-one", status=PartnershipStatus.ENDED, year_ended=2020)
    factories.PartnershipFactory(slug="draft", status=PartnershipStatus.ACTIVE, is_published=False)

    assert [row["slug"] for row in export_csv(anon_client, status="active")] == ["active-one"]
    assert [row["slug"] for row in export_csv(anon_client)] == ["active-one", "ended-one"]


def test_csv_is_the_whole_list_not_one_page(anon_client) -> None:
    for _ in range(120):
        factories.PartnershipFactory(ngos=[], police_departments=[], sources=[])
    assert len(export_csv(anon_client)) == 120


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_cells_a_spreadsheet_would_run_as_a_formula(anon_client, start: str) -> None:
    name = f'{start}HYPERLINK("https://evil.example","x")'
    factories.PartnershipFactory(name=name, ngos=[factories.NGOFactory(name=f"{start}1+1")])
    [row] = export_csv(anon_client)
    assert row["name"] == f"'{name}"
    assert row["ngos"] == f"'{start}1+1"


def test_json_lines_export_keeps_values_raw(anon_client) -> None:
    factories.PartnershipFactory(
        slug="a", name="=SUM(A1)", year_established=2001, ngos=[factories.NGOFactory(name="Refuge")]
    )
    response = anon_client.get(LIST_URL, {"format": "ndjson"})
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="partnerships.ndjson"'
    [record] = [json.loads(line) for line in body(response).splitlines()]
    assert list(record) == COLUMNS
    assert record["name"] == "=SUM(A1)"
    assert record["year_established"] == 2001
    assert record["year_established_claims"] == []
    assert record["ngos"] == ["Refuge"]


def test_quotes_commas_and_newlines_round_trip(anon_client) -> None:
    name = 'The "Safe", Home\r\nProject; line two\nand three'
    factories.PartnershipFactory(name=name)
    [row] = export_csv(anon_client)
    assert row["name"] == name


def test_disputed_years_are_both_in_the_claims_column(anon_client) -> None:
    partnership = factories.PartnershipFactory(year_established=2001)
    claim_add(record=partnership, field="year_established", value="2003", source=factories.SourceFactory())
    claim_add(record=partnership, field="year_established", value="2001", source=factories.SourceFactory())
    [row] = export_csv(anon_client)
    assert row["year_established_claims"] == "2001; 2003"
    assert row["disputed_fields"] == "year_established"
    assert row["verification_status"] == "disputed"


def test_export_costs_the_same_queries_for_3_or_30_rich_rows(anon_client) -> None:
    def queries_for_export() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = export_csv(anon_client)
        reads = [q["sql"] for q in queries.captured_queries if '"partnerships_partnership"' in q["sql"]]
        return len(rows), len(queries), len(reads)

    for _ in range(3):
        rich_partnership(3)
    rows_3, queries_3, reads_3 = queries_for_export()
    for _ in range(27):
        rich_partnership(3)
    rows_30, queries_30, reads_30 = queries_for_export()
    assert (rows_3, rows_30) == (3, 30)
    assert queries_30 == queries_3
    # The rows and their related names in one SELECT (the ETag reads only the newest history events).
    assert reads_30 == reads_3 == 1


def test_export_refuses_pagination_parameters(anon_client) -> None:
    response = anon_client.get(LIST_URL, {"format": "csv", "page_size": "10"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["attr"] == "page_size"


def test_export_errors_are_json_in_the_one_shape(anon_client) -> None:
    response = anon_client.get(LIST_URL, {"format": "csv", "yearmin": "2000"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_parameter"


def test_detail_has_no_csv(anon_client, partnership) -> None:
    response = anon_client.get(f"{LIST_URL}{partnership.slug}/", {"format": "csv"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "Unknown format 'csv': this endpoint offers json."


def test_schema_documents_the_export_formats(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/partnerships/"]["get"]
    [fmt] = [p for p in operation["parameters"] if p["name"] == "format"]
    assert set(fmt["schema"]["enum"]) == {"json", "csv", "ndjson"}
    assert ", ".join(COLUMNS) in fmt["description"]
    assert {"application/json", "text/csv", "application/x-ndjson"} <= operation["responses"]["200"]["content"].keys()


@pytest.mark.django_db(transaction=True)
def test_an_export_streams_inside_one_transaction_and_ends_it(anon_client) -> None:
    """Outside a transaction the export's server-side cursor would be WITH HOLD: PostgreSQL computes the whole
    result before the first row (26 s to the first byte for 100k rows). Inside one, rows come as they are read."""
    for _ in range(3):
        factories.PartnershipFactory()
    response = anon_client.get(LIST_URL, {"format": "csv"})
    assert not connection.in_atomic_block  # the view's own transaction has ended

    pieces = iter(response.streaming_content)
    first = next(pieces)
    assert connection.in_atomic_block  # the rows are being read in a transaction
    body = first + b"".join(pieces)
    response.close()

    assert not connection.in_atomic_block
    assert body.count(b"\r\n") == 4  # the header and 3 rows


def test_json_lines_dates_are_written_as_the_api_writes_them(anon_client, partnership) -> None:
    listed = anon_client.get(LIST_URL).json()["results"][0]["updated_at"]
    exported = json.loads(b"".join(anon_client.get(LIST_URL, {"format": "ndjson"}).streaming_content))
    assert exported["updated_at"] == listed
