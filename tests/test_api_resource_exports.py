"""Every resource, not only partnerships, exports its whole filtered list as CSV and JSON Lines, and answers
conditional requests (ETag, Last-Modified, 304) on its list and records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provenance.services import record_source_add
from registry.api.export import EXPORT_OMITTED_FIELDS
from tests import factories

pytestmark = pytest.mark.django_db

RESOURCES: dict[str, Callable[..., Any]] = {
    "ngos": factories.NGOFactory,
    "police-departments": factories.PoliceDepartmentFactory,
    "surveillance-practices": factories.SurveillancePracticeFactory,
    "accountability-mechanisms": factories.AccountabilityMechanismFactory,
    "legal-instruments": factories.LegalInstrumentFactory,
    "oversight-bodies": factories.OversightBodyFactory,
    "cases": factories.OverreachCaseFactory,
    "objectives": factories.ObjectiveFactory,
    "challenges": factories.ChallengeFactory,
    "stakeholder-groups": factories.StakeholderGroupFactory,
    "sources": factories.SourceFactory,
}


def body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def export_csv(client: Any, resource: str, **params: str) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get(f"/api/v1/{resource}/", {"format": "csv", **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response["Content-Disposition"] == f'attachment; filename="{resource}.csv"'
    reader = csv.DictReader(io.StringIO(body(response), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_exports_its_list_fields_without_claims_then_the_permalink(anon_client, resource) -> None:
    make = RESOURCES[resource]
    records = [make() for _ in range(3)]
    listed = anon_client.get(f"/api/v1/{resource}/", {"page_size": 100}).json()["results"]

    header, rows = export_csv(anon_client, resource)

    # Per-field claims and dispute resolutions stay in the JSON API (registry/api/export.py).
    assert header == [*(key for key in listed[0] if key not in EXPORT_OMITTED_FIELDS), "permalink"]
    assert sorted(row["slug"] for row in rows) == sorted(record.slug for record in records)
    assert {row["permalink"] for row in rows} == {
        f"http://testserver/api/v1/{resource}/{record.slug}/" for record in records
    }


def test_ngo_row_flattens_related_records_to_slugs(anon_client) -> None:
    sources = [factories.SourceFactory(slug="annual-report"), factories.SourceFactory(slug="mou-2019")]
    ngo = factories.NGOFactory(
        slug="safe-streets",
        name="Safe Streets",
        aliases=["SSF", "Safe Streets Foundation"],
        website="",
        jurisdiction=factories.JurisdictionFactory(slug="berlin"),
        sources=sources,
    )
    factories.NGOFactory(is_published=False)

    _, [row] = export_csv(anon_client, "ngos")

    assert row["slug"] == ngo.slug
    assert row["name"] == "Safe Streets"
    assert row["aliases"] == "SSF; Safe Streets Foundation"
    assert row["jurisdiction"] == "berlin"
    assert row["website"] == ""
    assert row["sources"] == "annual-report; mou-2019"
    assert row["disputed_fields"] == ""


def test_json_lines_keep_lists_and_the_same_keys(anon_client) -> None:
    factories.NGOFactory(aliases=["A", "B"], jurisdiction=factories.JurisdictionFactory(slug="paris"))
    response = anon_client.get("/api/v1/ngos/", {"format": "ndjson"})
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    [line] = body(response).splitlines()
    record = json.loads(line)
    assert record["aliases"] == ["A", "B"]
    assert record["jurisdiction"] == "paris"
    assert "claims" not in record
    assert list(record)[-1] == "permalink"


def test_export_takes_the_filters(anon_client) -> None:
    wanted = factories.LegalInstrumentFactory(year=2016)
    factories.LegalInstrumentFactory(year=1990)
    _, rows = export_csv(anon_client, "legal-instruments", year_min="2000")
    assert [row["slug"] for row in rows] == [wanted.slug]


def test_export_neutralises_formulas(anon_client) -> None:
    factories.NGOFactory(name='=HYPERLINK("http://evil.example","click")')
    _, [row] = export_csv(anon_client, "ngos")
    assert row["name"] == '\'=HYPERLINK("http://evil.example","click")'


def test_export_queries_do_not_grow_with_rows(anon_client) -> None:
    def queries_for_export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            _, rows = export_csv(anon_client, "ngos")
        return len(rows), len(queries)

    for _ in range(3):
        factories.NGOFactory(sources=[factories.SourceFactory(), factories.SourceFactory()])
    rows_3, queries_3 = queries_for_export()
    for _ in range(27):
        factories.NGOFactory(sources=[factories.SourceFactory(), factories.SourceFactory()])
    rows_30, queries_30 = queries_for_export()
    assert (rows_3, rows_30) == (3, 30)
    assert queries_30 == queries_3


def test_export_refuses_pagination_parameters(anon_client) -> None:
    response = anon_client.get("/api/v1/ngos/", {"format": "csv", "page_size": "5"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "page_size"


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_answers_304_to_a_current_etag(anon_client, resource) -> None:
    record = RESOURCES[resource]()
    for url in (f"/api/v1/{resource}/", f"/api/v1/{resource}/{record.slug}/"):
        first = anon_client.get(url)
        assert first.status_code == 200
        assert first["ETag"].startswith('W/"')
        assert first["Last-Modified"]
        again = anon_client.get(url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304
        assert again.content == b""


@pytest.mark.parametrize("resource", [name for name in RESOURCES if name != "sources"])
def test_a_source_cited_changes_the_record_and_list_etags(anon_client, resource) -> None:
    record = RESOURCES[resource]()
    detail, listing = f"/api/v1/{resource}/{record.slug}/", f"/api/v1/{resource}/"
    before = anon_client.get(detail)["ETag"], anon_client.get(listing)["ETag"]

    record_source_add(record=record, source=factories.SourceFactory())

    after = anon_client.get(detail, headers={"If-None-Match": before[0]})
    assert after.status_code == 200
    assert after["ETag"] != before[0]
    assert anon_client.get(listing)["ETag"] != before[1]


def test_schema_documents_exports_and_conditional_requests_of_every_resource(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for resource in RESOURCES:
        listing = schema["paths"][f"/api/v1/{resource}/"]["get"]
        assert set(listing["responses"]["200"]["content"]) == {"application/json", "text/csv", "application/x-ndjson"}
        assert "304" in listing["responses"]
        names = {parameter["name"] for parameter in listing["parameters"]}
        assert {"format", "If-None-Match", "If-Modified-Since"} <= names
        detail = schema["paths"][f"/api/v1/{resource}/{{slug}}/"]["get"]
        assert "304" in detail["responses"]
