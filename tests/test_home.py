"""The home page: what the registry is, its key figures, charts with the same numbers as tables, the latest changes
and the ways in; published records only, in a fixed number of queries, its aggregates cached for a minute."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerships.models import AssessmentStatus, Partnership
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


def page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def chart_table(html: str, chart_id: str) -> str:
    """The HTML of one chart (figure, graphic and data table), found by its id."""
    match = re.search(rf'<figure class="chart[^"]*" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(1)


def rows(html: str) -> list[list[str]]:
    """The table rows of ``html`` as lists of cell texts (tags removed)."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        out.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return out


def assert_csp_clean(html: str) -> None:
    assert 'style="' not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_home_shows_figures_and_marks_disputed_partnerships(anon_client):
    p = factories.PartnershipFactory(name="Safe Horizon & NYPD", year_established=2001)
    claim_add(record=p, field="year_established", value="2016", source=factories.SourceFactory())
    claim_add(record=p, field="year_established", value="2001", source=factories.SourceFactory())
    factories.PartnershipFactory(name="Cure Violence & Chicago PD")
    factories.PartnershipFactory(name="Hidden draft", is_published=False)
    factories.OverreachCaseFactory()
    factories.OverreachCaseFactory(is_published=False)
    factories.LegalInstrumentFactory()

    html = page(anon_client)

    assert "<h1>Partnership Registry</h1>" in html
    assert "Safe Horizon &amp; NYPD" in html
    assert "Hidden draft" not in html
    figures = {
        label.strip(): number for number, label in re.findall(r"<strong>([\d,]+)</strong>\s*([a-z ]+)</a>", html)
    }
    # Two published partnerships, in two countries; one published case; the instrument; one disputed record.
    assert figures == {
        "partnerships": "2",
        "countries": "2",
        "overreach cases": "1",
        "legal instruments": "1",
        "disputed partnerships": "1",
    }
    assert 'href="/partnerships/?verification_status=disputed"' in html
    latest = rows(html.split('class="home-latest"')[1])
    safe_horizon = next(row for row in latest if "Safe Horizon & NYPD" in " ".join(row).replace("&amp;", "&"))
    assert "2001 disputed" in " ".join(safe_horizon)
    assert safe_horizon[-1] == "Disputed"  # the verification badge


def test_charts_count_published_partnerships_and_link_to_the_filtered_list(anon_client):
    europe = factories.RegionFactory(name="Europe", slug="europe")
    asia = factories.RegionFactory(name="Asia", slug="asia")
    victims = factories.FocusAreaFactory(name="Victim support", slug="victim-support")
    practice = factories.SurveillancePracticeFactory(name="Predictive policing", slug="predictive-policing")
    oversight = factories.AccountabilityMechanismFactory(name="Independent oversight", slug="independent-oversight")
    shown = [
        factories.PartnershipFactory(region=europe, year_established=2001, focus_areas=[victims]),
        factories.PartnershipFactory(region=europe, year_established=2003, focus_areas=[victims]),
        factories.PartnershipFactory(region=asia, year_established=2003),
    ]
    shown[0].surveillance_practices.add(practice)
    factories.MechanismAssessmentFactory(partnership=shown[0], mechanism=oversight, status=AssessmentStatus.PRESENT)
    factories.MechanismAssessmentFactory(partnership=shown[1], mechanism=oversight, status=AssessmentStatus.ABSENT)
    draft = factories.PartnershipFactory(region=asia, year_established=1990, focus_areas=[victims], is_published=False)
    draft.surveillance_practices.add(practice)
    factories.MechanismAssessmentFactory(partnership=draft, mechanism=oversight, status=AssessmentStatus.PRESENT)
    factories.PartnershipFactory(region=asia, year_established=None)

    html = page(anon_client)

    years = chart_table(html, "chart-years")
    assert rows(years)[1:4] == [["2001", "1"], ["2002", "0"], ["2003", "2"]]  # the draft's 1990 is not there
    assert "1 partnership with no known founding year is not shown" in html
    regions = chart_table(html, "chart-regions")
    assert ["Europe", "2"] in rows(regions)
    assert ["Asia", "2"] in rows(regions)  # one with a year, one without; not the draft
    assert 'href="/partnerships/?region=europe"' in regions
    focus = chart_table(html, "chart-focus-areas")
    assert ["Victim support", "2"] in rows(focus)
    assert 'href="/partnerships/?focus_area=victim-support"' in focus
    practices = chart_table(html, "chart-practices")
    assert ["Predictive policing", "1"] in rows(practices)
    assert 'href="/partnerships/?surveillance_practice=predictive-policing"' in practices
    assert "<tfoot>" not in practices  # a partnership may use several practices: no total is claimed
    mechanisms = chart_table(html, "chart-mechanisms")
    assert rows(mechanisms)[0] == ["Accountability mechanism", "Present", "Absent", "Unknown", "Total"]
    # Four published partnerships: one present, one absent, two never assessed (unknown). The draft is not counted.
    assert ["Independent oversight", "1", "1", "2", "4"] in rows(mechanisms)
    assert 'href="/partnerships/?mechanism_lacking=independent-oversight"' in html
    assert html.count("<svg") == 5
    assert_csp_clean(html)


def test_home_without_data_says_so(anon_client):
    html = page(anon_client)

    assert "No partnerships are published yet." in html
    assert html.count("No data yet") >= 5


def test_latest_changes_are_the_most_recently_changed_published_partnerships(anon_client):
    region = factories.RegionFactory()
    old = factories.PartnershipFactory(name="Old partnership", slug="old-partnership", region=region)
    for n in range(21):
        factories.PartnershipFactory(name=f"Recent {n}", region=region)
    factories.PartnershipFactory(name="Draft partnership", is_published=False)
    changed = timezone.now() + datetime.timedelta(minutes=5)
    Partnership.objects.filter(pk=old.pk).update(updated_at=changed)

    html = page(anon_client)

    latest = html.split('class="home-latest"')[1].split("</table>")[0]
    names = re.findall(r'<a href="/partnerships/[^"]+/">([^<]+)</a>', latest)
    assert len(names) == 20
    assert names[0] == "Old partnership"  # changed last, so first
    assert "Recent 0" not in names
    assert "Recent 1" not in names
    assert "Draft partnership" not in html
    assert '<a href="/partnerships/old-partnership/">Old partnership</a>' in latest
    assert f'<time datetime="{timezone.localtime(changed).isoformat()}' in latest


def test_home_links_to_every_way_in(anon_client):
    factories.RegionFactory(name="North America", slug="north-america")

    html = page(anon_client)

    for href in (
        "/partnerships/",
        "/legal/",
        "/cases/",
        "/map/",
        "/api/v1/docs/",
        "/feeds/changes/",
        "/partnerships/?region=north-america",
    ):
        assert f'href="{href}"' in html, href
    assert "css/charts.css" in html


def test_figures_are_cached_for_a_minute(anon_client):
    factories.PartnershipFactory()
    assert "<strong>1</strong> partnerships" in page(anon_client)

    factories.PartnershipFactory(name="Brand new")

    html = page(anon_client)
    assert "<strong>1</strong> partnerships" in html  # figures from the cache
    assert "Brand new" in html  # the latest changes are read fresh
    cache.clear()  # as when the minute is over
    assert "<strong>2</strong> partnerships" in page(anon_client)


def seed_rows(n: int) -> None:
    region = factories.RegionFactory()
    focus = factories.FocusAreaFactory()
    practice = factories.SurveillancePracticeFactory()
    mechanism = factories.AccountabilityMechanismFactory()
    for i in range(n):
        p = factories.PartnershipFactory(region=region, focus_areas=[focus], year_established=2000 + i)
        p.surveillance_practices.add(practice)
        factories.MechanismAssessmentFactory(partnership=p, mechanism=mechanism)
    factories.OverreachCaseFactory()
    factories.LegalInstrumentFactory()


def test_home_query_count_does_not_grow_with_rows(anon_client):
    seed_rows(2)
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        page(anon_client)
    seed_rows(6)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        page(anon_client)
    with CaptureQueriesContext(connection) as cached:
        page(anon_client)

    assert len(many) == len(few)
    assert len(cached) < len(few) - 5  # the ten aggregate queries are not run again while cached
