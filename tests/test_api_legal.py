"""Legal instruments and oversight bodies in the API: pinned shapes and the filters (jurisdiction including
below, kind, topic, in force on a date, year range)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.fields import DateTimeField

from geography.models import JurisdictionLevel
from legal.models import InstrumentKind, OversightKind
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/legal-instruments/"


def iso(value: datetime.datetime | None) -> str | None:
    return DateTimeField().to_representation(value) if value else None


def slugs(client: Any, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def stamps(record: Any) -> dict[str, Any]:
    record.refresh_from_db()
    return {
        "first_published_at": iso(record.first_published_at),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


SOURCE_ROW = {
    "slug": "ico",
    "title": "ICO guide",
    "publisher": "ICO",
    "url": "https://example.org/ico",
    "kind": "news",
    "tier": "secondary",
}


def test_legal_instrument_detail_whole_response(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="united-kingdom", name="United Kingdom", country__code="GB")
    guide = factories.SourceFactory(slug="ico", title="ICO guide", publisher="ICO", url="https://example.org/ico")
    topic = factories.LegalTopicFactory(slug="data-protection", name="Data Protection")
    gdpr = factories.LegalInstrumentFactory(
        slug="uk-gdpr", short_name="UK GDPR", title="UK General Data Protection Regulation", jurisdiction=uk,
        kind=InstrumentKind.REGULATION, year=2018, in_force_from=datetime.date(2021, 1, 1), summary="Data rules.",
        official_url="https://example.org/gdpr", sources=[guide],
    )  # fmt: skip
    gdpr.topics.set([topic])
    ico = factories.OversightBodyFactory(slug="ico-body", name="Information Commissioner", jurisdiction=uk)
    ico.instruments.add(gdpr)
    factories.OversightBodyFactory(is_published=False).instruments.add(gdpr)
    claim_add(record=gdpr, field="year", value="2018", source=guide, locator="p. 3")

    assert anon_client.get(f"{URL}uk-gdpr/").json() == {
        "slug": "uk-gdpr",
        "short_name": "UK GDPR",
        "title": "UK General Data Protection Regulation",
        "jurisdiction": {"slug": "united-kingdom", "name": "United Kingdom", "level": "national", "country": "GB"},
        "kind": "regulation",
        "year": 2018,
        "in_force_from": "2021-01-01",
        "in_force_to": None,
        "topics": [{"slug": "data-protection", "name": "Data Protection"}],
        "summary": "Data rules.",
        "official_url": "https://example.org/gdpr",
        "oversight_bodies": [{"slug": "ico-body", "name": "Information Commissioner"}],
        "disputed_fields": [],
        "dispute_resolutions": [],
        "sources": [SOURCE_ROW],
        "claims": [{"field": "year", "value": "2018", "source": "ico", "locator": "p. 3", "quote": ""}],
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        **stamps(gdpr),
    }


def test_oversight_body_detail_whole_response(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="united-kingdom", name="United Kingdom", country__code="GB")
    guide = factories.SourceFactory(slug="ico", title="ICO guide", publisher="ICO", url="https://example.org/ico")
    act = factories.LegalInstrumentFactory(slug="dpa", short_name="DPA", title="Data Protection Act", jurisdiction=uk)
    draft = factories.LegalInstrumentFactory(jurisdiction=uk, is_published=False)
    body = factories.OversightBodyFactory(
        slug="ico-body", name="Information Commissioner", kind=OversightKind.COMMISSIONER, jurisdiction=uk,
        powers="Fines.", website="https://ico.example", sources=[guide],
    )  # fmt: skip
    body.instruments.set([act, draft])

    assert anon_client.get("/api/v1/oversight-bodies/ico-body/").json() == {
        "slug": "ico-body",
        "name": "Information Commissioner",
        "kind": "commissioner",
        "jurisdiction": {"slug": "united-kingdom", "name": "United Kingdom", "level": "national", "country": "GB"},
        "powers": "Fines.",
        "instruments": [
            {
                "slug": "dpa",
                "short_name": "DPA",
                "title": "Data Protection Act",
                "kind": "statute",
                "jurisdiction": "united-kingdom",
                "official_url": None,
            }
        ],
        "website": "https://ico.example",
        "disputed_fields": [],
        "dispute_resolutions": [],
        "sources": [SOURCE_ROW],
        "claims": [],
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        **stamps(body),
    }


def test_legal_instrument_filters(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="uk", country__code="GB")
    scotland = factories.JurisdictionFactory(
        slug="scotland", level=JurisdictionLevel.SUBNATIONAL, parent=uk, country=uk.country
    )
    topic = factories.LegalTopicFactory(slug="consent")
    old = factories.LegalInstrumentFactory(
        slug="old-act", jurisdiction=uk, year=1998, in_force_from=datetime.date(2000, 3, 1),
        in_force_to=datetime.date(2018, 5, 24),
    )  # fmt: skip
    factories.LegalInstrumentFactory(
        slug="scots-act", jurisdiction=scotland, year=2018, kind=InstrumentKind.REGULATION,
        in_force_from=datetime.date(2018, 5, 25),
    )  # fmt: skip
    # Pinned outside the UK: the factories' country codes cycle, and a "GB" here would join the UK's country.
    elsewhere = factories.JurisdictionFactory(country__code="FR")
    factories.LegalInstrumentFactory(slug="elsewhere", jurisdiction=elsewhere, year=2010, kind=InstrumentKind.GUIDANCE)
    old.topics.set([topic])
    assert slugs(anon_client, f"{URL}?jurisdiction=uk") == ["old-act", "scots-act"]
    assert slugs(anon_client, f"{URL}?jurisdiction=scotland") == ["scots-act"]
    assert slugs(anon_client, f"{URL}?country=GB") == ["old-act", "scots-act"]
    assert slugs(anon_client, f"{URL}?kind=regulation") == ["scots-act"]
    assert slugs(anon_client, f"{URL}?topic=consent") == ["old-act"]
    assert slugs(anon_client, f"{URL}?in_force_on=2010-01-01") == ["elsewhere", "old-act"]
    assert slugs(anon_client, f"{URL}?in_force_on=2020-01-01") == ["elsewhere", "scots-act"]
    assert slugs(anon_client, f"{URL}?year_min=2005&year_max=2015") == ["elsewhere"]
    assert slugs(anon_client, f"{URL}?in_force_from_after=2018-01-01") == ["scots-act"]
    assert slugs(anon_client, f"{URL}?in_force_to_before=2019-01-01") == ["old-act"]
    assert anon_client.get(f"{URL}?in_force_on=yesterday").status_code == 400
    assert anon_client.get(f"{URL}?year_min=1200").status_code == 400


def test_oversight_body_filters(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="uk", country__code="GB")
    act = factories.LegalInstrumentFactory(slug="dpa")
    factories.OversightBodyFactory(slug="ico", jurisdiction=uk, kind=OversightKind.COMMISSIONER).instruments.add(act)
    factories.OversightBodyFactory(slug="un", kind=OversightKind.UN_MANDATE)
    url = "/api/v1/oversight-bodies/"
    assert slugs(anon_client, f"{url}?jurisdiction=uk") == ["ico"]
    assert slugs(anon_client, f"{url}?country=gb") == ["ico"]
    assert slugs(anon_client, f"{url}?kind=un_mandate") == ["un"]
    assert slugs(anon_client, f"{url}?instrument=dpa") == ["ico"]
