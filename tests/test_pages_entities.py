"""Public pages of NGOs, police departments, surveillance practices and focus areas: alphabetical lists with the
number of published partnerships each is in, filtered by the API's FilterSets, and record pages listing what
relates to each, in a number of queries that does not grow with the rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships import entity_views
from partnerships.models import NGO, PartnershipStatus
from provenance.models import VerificationStatus
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

ORGANISATIONS = [
    # (URL prefix, factory, partnership factory argument, partnership list parameter, API prefix)
    ("/ngos/", factories.NGOFactory, "ngos", "ngo", "/api/v1/ngos/"),
    (
        "/police-departments/",
        factories.PoliceDepartmentFactory,
        "police_departments",
        "police_department",
        "/api/v1/police-departments/",
    ),
]


def assert_strict_csp_markup(html: str) -> None:
    """Nothing the Content-Security-Policy would block: no inline style or script, no handlers."""
    assert 'style="' not in html
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+=\"", html) is None


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert_strict_csp_markup(html)
    return html


# --- NGOs and police departments ------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_list_is_alphabetical_with_published_partnership_counts(
    anon_client, prefix, factory, relation, parameter, api
):
    zeta = factory(name="Zeta Organisation", slug="zeta")
    alpha = factory(name="Alpha Organisation", slug="alpha", aliases=["AO"])
    factory(name="Draft Organisation", is_published=False)
    factories.PartnershipFactory(**{relation: [alpha]})
    factories.PartnershipFactory(**{relation: [alpha]})
    factories.PartnershipFactory(**{relation: [alpha, zeta]}, is_published=False)

    html = text(anon_client.get(prefix))

    assert html.index("Alpha Organisation") < html.index("Zeta Organisation")
    assert "Draft Organisation" not in html
    assert "also AO" in html
    assert f'href="{prefix}alpha/"' in html
    # Two published partnerships for Alpha, linked to the filtered partnership list; none for Zeta.
    assert re.search(rf'href="/partnerships/\?{parameter}=alpha"[^>]*>2</a>', html)
    assert re.search(r'<td class="number">0</td>', html)
    assert f'href="{api}"' in html


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_list_filters_with_the_api_filterset(anon_client, prefix, factory, relation, parameter, api):
    uk = factories.JurisdictionFactory(country=factories.CountryFactory(code="GB", name="United Kingdom"))
    us = factories.JurisdictionFactory(country=factories.CountryFactory(code="US", name="United States"))
    factory(name="British Organisation", jurisdiction=uk)
    factory(name="American Organisation", jurisdiction=us)

    html = text(anon_client.get(prefix, {"country": "GB"}))

    assert "British Organisation" in html
    assert "American Organisation" not in html
    assert '<option value="GB" selected>United Kingdom</option>' in html
    # Empty fields of a submitted form are ignored.
    html = text(anon_client.get(prefix, {"country": "", "verification_status": "", "disputed": ""}))
    assert "British Organisation" in html
    assert "American Organisation" in html


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_list_keeps_filters_it_has_no_control_for(anon_client, prefix, factory, relation, parameter, api):
    cited = factories.SourceFactory(slug="the-report")
    factory(name="Cited Organisation", sources=[cited])
    factory(name="Other Organisation")

    html = text(anon_client.get(prefix, {"source": "the-report"}))

    assert "Cited Organisation" in html
    assert "Other Organisation" not in html
    assert '<input type="hidden" name="source" value="the-report">' in html
    assert "<code>source=the-report</code>" in html


@pytest.mark.parametrize("prefix", ["/ngos/", "/police-departments/", "/surveillance-practices/", "/sources/"])
@pytest.mark.parametrize("query", [{"colour": "red"}, {"verification_status": "excellent"}])
def test_list_with_unknown_parameter_or_value_is_a_400(anon_client, prefix, query):
    if prefix == "/sources/":
        query = {"kind": "excellent"} if "verification_status" in query else query
    response = anon_client.get(prefix, query)
    assert response.status_code == 400
    assert next(iter(query)) in response.content.decode()


def test_focus_area_list_with_any_parameter_but_page_is_a_400(anon_client):
    assert anon_client.get("/focus-areas/", {"region": "europe"}).status_code == 400
    assert anon_client.get("/focus-areas/", {"page": "1"}).status_code == 200


def test_list_is_paginated(anon_client, monkeypatch):
    monkeypatch.setattr(entity_views, "PAGE_SIZE", 2)
    for name in ["A one", "B two", "C three", "D four", "E five"]:
        factories.NGOFactory(name=name)

    first = text(anon_client.get("/ngos/"))
    second = text(anon_client.get("/ngos/", {"page": "2"}))

    assert "A one" in first
    assert "C three" not in first
    assert "C three" in second
    assert "A one" not in second
    assert "Page 2 of 3" in second
    assert 'href="?page=3"' in second
    assert 'href="?page=1"' in second
    # Counts are those of the rows on the page shown.
    factories.PartnershipFactory(ngos=[NGO.objects.get(name="D four")])
    assert re.search(r'href="/partnerships/\?ngo=[^"]+"[^>]*>1</a>', text(anon_client.get("/ngos/", {"page": "2"})))
    # Other parameters stay in the page links.
    filtered = text(anon_client.get("/ngos/", {"verification_status": "unverified", "page": "1"}))
    assert 'href="?verification_status=unverified&amp;page=2"' in filtered


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_page_shows_its_fields_partnerships_and_cases(
    anon_client, prefix, factory, relation, parameter, api
):
    london = factories.JurisdictionFactory(name="London", slug="london")
    org = factory(
        name="Safe Haven",
        slug="safe-haven",
        aliases=["SH", "Haven"],
        jurisdiction=london,
        website="https://safehaven.example.org/",
        description="Runs a helpline.",
    )
    europe = factories.RegionFactory(name="Europe")
    active = factories.PartnershipFactory(
        name="Haven & Met", slug="haven-met", region=europe, year_established=2001, **{relation: [org]}
    )
    ended = factories.PartnershipFactory(
        name="Haven & Kent",
        year_established=1999,
        year_ended=2004,
        status=PartnershipStatus.ENDED,
        verification_status=VerificationStatus.VERIFIED,
        **{relation: [org]},
    )
    factories.PartnershipFactory(name="Haven draft", is_published=False, **{relation: [org]})
    case = factories.OverreachCaseFactory(title="Helpline logs passed on", slug="helpline-logs", year=2019)
    case.partnerships.set([active])
    factories.OverreachCaseFactory(title="Unpublished case", is_published=False).partnerships.set([ended])

    html = text(anon_client.get(f"{prefix}safe-haven/"))

    assert "<h1>Safe Haven</h1>" in html
    assert "SH, Haven" in html
    assert '<a href="/legal/jurisdictions/london/">London</a>' in html
    assert '<a href="https://safehaven.example.org/" rel="external noopener noreferrer">' in html
    assert "Runs a helpline." in html
    assert '<a href="/partnerships/haven-met/">Haven &amp; Met</a>' in html
    assert "Europe" in html
    assert "1999\u20132004" in html  # an en dash
    assert "badge-verified" in html
    assert "Haven draft" not in html
    assert "2 published partnerships" in html
    assert f'href="/partnerships/?{parameter}=safe-haven"' in html
    assert '<a href="/cases/helpline-logs/">Helpline logs passed on</a>' in html
    assert "Unpublished case" not in html
    # The record footer: sources, history, citation, API link.
    assert "What changed when" in html
    assert "Cite this record" in html
    assert "http://testserver/" + prefix.strip("/") + "/safe-haven/" in html
    assert f'href="{api}safe-haven/"' in html


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_page_shows_claims_side_by_side(anon_client, prefix, factory, relation, parameter, api):
    org = factory(name="Disputed Org", slug="disputed-org")
    claim_add(record=org, field="website", value="https://a.example.org/", source=factories.SourceFactory())
    claim_add(record=org, field="website", value="https://b.example.org/", source=factories.SourceFactory())

    html = text(anon_client.get(f"{prefix}disputed-org/"))

    assert "sources disagree" in html
    assert "https://a.example.org/" in html
    assert "https://b.example.org/" in html


@pytest.mark.parametrize(("prefix", "factory", "relation", "parameter", "api"), ORGANISATIONS)
def test_organisation_page_404_for_unknown_or_unpublished(anon_client, prefix, factory, relation, parameter, api):
    factory(slug="hidden", is_published=False)
    assert anon_client.get(f"{prefix}nobody/").status_code == 404
    assert anon_client.get(f"{prefix}hidden/").status_code == 404


def test_record_page_with_unknown_parameter_is_a_400(anon_client):
    factories.NGOFactory(slug="known")
    assert anon_client.get("/ngos/known/", {"colour": "red"}).status_code == 400


def test_record_page_paginates_its_partnerships(anon_client, monkeypatch):
    monkeypatch.setattr(entity_views, "PAGE_SIZE", 2)
    ngo = factories.NGOFactory(slug="busy")
    for name in ["P1", "P2", "P3"]:
        factories.PartnershipFactory(name=name, ngos=[ngo])

    html = text(anon_client.get("/ngos/busy/", {"page": "2"}))

    assert "P3" in html
    assert "P1" not in html
    assert 'href="?page=1#partnerships-heading"' in html
    assert "3 published partnerships" in html


# --- Surveillance practices ------------------------------------------------------------------------------------


def test_practice_list_and_page(anon_client):
    practice = factories.SurveillancePracticeFactory(
        name="Predictive Policing",
        slug="predictive-policing",
        implementation="Scores from helpline data",
        concerns="Bias against minorities",
        description="Forecasting where crime will happen.",
    )
    factories.SurveillancePracticeFactory(name="Hidden practice", is_published=False)
    partnership = factories.PartnershipFactory(name="Data partnership", slug="data-partnership")
    partnership.surveillance_practices.set([practice])
    case = factories.OverreachCaseFactory(title="Scores leaked", slug="scores-leaked")
    case.surveillance_methods.set([practice])

    listing = text(anon_client.get("/surveillance-practices/"))
    assert '<a href="/surveillance-practices/predictive-policing/">Predictive Policing</a>' in listing
    assert "Bias against minorities" in listing
    assert re.search(r'href="/partnerships/\?surveillance_practice=predictive-policing"[^>]*>1</a>', listing)
    assert "Hidden practice" not in listing

    page = text(anon_client.get("/surveillance-practices/predictive-policing/"))
    assert "<h1>Predictive Policing</h1>" in page
    assert "Scores from helpline data" in page
    assert "Forecasting where crime will happen." in page
    assert '<a href="/partnerships/data-partnership/">Data partnership</a>' in page
    assert 'href="/partnerships/?surveillance_practice=predictive-policing"' in page
    assert '<a href="/cases/scores-leaked/">Scores leaked</a>' in page
    assert "Cite this record" in page
    assert 'href="/api/v1/surveillance-practices/predictive-policing/"' in page


def test_record_page_lists_the_most_recent_cases_and_links_the_rest(anon_client, monkeypatch):
    monkeypatch.setattr(entity_views, "CASES_LIMIT", 2)
    practice = factories.SurveillancePracticeFactory(slug="cctv")
    for year in (2019, 2021, 2020):
        factories.OverreachCaseFactory(title=f"Case of {year}", year=year).surveillance_methods.set([practice])

    html = text(anon_client.get("/surveillance-practices/cctv/"))

    assert "Case of 2021" in html
    assert "Case of 2020" in html
    assert "Case of 2019" not in html
    assert "3 in all; the 2 most recent are listed here" in html
    assert 'href="/cases/?surveillance_method=cctv"' in html


def test_practice_page_404_for_unknown_or_unpublished(anon_client):
    factories.SurveillancePracticeFactory(slug="hidden", is_published=False)
    assert anon_client.get("/surveillance-practices/nothing/").status_code == 404
    assert anon_client.get("/surveillance-practices/hidden/").status_code == 404


# --- Focus areas -----------------------------------------------------------------------------------------------


def test_focus_area_list_and_page(anon_client):
    dv = factories.FocusAreaFactory(name="Domestic Violence", slug="domestic-violence", description="Abuse at home.")
    factories.FocusAreaFactory(name="Child Protection", slug="child-protection")
    factories.PartnershipFactory(name="Helpline", slug="helpline", focus_areas=[dv])
    factories.PartnershipFactory(name="Draft", focus_areas=[dv], is_published=False)

    listing = text(anon_client.get("/focus-areas/"))
    assert listing.index("Child Protection") < listing.index("Domestic Violence")
    assert re.search(r'href="/partnerships/\?focus_area=domestic-violence"[^>]*>1</a>', listing)

    page = text(anon_client.get("/focus-areas/domestic-violence/"))
    assert "<h1>Domestic Violence</h1>" in page
    assert "Abuse at home." in page
    assert '<a href="/partnerships/helpline/">Helpline</a>' in page
    assert "Draft" not in page
    assert 'href="/partnerships/?focus_area=domestic-violence"' in page
    assert "What changed when" in page
    assert 'href="/api/v1/focus-areas/domestic-violence/"' in page
    # A focus area has no sources, claims or change date of its own: no provenance, no citation.
    assert "Cite this record" not in page


def test_focus_area_page_404_for_unknown_slug(anon_client):
    assert anon_client.get("/focus-areas/nothing/").status_code == 404


# --- Queries do not grow with the rows -------------------------------------------------------------------------


def seed(ngo, police, practice, focus):
    """One more published partnership with all four, its claims and sources, a case, more organisations."""
    partnership = factories.PartnershipFactory(ngos=[ngo, factories.NGOFactory()], police_departments=[police])
    partnership.focus_areas.add(focus)
    partnership.surveillance_practices.add(practice)
    claim_add(record=partnership, field="year_established", value="2010", source=factories.SourceFactory())
    for record in (ngo, police, practice):
        claim_add(record=record, field="name", value=record.name, source=factories.SourceFactory())
        record.sources.add(factories.SourceFactory())
    case = factories.OverreachCaseFactory()
    case.partnerships.add(partnership)
    case.surveillance_methods.add(practice)
    factories.PoliceDepartmentFactory()
    factories.SurveillancePracticeFactory()
    factories.FocusAreaFactory()


@pytest.mark.parametrize(
    "url",
    [
        "/ngos/",
        "/ngos/?country=GB",
        "/ngos/counted/",
        "/police-departments/",
        "/police-departments/counted/",
        "/surveillance-practices/",
        "/surveillance-practices/counted/",
        "/focus-areas/",
        "/focus-areas/counted/",
    ],
)
def test_query_count_does_not_grow_with_rows(anon_client, url):
    gb = factories.JurisdictionFactory(country=factories.CountryFactory(code="GB"))
    ngo = factories.NGOFactory(slug="counted", jurisdiction=gb)
    police = factories.PoliceDepartmentFactory(slug="counted", jurisdiction=gb)
    practice = factories.SurveillancePracticeFactory(slug="counted")
    focus = factories.FocusAreaFactory(slug="counted")
    seed(ngo, police, practice, focus)
    text(anon_client.get(url))  # warm: the first request may load content types and the like
    with CaptureQueriesContext(connection) as few:
        text(anon_client.get(url))
    for _ in range(4):
        seed(ngo, police, practice, focus)
    with CaptureQueriesContext(connection) as many:
        html = text(anon_client.get(url))
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    if url.endswith("counted/"):
        assert "5 published partnerships" in html
