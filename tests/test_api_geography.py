"""Jurisdictions in the API: the pinned shape with ancestors and the law in force, the tree filters."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geography.models import JurisdictionLevel
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/jurisdictions/"


def slugs(client: Any, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def uk_tree() -> tuple[Any, Any, Any]:
    uk = factories.JurisdictionFactory(slug="united-kingdom", name="United Kingdom", country__code="GB")
    england = factories.JurisdictionFactory(
        slug="england", name="England", level=JurisdictionLevel.SUBNATIONAL, parent=uk, country=uk.country
    )
    london = factories.JurisdictionFactory(
        slug="london", name="London", level=JurisdictionLevel.CITY, parent=england, country=uk.country
    )
    return uk, england, london


def test_jurisdiction_detail_whole_response(anon_client) -> None:
    uk, england, _ = uk_tree()
    gdpr = factories.LegalInstrumentFactory(
        slug="uk-gdpr", short_name="UK GDPR", title="UK General Data Protection Regulation", jurisdiction=uk
    )
    factories.LegalInstrumentFactory(jurisdiction=uk, is_published=False)
    factories.LegalInstrumentFactory(jurisdiction=uk, in_force_to=datetime.date(2001, 1, 1), year=1990)
    factories.LegalInstrumentFactory(jurisdiction=factories.JurisdictionFactory())  # elsewhere

    response = anon_client.get(f"{LIST_URL}london/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "london",
        "name": "London",
        "level": "city",
        "parent": "england",
        "country": "GB",
        "subdivision_code": "",
        "ancestors": [
            {"slug": "england", "name": "England", "level": "subnational", "country": "GB"},
            {"slug": "united-kingdom", "name": "United Kingdom", "level": "national", "country": "GB"},
            {"slug": "international", "name": "International", "level": "international", "country": None},
        ],
        "applicable_instruments": [
            {
                "slug": "uk-gdpr",
                "short_name": "UK GDPR",
                "title": "UK General Data Protection Regulation",
                "kind": "statute",
                "jurisdiction": "united-kingdom",
                "official_url": None,
            }
        ],
    }
    assert gdpr.jurisdiction == uk
    assert england.parent == uk


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(anon_client) -> None:
    for _ in range(3):
        uk_tree_parent = factories.JurisdictionFactory()
        for _ in range(3):
            factories.JurisdictionFactory(parent=uk_tree_parent, level=JurisdictionLevel.SUBNATIONAL)
    assert count_queries(anon_client, f"{LIST_URL}?page_size=5") == count_queries(
        anon_client, f"{LIST_URL}?page_size=50"
    )


def test_detail_query_count_does_not_grow_with_depth_or_law(anon_client) -> None:
    uk, _, london = uk_tree()
    for _ in range(4):
        factories.LegalInstrumentFactory(jurisdiction=uk)
    assert count_queries(anon_client, f"{LIST_URL}united-kingdom/") == count_queries(anon_client, f"{LIST_URL}london/")
    assert london.parent is not None


def test_filters_level_country_parent_and_below(anon_client) -> None:
    uk_tree()
    factories.JurisdictionFactory(slug="france", country__code="FR", country__slug="france")
    assert slugs(anon_client, f"{LIST_URL}?level=city") == ["london"]
    assert slugs(anon_client, f"{LIST_URL}?country=GB") == ["england", "london", "united-kingdom"]
    assert slugs(anon_client, f"{LIST_URL}?country=france") == ["france"]
    assert slugs(anon_client, f"{LIST_URL}?parent=united-kingdom") == ["england"]
    assert slugs(anon_client, f"{LIST_URL}?below=united-kingdom") == ["england", "london"]
    assert slugs(anon_client, f"{LIST_URL}?below=international") == ["england", "france", "london", "united-kingdom"]


def test_subdivision_code_filter(anon_client) -> None:
    us = factories.JurisdictionFactory(slug="usa", country__code="US")
    factories.JurisdictionFactory(
        slug="california", level=JurisdictionLevel.SUBNATIONAL, parent=us, country=us.country, subdivision_code="US-CA"
    )
    assert slugs(anon_client, f"{LIST_URL}?subdivision_code=us-ca") == ["california"]


@pytest.mark.parametrize("query", ["name=London", "below=atlantis", "level=planet"])
def test_unknown_or_invalid_filters_answer_400(anon_client, query: str) -> None:
    factories.JurisdictionFactory()
    response = anon_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == query.split("=")[0]


def test_unknown_jurisdiction_is_404(anon_client) -> None:
    assert anon_client.get(f"{LIST_URL}atlantis/").status_code == 404
