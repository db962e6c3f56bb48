"""The partnership pages in a browser's terms: a faceted list whose address holds every choice (the API's
filter names), htmx swapping only the browse area, and a record page with every field, disputes side by
side, the accountability checklist, applicable law, cases, sources, history and a citation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import AssessmentStatus, DataSharing
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/partnerships/"


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_csp_safe(page: str) -> None:
    assert 'style="' not in page
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script"
    assert not re.search(r"\son[a-z]+=", page), "inline event handler"


@pytest.fixture
def world(db) -> dict[str, Any]:
    europe = factories.RegionFactory(slug="europe", name="Europe")
    asia = factories.RegionFactory(slug="asia", name="Asia")
    trafficking = factories.FocusAreaFactory(slug="human-trafficking", name="Human Trafficking")
    youth = factories.FocusAreaFactory(slug="youth", name="Youth")
    strada = factories.PartnershipFactory(
        name="La Strada & Met Police", region=europe, focus_areas=[trafficking], data_sharing=DataSharing.CASE_LEVEL
    )
    factories.PartnershipFactory(name="Berlin Youth Watch", region=europe, focus_areas=[youth])
    factories.PartnershipFactory(name="Delhi Helpline", region=asia, focus_areas=[trafficking])
    factories.PartnershipFactory(name="Hidden draft", region=europe, is_published=False)
    return {"europe": europe, "asia": asia, "trafficking": trafficking, "strada": strada}


def row_names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/partnerships/[^"]+/">([^<]+)</a>', page)


def test_list_shows_published_partnerships_by_name(anon_client, world) -> None:
    page = html(anon_client.get(LIST))
    assert row_names(page) == ["Berlin Youth Watch", "Delhi Helpline", "La Strada &amp; Met Police"]
    assert "3 partnerships" in page
    assert_csp_safe(page)


def test_filters_are_the_api_parameters_and_combine(anon_client, world) -> None:
    page = html(anon_client.get(LIST, {"region": "europe", "focus_area": "human-trafficking"}))
    assert row_names(page) == ["La Strada &amp; Met Police"]
    assert "1 partnership matching" in page


def test_facets_count_what_each_choice_would_give(anon_client, world) -> None:
    page = html(anon_client.get(LIST, {"region": "europe"}))
    # The region facet ignores the region chosen (so the other regions stay reachable); the others follow it.
    assert '<option value="europe" selected>Europe (2)</option>' in page
    assert '<option value="asia">Asia (1)</option>' in page
    assert '<option value="human-trafficking">Human Trafficking (1)</option>' in page
    assert '<option value="youth">Youth (1)</option>' in page


def test_search_and_sort(anon_client, world) -> None:
    assert row_names(html(anon_client.get(LIST, {"q": "strada"}))) == ["La Strada &amp; Met Police"]
    names = row_names(html(anon_client.get(LIST, {"ordering": "-name"})))
    assert names == ["La Strada &amp; Met Police", "Delhi Helpline", "Berlin Youth Watch"]


def test_empty_form_fields_are_ignored_like_a_plain_form_submit(anon_client, world) -> None:
    page = html(anon_client.get(LIST, {"q": "", "region": "europe", "country": "", "year_min": ""}))
    assert len(row_names(page)) == 2


def test_the_same_view_as_csv_json_and_feed_keeps_the_filters(anon_client, world) -> None:
    page = html(anon_client.get(LIST, {"region": "europe", "q": "", "page": "1"}))
    assert 'href="/api/v1/partnerships/?region=europe&amp;format=csv"' in page
    assert 'href="/api/v1/partnerships/?region=europe"' in page
    assert 'href="/feeds/partnerships/?region=europe"' in page
    csv = anon_client.get("/api/v1/partnerships/", {"region": "europe", "format": "csv"})
    assert csv.status_code == 200


@pytest.mark.parametrize(
    "params", [{"bogus": "1"}, {"region": "atlantis"}, {"year_min": "-1"}, {"region": "europe\x00"}]
)
def test_bad_parameters_answer_400_naming_them(anon_client, world, params: dict[str, str]) -> None:
    response = anon_client.get(LIST, params)
    assert response.status_code == 400
    page = response.content.decode()
    name = next(iter(params))
    assert f"<code>{name}</code>" in page


def test_htmx_gets_only_the_browse_area(anon_client, world) -> None:
    response = anon_client.get(LIST, {"region": "asia"}, headers={"HX-Request": "true"})
    page = html(response)
    assert page.lstrip().startswith('<div id="browse"')
    assert "<html" not in page
    assert row_names(page) == ["Delhi Helpline"]
    assert "HX-Request" in response["Vary"]
    full = html(anon_client.get(LIST, {"region": "asia"}))
    assert '<div id="browse"' in full
    assert "<html" in full


def test_facet_counts_are_cached_for_a_minute_and_results_are_live(anon_client, world) -> None:
    cold = list_queries(anon_client, {"region": "asia"})
    factories.PartnershipFactory(name="Seoul Watch", region=world["asia"])
    with CaptureQueriesContext(connection) as warm:
        page = html(anon_client.get(LIST, {"region": "asia"}))
    assert "Seoul Watch" in page  # the results are read live
    assert '<option value="asia" selected>Asia (1)</option>' in page  # the counts are from the cache
    assert len(warm) <= cold - 7  # one GROUP BY per facet saved
    cache.clear()
    assert '<option value="asia" selected>Asia (2)</option>' in html(anon_client.get(LIST, {"region": "asia"}))


def test_pages_of_25(anon_client, world) -> None:
    for n in range(30):
        factories.PartnershipFactory(name=f"Zeta {n:02d}", region=world["asia"])
    first = html(anon_client.get(LIST, {"region": "asia"}))
    assert len(row_names(first)) == 25
    assert "Page 1 of 2" in first
    assert 'href="?region=asia&amp;page=2"' in first
    second = html(anon_client.get(LIST, {"region": "asia", "page": "2"}))
    assert len(row_names(second)) == 6


def list_queries(client: Any, params: dict[str, str] | None = None) -> int:
    cache.clear()  # the facet counts are cached: measure the page as its first reader gets it
    with CaptureQueriesContext(connection) as queries:
        html(client.get(LIST, params or {"region": "europe"}))
    return len(queries)


def test_list_queries_do_not_grow_with_rows(anon_client, world) -> None:
    before = list_queries(anon_client)
    for n in range(20):
        practice = factories.SurveillancePracticeFactory()
        partnership = factories.PartnershipFactory(
            name=f"More {n}", region=world["europe"], focus_areas=[world["trafficking"]]
        )
        partnership.surveillance_practices.add(practice)
    assert list_queries(anon_client) == before


# --- The record page -------------------------------------------------------------------------------------


@pytest.fixture
def disputed(world) -> Any:
    partnership = world["strada"]
    table_1 = factories.SourceFactory(title="Table 1 of the seed")
    table_2 = factories.SourceFactory(title="Table 2 of the seed")
    claim_add(record=partnership, field="year_established", value="2018", source=table_1, locator="Table 1")
    claim_add(record=partnership, field="year_established", value="1995", source=table_2, locator="Table 2")
    return partnership


def test_disputed_years_are_shown_side_by_side_with_their_sources(anon_client, disputed) -> None:
    page = html(anon_client.get(f"{LIST}{disputed.slug}/"))
    assert "disputed: 1995 or 2018" in page
    block = page[page.index('id="claim-year_established"') :]
    block = block[: block.index("</section>")]
    assert "<strong>1995</strong>" in block
    assert "<strong>2018</strong>" in block
    assert block.index("1995") < block.index("Table 2 of the seed") < block.index("2018")
    assert block.index("2018") < block.index("Table 1 of the seed")
    assert_csp_safe(page)


def test_record_page_lists_the_nearest_law_and_links_to_all_of_it(anon_client, monkeypatch) -> None:
    """A jurisdiction can have hundreds of instruments: the page lists the nearest few and links to the rest."""
    monkeypatch.setattr("partnerships.views.LAW_ON_PAGE", 3)
    national = factories.JurisdictionFactory(name="Ruritania")
    city = factories.JurisdictionFactory(name="Strelsau", parent=national, country=national.country)
    partnership = factories.PartnershipFactory(jurisdiction=city)
    factories.LegalInstrumentFactory(short_name="City bylaw", jurisdiction=city)
    for name in ("Act A", "Act B", "Act C"):
        factories.LegalInstrumentFactory(short_name=name, jurisdiction=national)

    page = html(anon_client.get(f"{LIST}{partnership.slug}/"))
    law = page[page.index('id="law-heading"') : page.index('id="cases-heading"')]

    assert law.index("City bylaw") < law.index("Act A") < law.index("Act B")  # nearest first
    assert "Act C" not in law
    assert f'href="/legal/jurisdictions/{city.slug}/">all the law that applies in Strelsau</a>' in law
    # With room for all of them, no link.
    monkeypatch.setattr("partnerships.views.LAW_ON_PAGE", 4)
    cache.clear()
    page = html(anon_client.get(f"{LIST}{partnership.slug}/"))
    assert "Act C" in page
    assert "all the law that applies in" not in page


def test_record_page_shows_every_part(anon_client, disputed) -> None:
    oversight = factories.AccountabilityMechanismFactory(name="Independent oversight", position=1)
    factories.AccountabilityMechanismFactory(name="Transparency reports", position=2)
    factories.MechanismAssessmentFactory(
        partnership=disputed, mechanism=oversight, status=AssessmentStatus.ABSENT, note="No board exists."
    )
    law = factories.LegalInstrumentFactory(short_name="GDPR", jurisdiction=disputed.jurisdiction)
    case = factories.OverreachCaseFactory(title="Helpline data sent to police")
    case.partnerships.add(disputed)

    page = html(anon_client.get(f"{LIST}{disputed.slug}/"))

    assert "<h1>La Strada &amp; Met Police</h1>" in page
    assert re.search(r"Independent oversight</th>\s*<td><span class=\"status status-absent\">Absent", page)
    assert "No board exists." in page
    assert re.search(r"Transparency reports</th>\s*<td><span class=\"status status-unknown\">Unknown", page)
    assert f'href="/legal/instruments/{law.slug}/">GDPR</a>' in page
    assert f'href="/cases/{case.slug}/">Helpline data sent to police</a>' in page
    assert "What changed when" in page
    assert "Claim added: year established" in page
    assert "@misc{partnershipregistry-partnerships-" in page
    assert f"http://testserver/partnerships/{disputed.slug}/" in page
    assert f'href="/api/v1/partnerships/{disputed.slug}/"' in page


def test_unpublished_or_unknown_partnership_is_404(anon_client, world) -> None:
    assert anon_client.get(f"{LIST}hidden-draft-nope/").status_code == 404
    draft = factories.PartnershipFactory(is_published=False)
    response = anon_client.get(f"{LIST}{draft.slug}/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_record_page_takes_no_query_parameters(anon_client, disputed) -> None:
    response = anon_client.get(f"{LIST}{disputed.slug}/", {"region": "europe"})
    assert response.status_code == 400
    assert "<code>region</code>" in response.content.decode()


def detail_queries(client: Any, slug: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        html(client.get(f"{LIST}{slug}/"))
    return len(queries)


def test_record_page_queries_do_not_grow_with_related_rows(anon_client, disputed) -> None:
    before = detail_queries(anon_client, disputed.slug)
    for n in range(5):
        source = factories.SourceFactory()
        claim_add(record=disputed, field="name", value=f"Name {n}", source=source)
        disputed.ngos.add(factories.NGOFactory())
        disputed.focus_areas.add(factories.FocusAreaFactory())
        factories.MechanismAssessmentFactory(partnership=disputed)
        factories.OverreachCaseFactory().partnerships.add(disputed)
    assert detail_queries(anon_client, disputed.slug) == before


def test_pages_carry_a_strict_content_security_policy(anon_client, world) -> None:
    response = anon_client.get(LIST)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
