"""Public pages of the law: the jurisdiction tree with its instruments (/legal/, filtered by the API's
LegalInstrumentFilter), a jurisdiction (the law that applies there, what was made there, what lies below it), a
legal instrument (every field, oversight bodies, the partnerships it applies to, provenance) and an oversight
body, in a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geography.models import Jurisdiction, JurisdictionLevel
from legal import views as legal_views
from legal.models import InstrumentKind, OversightKind
from provenance.models import SourceKind, SourceTier
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


class TreeParser(HTMLParser):
    """The jurisdiction tree as {name: [names of the jurisdictions it is nested in, root first]}; fails on an
    unbalanced <ul>/<li> structure."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[str]] = []  # open <ul>/<li> elements: [tag, jurisdiction name of an <li>]
        self.in_tree = False
        self.in_name = False
        self.parents: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "ul" and "legal-tree" in classes:
            self.in_tree = True
        if not self.in_tree:
            return
        if tag in ("ul", "li"):
            self.stack.append([tag, ""])
        if tag == "a" and "legal-node-name" in classes:
            self.in_name = True

    def handle_endtag(self, tag: str) -> None:
        if not self.in_tree:
            return
        if tag in ("ul", "li"):
            assert self.stack, f"</{tag}> closes nothing"
            assert self.stack[-1][0] == tag, f"</{tag}> closes a <{self.stack[-1][0]}>"
            self.stack.pop()
            if not self.stack:
                self.in_tree = False
        if tag == "a":
            self.in_name = False

    def handle_data(self, data: str) -> None:
        if self.in_name:
            name = data.strip()
            self.stack[-1][1] = name  # the <li> of this jurisdiction
            self.parents[name] = [label for tag, label in self.stack[:-1] if tag == "li"]


def tree(html: str) -> dict[str, list[str]]:
    parser = TreeParser()
    parser.feed(html)
    assert not parser.stack, "the tree's lists are not all closed"
    return parser.parents


@pytest.fixture
def world(db):
    """International > European Union > Netherlands > Amsterdam, with law at each level, an oversight body, a
    partnership and a case in Amsterdam, and unpublished records that must never show."""
    international = factories.JurisdictionFactory(
        name="International", slug="international", level=JurisdictionLevel.INTERNATIONAL, parent=None, country=None
    )
    eu = factories.JurisdictionFactory(
        name="European Union",
        slug="european-union",
        level=JurisdictionLevel.SUPRANATIONAL,
        parent=international,
        country=None,
    )
    netherlands = factories.JurisdictionFactory(
        name="Netherlands", slug="netherlands", level=JurisdictionLevel.NATIONAL, parent=eu
    )
    amsterdam = factories.JurisdictionFactory(
        name="Amsterdam",
        slug="amsterdam",
        level=JurisdictionLevel.CITY,
        parent=netherlands,
        country=netherlands.country,
    )
    data_protection = factories.LegalTopicFactory(name="Data Protection", slug="data-protection")
    oversight = factories.LegalTopicFactory(name="Surveillance Oversight", slug="surveillance-oversight")
    official = factories.SourceFactory(
        title="Regulation (EU) 2016/679", kind=SourceKind.PRIMARY_DOCUMENT, tier=SourceTier.PRIMARY
    )
    iccpr = factories.LegalInstrumentFactory(
        short_name="ICCPR",
        title="International Covenant on Civil and Political Rights",
        slug="iccpr",
        jurisdiction=international,
        kind=InstrumentKind.TREATY,
        year=1966,
        in_force_from=datetime.date(1976, 3, 23),
    )
    gdpr = factories.LegalInstrumentFactory(
        short_name="GDPR",
        title="General Data Protection Regulation",
        slug="gdpr",
        jurisdiction=eu,
        kind=InstrumentKind.REGULATION,
        year=2016,
        in_force_from=datetime.date(2018, 5, 25),
        summary="The EU's general rules on processing personal data.",
        official_url="https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        sources=[official],
    )
    gdpr.topics.set([data_protection])
    police_act = factories.LegalInstrumentFactory(
        short_name="Wpg", title="Police Data Act", slug="wpg", jurisdiction=netherlands, year=2007
    )
    police_act.topics.set([data_protection, oversight])
    factories.LegalInstrumentFactory(
        short_name="Old Act",
        title="An act since repealed",
        slug="old-act",
        jurisdiction=netherlands,
        year=1999,
        in_force_from=datetime.date(2000, 1, 1),
        in_force_to=datetime.date(2010, 1, 1),
    )
    factories.LegalInstrumentFactory(
        short_name="Secret Act", slug="secret-act", jurisdiction=netherlands, is_published=False
    )
    board = factories.OversightBodyFactory(
        name="European Data Protection Board",
        slug="edpb",
        jurisdiction=eu,
        kind=OversightKind.COMMISSIONER,
        powers="Issues guidelines and binding decisions.",
        website="https://www.edpb.europa.eu/",
    )
    board.instruments.set([gdpr, iccpr])
    factories.OversightBodyFactory(name="Hidden Board", slug="hidden-board", jurisdiction=eu, is_published=False)
    factories.OversightBodyFactory(
        name="Dutch Data Protection Authority", slug="ap", jurisdiction=netherlands
    ).instruments.set([police_act])
    partnership = factories.PartnershipFactory(
        name="Amsterdam Youth Partnership", slug="amsterdam-youth", jurisdiction=amsterdam
    )
    factories.PartnershipFactory(
        name="Unpublished partnership", slug="unpublished", jurisdiction=amsterdam, is_published=False
    )
    case = factories.OverreachCaseFactory(
        title="Amsterdam data case", slug="amsterdam-case", jurisdiction=amsterdam, year=2022
    )
    case.partnerships.set([partnership])
    return {
        "international": international,
        "eu": eu,
        "netherlands": netherlands,
        "amsterdam": amsterdam,
        "gdpr": gdpr,
        "board": board,
        "partnership": partnership,
        "topic": data_protection,
    }


# --- /legal/: the jurisdiction tree ---------------------------------------------------------------------------


def test_index_shows_the_jurisdiction_tree_nested_from_international_down_to_city(anon_client, world):
    html = page(anon_client, "/legal/")

    assert "<title>Law by jurisdiction · Partnership Registry</title>" in html
    parents = tree(html)
    assert parents["International"] == []
    assert parents["European Union"] == ["International"]
    assert parents["Netherlands"] == ["International", "European Union"]
    assert parents["Amsterdam"] == ["International", "European Union", "Netherlands"]
    assert '<a class="legal-node-name" href="/legal/jurisdictions/amsterdam/">Amsterdam</a>' in html


def test_index_lists_each_jurisdictions_published_instruments_with_counts_and_links(anon_client, world):
    html = page(anon_client, "/legal/")

    assert '<a href="/legal/instruments/gdpr/">GDPR</a>' in html
    assert '<a href="/legal/instruments/iccpr/">ICCPR</a>' in html
    netherlands = html[html.index(">Netherlands</a>") : html.index(">Amsterdam</a>")]
    assert "2 instruments" in netherlands  # Wpg and the repealed act; never the unpublished one
    assert '<a href="/legal/instruments/old-act/">Old Act</a>' in netherlands
    assert "Secret Act" not in html
    assert "4 published instruments in 4 jurisdictions" in html


def test_index_caps_the_instrument_links_of_a_jurisdiction(anon_client, world, monkeypatch):
    monkeypatch.setattr(legal_views, "TREE_LINKS", 1)

    html = page(anon_client, "/legal/")

    netherlands = html[html.index(">Netherlands</a>") : html.index(">Amsterdam</a>")]
    assert "Old Act" in netherlands  # the first by short name
    assert "Wpg" not in netherlands
    assert (
        '<a href="/legal/jurisdictions/netherlands/#made-here">1 more'
        '<span class="visually-hidden"> instruments made in Netherlands</span></a>' in netherlands
    )


def test_index_filters_with_the_api_filterset_and_shows_the_active_filters(anon_client, world):
    html = page(anon_client, "/legal/", {"kind": "regulation", "in_force_on": ""})

    assert '<a href="/legal/instruments/gdpr/">GDPR</a>' in html
    assert "ICCPR" not in html
    assert "Wpg" not in html
    # Only the branches holding a match: the EU and what is above it.
    assert set(tree(html)) == {"International", "European Union"}
    assert '<option value="regulation" selected>' in html
    assert "Kind: <strong>Regulation</strong>" in html
    assert '<a href="/legal/">Remove<span class="visually-hidden"> the filter Kind: Regulation</span></a>' in html
    assert "1 published instrument matches the filters" in html


def test_index_filters_by_topic_and_in_force_date(anon_client, world):
    html = page(anon_client, "/legal/", {"topic": "data-protection", "in_force_on": "2005-06-01"})

    # GDPR (from 2018) was not in force in 2005; Wpg (2007, no start date) was not adopted yet.
    assert "No published instrument matches these filters." in html
    html = page(anon_client, "/legal/", {"topic": "data-protection"})
    assert "GDPR" in html
    assert "Wpg" in html
    assert "ICCPR" not in html
    assert "Topic: <strong>Data Protection</strong>" in html
    assert '<option value="data-protection" selected>' in html


def test_index_keeps_filters_its_form_has_no_field_for(anon_client, world):
    html = page(anon_client, "/legal/", {"jurisdiction": "netherlands", "kind": "statute"})

    assert '<input type="hidden" name="jurisdiction" value="netherlands">' in html
    assert "Jurisdiction and below: <strong>Netherlands</strong>" in html
    assert '<a href="/legal/?kind=statute">Remove' in html
    assert "Wpg" in html
    assert "GDPR" not in html


@pytest.mark.parametrize(
    "query",
    [{"colour": "red"}, {"kind": "poem"}, {"topic": "no-such-topic"}, {"in_force_on": "yesterday"}, {"page": "2"}],
)
def test_index_with_an_unknown_parameter_or_value_is_a_400(anon_client, world, query):
    assert anon_client.get("/legal/", query).status_code == 400


# --- /legal/jurisdictions/<slug>/ -----------------------------------------------------------------------------


def test_jurisdiction_page_shows_the_law_that_applies_there_and_what_is_in_it(anon_client, world):
    html = page(anon_client, "/legal/jurisdictions/amsterdam/")

    assert "<h1>Amsterdam</h1>" in html
    crumbs = html[html.index('aria-label="Breadcrumb"') : html.index("</nav>", html.index('aria-label="Breadcrumb"'))]
    assert list(re.findall(r">([^<>]+)</a>", crumbs)) == [
        "Law",
        "International",
        "European Union",
        "Netherlands",
        "Amsterdam",
    ]
    assert 'aria-current="page">Amsterdam</a>' in crumbs
    applicable = html[html.index('id="applicable-heading"') : html.index('id="made-here"')]
    # In force today, here or above: the Dutch act, the EU regulation, the treaty; never the repealed or hidden.
    for short_name in ("Wpg", "GDPR", "ICCPR"):
        assert f">{short_name}</a>" in applicable
    assert "Old Act" not in applicable
    assert "Secret Act" not in html
    assert applicable.index("Wpg") < applicable.index("GDPR") < applicable.index("ICCPR")  # nearest first
    assert "<caption" in applicable
    assert '<th scope="col">Instrument</th>' in applicable
    assert '<a href="/partnerships/amsterdam-youth/">Amsterdam Youth Partnership</a>' in html
    assert "Unpublished partnership" not in html
    assert '<a href="/cases/amsterdam-case/">Amsterdam data case</a>' in html
    assert 'href="/api/v1/jurisdictions/amsterdam/"' in html


def test_jurisdiction_page_lists_what_was_made_there_and_what_lies_below(anon_client, world):
    html = page(anon_client, "/legal/jurisdictions/netherlands/")

    made_here = html[html.index('id="made-here"') :]
    assert '<a href="/legal/instruments/old-act/">Old Act</a>' in made_here
    assert 'No longer in force: ceased <time datetime="2010-01-01">1 January 2010</time>' in made_here
    assert '<a href="/legal/oversight-bodies/ap/">Dutch Data Protection Authority</a>' in html
    assert '<a href="/legal/jurisdictions/amsterdam/">Amsterdam</a>' in html
    assert "Amsterdam Youth Partnership" in html  # a partnership below the Netherlands
    assert 'href="/partnerships/?jurisdiction=netherlands"' in html
    assert "Hidden Board" not in page(anon_client, "/legal/jurisdictions/european-union/")


def test_jurisdiction_page_paginates_the_law(anon_client, world, monkeypatch):
    monkeypatch.setattr(legal_views, "PAGE_SIZE", 2)

    html = page(anon_client, "/legal/jurisdictions/amsterdam/", {"page": "2"})

    applicable = html[html.index('id="applicable-heading"') : html.index('id="made-here"')]
    assert "ICCPR" in applicable
    assert "Wpg" not in applicable
    assert "3 instruments in force in Amsterdam, 3 to 3 shown" in applicable
    assert 'href="/legal/jurisdictions/amsterdam/?page=1#applicable-heading" rel="prev"' in applicable
    assert anon_client.get("/legal/jurisdictions/amsterdam/", {"page": "two"}).status_code == 400
    assert anon_client.get("/legal/jurisdictions/amsterdam/", {"page": "9"}).status_code == 404


def test_jurisdiction_page_404_and_400(anon_client, world):
    assert anon_client.get("/legal/jurisdictions/atlantis/").status_code == 404
    assert anon_client.get("/legal/jurisdictions/amsterdam/", {"colour": "red"}).status_code == 400


# --- /legal/instruments/<slug>/ -------------------------------------------------------------------------------


def test_instrument_page_shows_every_field(anon_client, world):
    html = page(anon_client, "/legal/instruments/gdpr/")

    assert "<title>GDPR (European Union) · Partnership Registry</title>" in html
    assert '<h1>GDPR<span class="legal-h1-sub">General Data Protection Regulation</span></h1>' in html
    assert '<dt>Kind</dt><dd><a href="/legal/?kind=regulation">Regulation</a></dd>' in html
    assert '<dt>Year adopted</dt><dd><time datetime="2016">2016</time></dd>' in html
    assert '<time datetime="2018-05-25">25 May 2018</time>' in html
    assert "In force since" in html
    assert '<a href="/legal/?topic=data-protection">Data Protection</a>' in html
    assert "The EU&#x27;s general rules on processing personal data." in html
    assert (
        '<a href="https://eur-lex.europa.eu/eli/reg/2016/679/oj" rel="noopener noreferrer external">'
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj</a>" in html
    )
    assert '<dt>Jurisdiction</dt><dd><a href="/legal/jurisdictions/european-union/">European Union</a></dd>' in html


def test_instrument_page_shows_oversight_bodies_partnerships_and_the_record_footer(anon_client, world):
    html = page(anon_client, "/legal/instruments/gdpr/")

    assert '<a href="/legal/oversight-bodies/edpb/">European Data Protection Board</a>' in html
    assert "Hidden Board" not in html
    partnerships = html[html.index('id="partnerships-heading"') :]
    assert '<a href="/partnerships/amsterdam-youth/">Amsterdam Youth Partnership</a>' in partnerships
    assert "Unpublished partnership" not in html
    assert 'href="/partnerships/?jurisdiction=european-union"' in partnerships
    # The record footer: sources, history, citation and the API.
    assert "Regulation (EU) 2016/679" in html
    assert 'id="history-heading"' in html
    assert "Cite this record" in html
    assert '<a href="/api/v1/legal-instruments/gdpr/">JSON (API)</a>' in html


def test_instrument_page_caps_the_partnerships_with_a_link_to_the_list(anon_client, world, monkeypatch):
    monkeypatch.setattr(legal_views, "LIST_CAP", 2)
    for name in ("Alpha Partnership", "Beta Partnership"):
        factories.PartnershipFactory(name=name, jurisdiction=world["netherlands"])

    html = page(anon_client, "/legal/instruments/gdpr/")

    assert "Showing 2 of 3." in html
    assert '<a href="/partnerships/?jurisdiction=european-union">All 3 partnerships in the filterable list</a>' in html
    assert "Alpha Partnership" in html
    assert "Amsterdam Youth Partnership" in html
    assert "Beta Partnership" not in html  # third by name


def test_instrument_page_says_when_it_is_no_longer_in_force(anon_client, world):
    html = page(anon_client, "/legal/instruments/old-act/")

    assert "No longer in force: ceased" in html
    assert "is not in force today" in html


def test_instrument_page_shows_the_claims_of_its_fields(anon_client, world):
    report = factories.SourceFactory(title="A law review")
    claim_add(record=world["gdpr"], field="year", value="2016", source=report, locator="p. 4")

    html = page(anon_client, "/legal/instruments/gdpr/")

    assert "What the sources say" in html
    assert "A law review" in html
    assert "p. 4" in html


def test_instrument_page_404_for_unknown_or_unpublished_and_400_for_parameters(anon_client, world):
    assert anon_client.get("/legal/instruments/no-such-act/").status_code == 404
    assert anon_client.get("/legal/instruments/secret-act/").status_code == 404
    assert anon_client.get("/legal/instruments/gdpr/", {"colour": "red"}).status_code == 400


# --- /legal/oversight-bodies/<slug>/ --------------------------------------------------------------------------


def test_oversight_body_page(anon_client, world):
    factories.LegalInstrumentFactory(short_name="Hidden Act", jurisdiction=world["eu"], is_published=False)
    world["board"].instruments.add(*world["eu"].instruments.filter(short_name="Hidden Act"))

    html = page(anon_client, "/legal/oversight-bodies/edpb/")

    assert "<h1>European Data Protection Board</h1>" in html
    assert "Issues guidelines and binding decisions." in html
    assert "<dt>Kind</dt><dd>Statutory commissioner or regulator</dd>" in html
    assert '<a href="/legal/jurisdictions/european-union/">European Union</a>' in html
    assert '<a href="https://www.edpb.europa.eu/" rel="noopener noreferrer external">' in html
    assert '<a href="/legal/instruments/gdpr/">GDPR</a>' in html
    assert '<a href="/legal/instruments/iccpr/">ICCPR</a>' in html
    assert "Hidden Act" not in html
    assert "Cite this record" in html
    assert '<a href="/api/v1/oversight-bodies/edpb/">JSON (API)</a>' in html


def test_oversight_body_page_404_for_unknown_or_unpublished(anon_client, world):
    assert anon_client.get("/legal/oversight-bodies/nobody/").status_code == 404
    assert anon_client.get("/legal/oversight-bodies/hidden-board/").status_code == 404


# --- Queries do not grow with the rows ------------------------------------------------------------------------


def add_rows(world: dict, n: int) -> None:
    """More of everything each page shows: jurisdictions with law, bodies, partnerships, cases and claims."""
    topic = world["topic"]
    for i in range(n):
        city = factories.JurisdictionFactory(
            level=JurisdictionLevel.CITY, parent=world["netherlands"], country=world["netherlands"].country
        )
        for place in (city, world["netherlands"], world["eu"]):
            instrument = factories.LegalInstrumentFactory(jurisdiction=place, sources=[factories.SourceFactory()])
            instrument.topics.set([topic, factories.LegalTopicFactory()])
        body = factories.OversightBodyFactory(jurisdiction=world["netherlands"])
        body.instruments.set([world["gdpr"], instrument])
        world["board"].instruments.add(instrument)
        factories.PartnershipFactory(jurisdiction=city)
        factories.OverreachCaseFactory(jurisdiction=city)
        world["gdpr"].sources.add(factories.SourceFactory())
        claim_add(record=world["gdpr"], field="year", value=str(2016 + i % 2), source=factories.SourceFactory())
        claim_add(record=world["board"], field="name", value=f"Board {i}", source=factories.SourceFactory())


@pytest.mark.parametrize(
    "url",
    [
        "/legal/",
        "/legal/?kind=statute&topic=data-protection&jurisdiction=european-union",
        "/legal/jurisdictions/netherlands/",
        "/legal/jurisdictions/amsterdam/",
        "/legal/instruments/gdpr/",
        "/legal/oversight-bodies/edpb/",
    ],
)
def test_query_count_does_not_grow_with_rows(anon_client, world, url):
    add_rows(world, 1)
    with CaptureQueriesContext(connection) as few:
        page(anon_client, url)
    add_rows(world, 6)
    with CaptureQueriesContext(connection) as many:
        html = page(anon_client, url)

    assert len(many) == len(few), [q["sql"][:120] for q in many]
    assert len(many) <= 20
    if url == "/legal/":
        assert len(tree(html)) == Jurisdiction.objects.count()
