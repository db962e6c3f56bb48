"""Public pages of the case studies: the list of published overreach cases (filtered by the API's
OverreachCaseFilter, paginated) and the case page (partnerships, surveillance methods, issues, who found it,
outcome, quotes with their sources, the law in force there at the time, provenance), in a number of queries
that does not grow with the rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import views as case_views
from cases.models import FinderKind
from geography.models import JurisdictionLevel
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


def assert_strict_csp_markup(html: str) -> None:
    """Nothing the Content-Security-Policy would block: no inline style or script, no handlers."""
    assert 'style="' not in html
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+=\"", html) is None


def page(client, url: str, params: dict[str, str] | None = None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert_strict_csp_markup(html)
    assert html.count("<h1") == 1
    return html


@pytest.fixture
def london_case(db):
    """A case in London with everything a case page shows, and unpublished records that must never show."""
    international = factories.JurisdictionFactory(
        name="International", slug="international", level=JurisdictionLevel.INTERNATIONAL, parent=None, country=None
    )
    uk = factories.JurisdictionFactory(name="United Kingdom", slug="united-kingdom", parent=international)
    london = factories.JurisdictionFactory(
        name="London", slug="london", level=JurisdictionLevel.CITY, parent=uk, country=uk.country
    )
    factories.LegalInstrumentFactory(
        short_name="DPA 2018", slug="dpa-2018", jurisdiction=uk, in_force_from=datetime.date(2018, 5, 25)
    )
    factories.LegalInstrumentFactory(
        short_name="Future Act", slug="future-act", jurisdiction=uk, year=2023, in_force_from=datetime.date(2023, 1, 1)
    )
    partnership = factories.PartnershipFactory(name="Met & Youth NGO", slug="met-youth", jurisdiction=london)
    hidden_partnership = factories.PartnershipFactory(
        name="Hidden partnership", jurisdiction=london, is_published=False
    )
    method = factories.SurveillancePracticeFactory(name="Predictive Policing", slug="predictive-policing")
    privacy = factories.IssueTypeFactory(name="Privacy Breach", slug="privacy-breach")
    misuse = factories.IssueTypeFactory(name="Data Misuse", slug="data-misuse")
    report = factories.SourceFactory(title="The seed document", publisher="Srinagar Insider")
    case = factories.OverreachCaseFactory(
        title="Predictive policing in London",
        slug="london-2021",
        location="London, UK",
        jurisdiction=london,
        year=2021,
        partnership_type="NGO & Police",
        found_by="An audit conducted by an independent oversight body",
        found_by_kind=FinderKind.AUDIT,
        summary="Data collected for outreach was used for profiling.",
        outcome="The programme was suspended.",
        editorial_note="The seed does not name the NGO.",
        sources=[report],
    )
    case.partnerships.set([partnership, hidden_partnership])
    case.surveillance_methods.set([method])
    case.issues.set([privacy, misuse])
    factories.CaseQuoteFactory(
        case=case,
        text="It feels like we are being watched without cause.",
        speaker="An anonymous member of the community",
        source=report,
    )
    factories.OverreachCaseFactory(title="An unpublished case", slug="unpublished-case", is_published=False)
    return case


# --- /cases/ --------------------------------------------------------------------------------------------------


def test_case_list_shows_each_case_with_partnership_jurisdiction_year_and_issues(anon_client, london_case):
    html = page(anon_client, "/cases/")

    assert "<title>Case studies · Partnership Registry</title>" in html
    assert '<a href="/cases/london-2021/">Predictive policing in London</a>' in html
    assert '<a href="/partnerships/met-youth/">Met &amp; Youth NGO</a>' in html
    assert "Hidden partnership" not in html
    assert '<a href="/legal/jurisdictions/london/">London</a>' in html
    assert '<time datetime="2021">2021</time>' in html
    assert "Data Misuse, Privacy Breach" in html
    assert "Predictive Policing" in html
    assert "An audit conducted by an independent oversight body" in html
    assert "An unpublished case" not in html
    assert '<h2 id="case-results-heading">1 case</h2>' in html


def test_case_list_names_the_reported_partnership_when_none_is_identified(anon_client, london_case):
    factories.OverreachCaseFactory(title="Chicago monitoring", partnership_type="NGO & Law Enforcement")

    html = page(anon_client, "/cases/")

    assert "NGO &amp; Law Enforcement (not identified in the registry)" in html


def test_case_list_is_newest_first_and_paginated(anon_client, london_case, monkeypatch):
    monkeypatch.setattr(case_views, "PAGE_SIZE", 2)
    factories.OverreachCaseFactory(title="Newest case", year=2023)
    factories.OverreachCaseFactory(title="Oldest case", year=2001)

    first = page(anon_client, "/cases/")
    second = page(anon_client, "/cases/", {"page": "2"})

    assert first.index("Newest case") < first.index("Predictive policing in London")
    assert "Oldest case" not in first
    assert "3 cases, page 1 of 2" in first
    assert 'href="/cases/?page=2#case-results-heading" rel="next"' in first
    assert "Oldest case" in second
    assert "Newest case" not in second
    assert 'href="/cases/?page=1#case-results-heading" rel="prev"' in second
    assert '<ol class="case-list" start="3">' in second


def test_case_list_pages_keep_the_filters(anon_client, london_case, monkeypatch):
    monkeypatch.setattr(case_views, "PAGE_SIZE", 1)
    factories.OverreachCaseFactory(title="Another audit", year=2020, found_by_kind=FinderKind.AUDIT)

    html = page(anon_client, "/cases/", {"found_by_kind": "audit"})

    assert 'href="/cases/?found_by_kind=audit&amp;page=2#case-results-heading" rel="next"' in html


def test_case_list_filters_with_the_api_filterset_and_shows_the_active_filters(anon_client, london_case):
    other = factories.OverreachCaseFactory(title="Journalists found it", found_by_kind=FinderKind.JOURNALISM, year=2019)
    other.issues.set([factories.IssueTypeFactory(name="Discriminatory Practices", slug="discrimination")])

    html = page(anon_client, "/cases/", {"issue": "privacy-breach", "year_min": ""})

    assert "Predictive policing in London" in html
    assert "Journalists found it" not in html
    assert '<option value="privacy-breach" selected>' in html
    assert "Issue: <strong>Privacy Breach</strong>" in html
    assert '<a href="/cases/">Remove<span class="visually-hidden"> the filter Issue: Privacy Breach</span></a>' in html
    assert "1 case matching the filters" in html

    html = page(anon_client, "/cases/", {"found_by_kind": "journalism", "year_max": "2020"})
    assert "Journalists found it" in html
    assert "Predictive policing in London" not in html
    assert "Found by: <strong>Journalism</strong>" in html
    assert "To year: <strong>2020</strong>" in html


def test_case_list_keeps_filters_its_form_has_no_field_for(anon_client, london_case):
    factories.OverreachCaseFactory(title="Somewhere else")

    html = page(anon_client, "/cases/", {"jurisdiction": "united-kingdom", "partnership": "met-youth"})

    assert "Predictive policing in London" in html
    assert "Somewhere else" not in html
    assert '<input type="hidden" name="jurisdiction" value="united-kingdom">' in html
    assert '<input type="hidden" name="partnership" value="met-youth">' in html
    assert "Jurisdiction and below: <strong>United Kingdom</strong>" in html
    assert "Partnership: <strong>Met &amp; Youth NGO</strong>" in html
    assert 'href="/api/v1/cases/?jurisdiction=united-kingdom&amp;partnership=met-youth"' in html


@pytest.mark.parametrize(
    "query",
    [{"colour": "red"}, {"issue": "no-such-issue"}, {"found_by_kind": "psychic"}, {"year_min": "1066"}, {"page": "x"}],
)
def test_case_list_with_an_unknown_parameter_or_value_is_a_400(anon_client, london_case, query):
    assert anon_client.get("/cases/", query).status_code == 400


def test_case_list_page_past_the_end_is_a_404(anon_client, london_case):
    assert anon_client.get("/cases/", {"page": "5"}).status_code == 404


# --- /cases/<slug>/ -------------------------------------------------------------------------------------------


def test_case_page_shows_partnership_method_issues_finder_and_outcome(anon_client, london_case):
    html = page(anon_client, "/cases/london-2021/")

    assert "<title>Predictive policing in London · Partnership Registry</title>" in html
    assert "<h1>Predictive policing in London</h1>" in html
    assert "Data collected for outreach was used for profiling." in html
    assert '<a href="/partnerships/met-youth/">Met &amp; Youth NGO</a>' in html
    assert "Hidden partnership" not in html
    assert "As reported: NGO &amp; Police" in html
    assert '<a href="/surveillance-practices/predictive-policing/">Predictive Policing</a>' in html
    assert '<a href="/cases/?issue=data-misuse">Data Misuse</a>, <a href="/cases/?issue=privacy-breach">' in html
    assert "An audit conducted by an independent oversight body" in html
    assert "The programme was suspended." in html
    assert "The seed does not name the NGO." in html
    assert '<dt>Jurisdiction</dt><dd><a href="/legal/jurisdictions/london/">London</a></dd>' in html
    assert '<time datetime="2021">2021</time>' in html


def test_case_page_shows_quotes_with_their_speaker_and_source(anon_client, london_case):
    html = page(anon_client, "/cases/london-2021/")

    quote = html[html.index('<figure class="case-quote">') : html.index("</figure>")]
    assert "<blockquote" in quote
    assert "It feels like we are being watched without cause." in quote
    assert "An anonymous member of the community" in quote
    source = london_case.quotes.get().source
    assert f'<a href="/sources/{source.slug}/">The seed document</a> (Srinagar Insider)' in quote


def test_case_page_shows_the_law_in_force_there_that_year(anon_client, london_case):
    html = page(anon_client, "/cases/london-2021/")

    law = html[html.index('id="case-law-heading"') :]
    law = law[: law.index("</section>")]
    assert '<time datetime="2021-12-31">31 December 2021</time>' in law
    assert '<a href="/legal/instruments/dpa-2018/">DPA 2018</a>' in law
    assert "Future Act" not in law  # took effect in 2023


def test_case_page_ends_with_the_record_footer(anon_client, london_case):
    claim_add(record=london_case, field="year", value="2021", source=factories.SourceFactory(title="Second report"))

    html = page(anon_client, "/cases/london-2021/")

    assert "What the sources say" in html
    assert "Second report" in html
    assert 'id="sources-heading"' in html
    assert "The seed document" in html
    assert 'id="history-heading"' in html
    assert "Cite this record" in html
    assert '<a href="/api/v1/cases/london-2021/">JSON (API)</a>' in html


def test_case_page_404_for_unknown_or_unpublished_and_400_for_parameters(anon_client, london_case):
    assert anon_client.get("/cases/no-such-case/").status_code == 404
    assert anon_client.get("/cases/unpublished-case/").status_code == 404
    assert anon_client.get("/cases/london-2021/", {"colour": "red"}).status_code == 400


# --- Queries do not grow with the rows ------------------------------------------------------------------------


def add_cases(case, n: int) -> None:
    """More cases with partnerships, methods, issues and quotes, and more of each on the seeded case."""
    for i in range(n):
        other = factories.OverreachCaseFactory(year=2000 + i, jurisdiction=case.jurisdiction)
        other.partnerships.set([factories.PartnershipFactory(), factories.PartnershipFactory()])
        other.surveillance_methods.set([factories.SurveillancePracticeFactory()])
        other.issues.set([factories.IssueTypeFactory(), factories.IssueTypeFactory()])
        factories.CaseQuoteFactory(case=other)
        case.partnerships.add(factories.PartnershipFactory(jurisdiction=case.jurisdiction))
        case.surveillance_methods.add(factories.SurveillancePracticeFactory())
        case.issues.add(factories.IssueTypeFactory())
        case.sources.add(factories.SourceFactory())
        factories.CaseQuoteFactory(case=case)
        factories.LegalInstrumentFactory(jurisdiction=case.jurisdiction, year=2001)
        claim_add(record=case, field="year", value=str(2020 + i % 2), source=factories.SourceFactory())


@pytest.mark.parametrize("url", ["/cases/", "/cases/?found_by_kind=unknown&year_min=2000", "/cases/london-2021/"])
def test_query_count_does_not_grow_with_rows(anon_client, london_case, url):
    add_cases(london_case, 1)
    with CaptureQueriesContext(connection) as few:
        page(anon_client, url)
    add_cases(london_case, 8)
    with CaptureQueriesContext(connection) as many:
        page(anon_client, url)

    assert len(many) == len(few), [q["sql"][:120] for q in many]
    assert len(many) <= 20
