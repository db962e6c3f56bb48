"""Regions, countries and focus areas in the API: pinned shapes, constant query counts, slugs as addresses."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db


def get_json(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_region_list_and_detail(anon_client) -> None:
    factories.RegionFactory(slug="europe", name="Europe", description="The continent.")
    row = {"slug": "europe", "name": "Europe", "description": "The continent."}
    assert get_json(anon_client, "/api/v1/regions/") == {"next": None, "previous": None, "results": [row]}
    assert get_json(anon_client, "/api/v1/regions/europe/") == row


def test_country_detail(anon_client) -> None:
    europe = factories.RegionFactory(slug="europe")
    factories.CountryFactory(code="GB", slug="united-kingdom", name="United Kingdom", region=europe)
    assert get_json(anon_client, "/api/v1/countries/united-kingdom/") == {
        "slug": "united-kingdom",
        "code": "GB",
        "name": "United Kingdom",
        "region": "europe",
    }


def test_focus_area_detail(anon_client) -> None:
    factories.FocusAreaFactory(slug="domestic-violence", name="Domestic Violence", description="Abuse at home.")
    assert get_json(anon_client, "/api/v1/focus-areas/domestic-violence/") == {
        "slug": "domestic-violence",
        "name": "Domestic Violence",
        "description": "Abuse at home.",
    }


@pytest.mark.parametrize("resource", ["regions", "countries", "focus-areas"])
def test_list_query_count_does_not_grow_with_page_size(anon_client, resource: str) -> None:
    for code in factories.COUNTRY_CODES[:7]:
        factories.CountryFactory(code=code)
        factories.FocusAreaFactory()

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            get_json(anon_client, f"/api/v1/{resource}/?page_size={page_size}")
        return len(queries)

    assert count(5) == count(50)


@pytest.mark.parametrize("resource", ["regions", "countries", "focus-areas"])
def test_unknown_filter_is_refused_on_every_resource(anon_client, resource: str) -> None:
    response = anon_client.get(f"/api/v1/{resource}/?name=x")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "name"


def test_api_root_lists_the_resources(anon_client) -> None:
    root = get_json(anon_client, "/api/v1/")
    assert set(root) >= {
        "partnerships",
        "regions",
        "countries",
        "focus-areas",
        "jurisdictions",
        "ngos",
        "police-departments",
        "surveillance-practices",
        "accountability-mechanisms",
        "legal-instruments",
        "oversight-bodies",
        "cases",
        "sources",
        "objectives",
        "challenges",
        "stakeholder-groups",
    }
    assert root["partnerships"] == "http://testserver/api/v1/partnerships/"
