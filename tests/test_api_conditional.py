"""Conditional requests on partnerships: ETag and Last-Modified on lists and records, a cheap 304 when the
client's copy is current, and a new ETag whenever what the response shows changes (a claim added included)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from partnerships.models import Partnership, PartnershipStatus
from provenance.services import claim_add, m2m_set, record_upsert
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def detail_url(slug: str) -> str:
    return f"{LIST_URL}{slug}/"


def fetch(client: Any, url: str, params: dict[str, str] | None = None, **headers: str) -> Any:
    return client.get(url, params or {}, headers=headers)


def etag_of(client: Any, url: str, params: dict[str, str] | None = None) -> str:
    response = fetch(client, url, params)
    assert response.status_code == 200, response.content
    assert response["ETag"].startswith('W/"')
    return str(response["ETag"])


def data_queries(queries: CaptureQueriesContext) -> list[str]:
    """Queries of the registry's data (not the throttle's cache, not the history context, not savepoints)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if "registry_cache" not in q["sql"] and "set_config('pghistory" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.mark.parametrize("kind", ["list", "detail"])
def test_matching_etag_answers_304_with_no_body_and_few_queries(anon_client, partnership, kind: str) -> None:
    factories.ClaimFactory(partnership=partnership)
    url = LIST_URL if kind == "list" else detail_url(partnership.slug)
    first = fetch(anon_client, url)
    assert first.status_code == 200
    assert first["Last-Modified"]

    with CaptureQueriesContext(connection) as queries:
        again = fetch(anon_client, url, If_None_Match=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    # The version only, in one query (list: the newest events of each table; detail: its own events).
    assert len(data_queries(queries)) == 1, "\n".join(q[:200] for q in data_queries(queries))


def test_weak_comparison_and_lists_of_etags(anon_client, partnership) -> None:
    etag = etag_of(anon_client, detail_url(partnership.slug))
    strong = etag.removeprefix("W/")
    assert fetch(anon_client, detail_url(partnership.slug), If_None_Match=strong).status_code == 304
    both = f'"other", {etag}'
    assert fetch(anon_client, detail_url(partnership.slug), If_None_Match=both).status_code == 304
    assert fetch(anon_client, detail_url(partnership.slug), If_None_Match='"other"').status_code == 200


def test_detail_etag_changes_when_the_record_changes(anon_client, partnership) -> None:
    before = etag_of(anon_client, detail_url(partnership.slug))
    record_upsert(model=Partnership, lookup={"pk": partnership.pk}, values={"name": "Renamed"})

    response = fetch(anon_client, detail_url(partnership.slug), If_None_Match=before)

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response["ETag"] != before


def test_detail_etag_changes_when_a_claim_is_added_without_touching_the_record(anon_client, partnership) -> None:
    before = etag_of(anon_client, detail_url(partnership.slug))
    updated_at = Partnership.objects.get(pk=partnership.pk).updated_at
    # Agrees with the record: its status and updated_at stay as they are.
    claim_add(record=partnership, field="year_established", value="2015", source=partnership.sources.get())
    assert Partnership.objects.get(pk=partnership.pk).updated_at == updated_at

    response = fetch(anon_client, detail_url(partnership.slug), If_None_Match=before)

    assert response.status_code == 200
    assert [claim["value"] for claim in response.json()["claims"]] == ["2015"]
    assert response["ETag"] != before


@pytest.mark.parametrize("change", ["ngo renamed", "ngo linked", "assessment added"])
def test_detail_etag_changes_with_what_the_record_shows(anon_client, partnership, change: str) -> None:
    before = etag_of(anon_client, detail_url(partnership.slug))
    if change == "ngo renamed":
        ngo = partnership.ngos.get()
        record_upsert(model=type(ngo), lookup={"pk": ngo.pk}, values={"name": "New name"})
    elif change == "ngo linked":
        m2m_set(obj=partnership, field="ngos", targets=[*partnership.ngos.all(), factories.NGOFactory()])
    else:
        factories.MechanismAssessmentFactory(partnership=partnership)
    assert fetch(anon_client, detail_url(partnership.slug), If_None_Match=before).status_code == 200


def test_list_etag_changes_when_a_listed_record_or_its_claims_change(anon_client, partnership) -> None:
    before = etag_of(anon_client, LIST_URL)
    claim_add(record=partnership, field="year_established", value="2015", source=partnership.sources.get())
    after_claim = fetch(anon_client, LIST_URL, If_None_Match=before)
    assert after_claim.status_code == 200

    factories.PartnershipFactory()
    after_new = fetch(anon_client, LIST_URL, If_None_Match=after_claim["ETag"])
    assert after_new.status_code == 200
    assert len(after_new.json()["results"]) == 2


def test_list_etag_depends_on_the_filters_and_the_page(anon_client, partnership) -> None:
    etags = {
        etag_of(anon_client, LIST_URL),
        etag_of(anon_client, LIST_URL, {"status": PartnershipStatus.UNKNOWN}),
        etag_of(anon_client, LIST_URL, {"page_size": "10"}),
        etag_of(anon_client, LIST_URL, {"format": "csv"}),
    }
    assert len(etags) == 4


def test_export_answers_304_too(anon_client, partnership) -> None:
    first = anon_client.get(LIST_URL, {"format": "csv"})
    assert first.status_code == 200
    again = anon_client.get(LIST_URL, {"format": "csv"}, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_if_modified_since(anon_client, partnership) -> None:
    url = detail_url(partnership.slug)
    last_modified = fetch(anon_client, url)["Last-Modified"]
    assert last_modified == http_date(Partnership.objects.get(pk=partnership.pk).updated_at.timestamp())
    assert fetch(anon_client, url, If_Modified_Since=last_modified).status_code == 304
    earlier = http_date((partnership.updated_at - timedelta(hours=1)).timestamp())
    assert fetch(anon_client, url, If_Modified_Since=earlier).status_code == 200
    # If-None-Match takes precedence over If-Modified-Since.
    assert fetch(anon_client, url, If_Modified_Since=last_modified, If_None_Match='"other"').status_code == 200


def test_list_if_modified_since(anon_client, partnership) -> None:
    last_modified = fetch(anon_client, LIST_URL)["Last-Modified"]
    assert fetch(anon_client, LIST_URL, If_Modified_Since=last_modified).status_code == 304


def test_unpublished_record_is_404_whatever_the_validators(anon_client) -> None:
    draft = factories.PartnershipFactory(is_published=False)
    response = fetch(anon_client, detail_url(draft.slug), If_None_Match="*")
    assert response.status_code == 404
    assert "ETag" not in response


def test_schema_documents_the_conditional_headers(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v1/partnerships/", "/api/v1/partnerships/{slug}/"):
        operation = schema["paths"][path]["get"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"If-None-Match", "If-Modified-Since"}
        assert "304" in operation["responses"]
