"""Public pages of sources: the list (alphabetical, filtered by the API's SourceFilter, with the number of
published partnerships each supports) and the source page (bibliographic data, every published record it
supports, grouped by kind, and every claim it makes), in a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import AssessmentStatus
from provenance import views as source_views
from provenance.models import SourceKind, SourceTier
from provenance.services import claim_add
from tests import factories
from tests.test_pages_entities import text

pytestmark = pytest.mark.django_db


def test_source_list_is_alphabetical_with_partnerships_supported(anon_client):
    report = factories.SourceFactory(title="An NGO report", slug="ngo-report", publisher="Watchdog", author="A. Writer")
    factories.SourceFactory(title="Zoning news", slug="zoning-news", published_on=datetime.date(2020, 3, 1))
    # Supported three ways: as a record source, through a claim, as checklist evidence; one partnership twice.
    factories.PartnershipFactory(sources=[report])
    claimed = factories.PartnershipFactory(sources=[report])
    claim_add(record=claimed, field="year_established", value="2015", source=report)
    factories.MechanismAssessmentFactory(evidence=report, status=AssessmentStatus.PRESENT)
    factories.PartnershipFactory(sources=[report], is_published=False)

    html = text(anon_client.get("/sources/"))

    assert html.index("An NGO report") < html.index("Zoning news")
    assert '<a href="/sources/ngo-report/">An NGO report</a>' in html
    assert "A. Writer, Watchdog" in html
    assert '<time datetime="2020-03-01">1 Mar 2020</time>' in html
    rows = {row.split("</th>")[0]: row for row in html.split("<tr>")[1:]}
    report_row = next(row for head, row in rows.items() if "ngo-report" in head)
    later_row = next(row for head, row in rows.items() if "zoning-news" in head)
    assert '<td class="number">3</td>' in report_row
    assert '<td class="number">0</td>' in later_row


def test_source_list_filters_with_the_api_filterset(anon_client):
    factories.SourceFactory(title="The statute", kind=SourceKind.PRIMARY_DOCUMENT, tier=SourceTier.PRIMARY)
    factories.SourceFactory(title="The newspaper", kind=SourceKind.NEWS)

    html = text(anon_client.get("/sources/", {"kind": "primary_document", "publisher": ""}))

    assert "The statute" in html
    assert "The newspaper" not in html
    assert '<option value="primary_document" selected>' in html
    assert "1 source matching" in html


def test_source_page_shows_bibliographic_data(anon_client):
    factories.SourceFactory(
        slug="the-mou",
        title="Memorandum of understanding",
        publisher="City Council",
        author="Legal Department",
        url="https://council.example.org/mou.pdf",
        archived_url="https://archive.example.org/mou.pdf",
        published_on=datetime.date(2016, 5, 4),
        accessed_on=datetime.date(2024, 1, 2),
        kind=SourceKind.PRIMARY_DOCUMENT,
        tier=SourceTier.PRIMARY,
    )

    html = text(anon_client.get("/sources/the-mou/"))

    assert "<h1>Memorandum of understanding</h1>" in html
    assert "City Council" in html
    assert "Legal Department" in html
    assert '<time datetime="2016-05-04">4 May 2016</time>' in html
    assert '<time datetime="2024-01-02">2 January 2024</time>' in html
    assert "Primary document (MOU, contract, statute, official text)" in html
    assert "primary source" in html
    assert '<a href="https://council.example.org/mou.pdf" rel="external noopener noreferrer">' in html
    assert '<a href="https://archive.example.org/mou.pdf" rel="external noopener noreferrer">' in html
    assert "No published record cites this source yet." in html
    # The footer: history, citation, API link.
    assert "What changed when" in html
    assert "Cite this record" in html
    assert "http://testserver/sources/the-mou/" in html
    assert 'href="/api/v1/sources/the-mou/"' in html


def test_source_page_lists_every_published_record_it_supports(anon_client):
    source = factories.SourceFactory(slug="big-report")
    partnership = factories.PartnershipFactory(name="Helpline & Police", slug="helpline-police", sources=[])
    claim_add(record=partnership, field="year_established", value="2001", source=source, locator="Table 2")
    evidenced = factories.PartnershipFactory(name="Evidenced partnership", slug="evidenced", sources=[])
    factories.MechanismAssessmentFactory(partnership=evidenced, evidence=source)
    factories.NGOFactory(name="Safe Horizon", slug="safe-horizon", sources=[source])
    factories.PoliceDepartmentFactory(name="NYPD", slug="nypd", sources=[source])
    factories.SurveillancePracticeFactory(name="CCTV", slug="cctv", sources=[source])
    factories.LegalInstrumentFactory(
        short_name="GDPR", title="General Data Protection Regulation", slug="gdpr", sources=[source]
    )
    factories.OversightBodyFactory(name="Commissioner", slug="commissioner", sources=[source])
    case = factories.OverreachCaseFactory(title="Logs shared", slug="logs-shared", sources=[])
    factories.CaseQuoteFactory(case=case, source=source)
    hidden_ngo = factories.NGOFactory(name="Hidden NGO", sources=[source], is_published=False)
    claim_add(record=hidden_ngo, field="website", value="https://hidden.example.org/", source=source)

    html = text(anon_client.get("/sources/big-report/"))

    for heading in [
        "Partnerships (2)",
        "NGOs (1)",
        "Police departments (1)",
        "Surveillance practices (1)",
        "Legal instruments (1)",
        "Oversight bodies (1)",
        "Overreach cases (1)",
    ]:
        assert f">{heading}</h3>" in html
    for link in [
        '<a href="/partnerships/helpline-police/">Helpline &amp; Police</a>',
        '<a href="/partnerships/evidenced/">Evidenced partnership</a>',
        '<a href="/ngos/safe-horizon/">Safe Horizon</a>',
        '<a href="/police-departments/nypd/">NYPD</a>',
        '<a href="/surveillance-practices/cctv/">CCTV</a>',
        '<a href="/legal/instruments/gdpr/">GDPR</a> — General Data Protection Regulation',
        '<a href="/legal/oversight-bodies/commissioner/">Commissioner</a>',
        '<a href="/cases/logs-shared/">Logs shared</a>',
    ]:
        assert link in html
    assert "checklist evidence" in html
    assert "(quote)" in html
    assert "Hidden NGO" not in html
    assert "hidden.example.org" not in html


def test_source_page_lists_the_claims_it_makes(anon_client):
    source = factories.SourceFactory(slug="seed")
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD", slug="safe-horizon-nypd")
    claim_add(
        record=partnership,
        field="year_established",
        value="2016",
        source=source,
        locator="Table 2: historical partnerships",
        quote="Safe Horizon | NYPD | 2016",
    )
    ngo = factories.NGOFactory(name="Safe Horizon", slug="safe-horizon")
    claim_add(record=ngo, field="website", value="https://www.safehorizon.org/", source=source, locator="p. 4")

    html = text(anon_client.get("/sources/seed/"))

    assert "2 claims this source makes" in html
    claims = html.split('class="source-claims"')[1]
    assert '<a href="/partnerships/safe-horizon-nypd/">Safe Horizon &amp; NYPD</a>' in claims
    assert "Year established" in claims
    assert "<strong>2016</strong>" in claims
    assert "Table 2: historical partnerships" in claims
    assert "Safe Horizon | NYPD | 2016" in claims
    assert '<a href="/ngos/safe-horizon/">Safe Horizon</a>' in claims
    assert "<strong>https://www.safehorizon.org/</strong>" in claims
    # Partnerships first, then NGOs.
    assert claims.index("/partnerships/safe-horizon-nypd/") < claims.index("/ngos/safe-horizon/")


def test_source_page_caps_a_long_list_of_records_and_says_so(anon_client, monkeypatch):
    monkeypatch.setattr(source_views, "SUPPORTED_LIMIT", 2)
    source = factories.SourceFactory(slug="popular")
    for name in ["NGO A", "NGO B", "NGO C"]:
        factories.NGOFactory(name=name, sources=[source])

    html = text(anon_client.get("/sources/popular/"))

    assert ">NGOs (3)</h3>" in html
    assert "NGO A" in html
    assert "NGO B" in html
    assert "NGO C" not in html
    assert "Showing the first 2 of 3, alphabetically." in html


def test_source_page_paginates_its_claims(anon_client, monkeypatch):
    monkeypatch.setattr(source_views, "CLAIMS_PER_PAGE", 1)
    source = factories.SourceFactory(slug="paged")
    partnership = factories.PartnershipFactory()
    claim_add(record=partnership, field="name", value="First name", source=source)
    claim_add(record=partnership, field="year_established", value="1999", source=source)

    html = text(anon_client.get("/sources/paged/", {"page": "2"}))

    assert "1999" in html
    assert "First name" not in html
    assert 'href="?page=1#claims-made-heading"' in html


def test_source_page_404_for_unknown_slug_and_400_for_unknown_parameter(anon_client):
    factories.SourceFactory(slug="known")
    assert anon_client.get("/sources/unknown/").status_code == 404
    assert anon_client.get("/sources/known/", {"colour": "red"}).status_code == 400
    assert anon_client.get("/sources/", {"colour": "red"}).status_code == 400


def seed(source):
    """More records of every kind citing ``source`` in every way, and more sources."""
    partnership = factories.PartnershipFactory(sources=[source])
    claim_add(record=partnership, field="year_established", value="2010", source=source, locator="Table 1")
    factories.MechanismAssessmentFactory(partnership=partnership, evidence=source)
    ngo = factories.NGOFactory(sources=[source])
    claim_add(record=ngo, field="name", value=ngo.name, source=source)
    factories.PoliceDepartmentFactory(sources=[source])
    factories.SurveillancePracticeFactory(sources=[source])
    factories.LegalInstrumentFactory(sources=[source])
    factories.OversightBodyFactory(sources=[source])
    case = factories.OverreachCaseFactory(sources=[source])
    factories.CaseQuoteFactory(case=case, source=source)
    factories.SourceFactory()


@pytest.mark.parametrize("url", ["/sources/", "/sources/?kind=news", "/sources/counted/"])
def test_query_count_does_not_grow_with_rows(anon_client, url):
    source = factories.SourceFactory(slug="counted")
    seed(source)
    text(anon_client.get(url))  # warm
    with CaptureQueriesContext(connection) as few:
        text(anon_client.get(url))
    for _ in range(4):
        seed(source)
    with CaptureQueriesContext(connection) as many:
        html = text(anon_client.get(url))
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    if url == "/sources/counted/":
        assert ">Partnerships (5)</h3>" in html
        assert "10 claims" in html
    else:
        assert re.search(r'<td class="number">5</td>', html)
