"""The map page (/map/): a world map of published partnerships per country, each country with partnerships a link
to the list filtered to it, a legend, the map data's attribution, and a table of the same numbers; published
records only, in a fixed number of queries."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geography.models import JurisdictionLevel
from tests import factories

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def country(code: str, name: str):
    return factories.CountryFactory(code=code, name=name, slug=name.lower().replace(" ", "-"))


def map_page(client) -> str:
    response = client.get("/map/")
    assert response.status_code == 200
    return response.content.decode()


def table_rows(html: str) -> list[list[str]]:
    table = html.split('<h2 id="map-table">')[1].split("</table>")[0]
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        out.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return out


def test_map_shows_partnerships_per_country_with_links_legend_and_table(anon_client):
    uk = factories.JurisdictionFactory(name="United Kingdom", country=country("GB", "United Kingdom"))
    germany = factories.JurisdictionFactory(name="Germany", country=country("DE", "Germany"))
    monaco = factories.JurisdictionFactory(name="Monaco", country=country("MC", "Monaco"))
    france = factories.JurisdictionFactory(name="France", country=country("FR", "France"))
    factories.PartnershipFactory.create_batch(3, jurisdiction=uk)
    factories.PartnershipFactory(jurisdiction=germany)
    factories.PartnershipFactory(jurisdiction=monaco)
    factories.PartnershipFactory(jurisdiction=france, is_published=False)
    eu = factories.JurisdictionFactory(name="European Union", level=JurisdictionLevel.SUPRANATIONAL, country=None)
    factories.PartnershipFactory(jurisdiction=eu)

    html = map_page(anon_client)

    assert "<title>Map of partnerships per country · Partnership Registry</title>" in html
    assert "<h1>Map of partnerships per country</h1>" in html
    assert "6 partnerships in 3 countries" in html
    # The table: every country with partnerships, most first, linked to the list filtered by its code.
    assert table_rows(html)[1:] == [["United Kingdom", "3"], ["Germany", "1"], ["Monaco", "1"]]
    assert '<a href="/partnerships/?country=GB">United Kingdom</a>' in html
    assert "France" not in html.split('<h2 id="map-table">')[1]  # only a draft there
    assert "1 partnership operates in a jurisdiction above the national level" in html
    # The map: well-formed SVG, countries with partnerships are links, every country labelled, a microstate
    # (Monaco) reachable as a link too; a country with only a draft is not a link.
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))  # noqa: S314 - our own page
    links = {a.get("href"): a.get("aria-label") for a in svg.iter(f"{SVG}a")}
    assert links == {
        "/partnerships/?country=GB": "United Kingdom: 3 partnerships",
        "/partnerships/?country=DE": "Germany: 1 partnership",
        "/partnerships/?country=MC": "Monaco: 1 partnership",
    }
    assert "France: no partnerships" in html
    assert svg.find(f"{SVG}title").text == "Partnerships per country"
    # The legend and the attribution of the map data.
    legend = re.search(r'<ul class="map-legend".*?</ul>', html, re.S).group(0)
    assert "0 partnerships" in legend
    assert "3 partnerships" in legend
    assert "Natural Earth" in html
    assert "css/map.css" in html
    assert 'style="' not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html)


def test_map_without_partnerships_says_so(anon_client):
    factories.PartnershipFactory(is_published=False)

    html = map_page(anon_client)

    assert "No partnerships are published yet." in html
    assert '<a href="/partnerships/?country=' not in html


def test_map_query_count_does_not_grow_with_rows(anon_client):
    factories.PartnershipFactory()
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        map_page(anon_client)
    for code in ("NO", "SE", "PL", "AR", "NG"):  # not among the factory's own codes
        jurisdiction = factories.JurisdictionFactory(country=factories.CountryFactory(code=code))
        factories.PartnershipFactory.create_batch(2, jurisdiction=jurisdiction)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        html = map_page(anon_client)
    with CaptureQueriesContext(connection) as cached:
        map_page(anon_client)

    assert "11 partnerships in 6 countries" in html
    assert len(many) == len(few)
    assert len(cached) < len(few)  # the counts come from the cache for a minute
