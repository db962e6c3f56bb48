"""Overreach cases in the API: the pinned shape with quotes and their sources, and the filters."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.fields import DateTimeField

from cases.models import FinderKind
from geography.models import JurisdictionLevel
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def iso(value: datetime.datetime | None) -> str | None:
    return DateTimeField().to_representation(value) if value else None


def slugs(client: Any, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_case_detail_whole_response(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="united-kingdom", name="United Kingdom", country__code="GB")
    report = factories.SourceFactory(slug="audit", title="Audit", publisher="Auditor", url="https://example.org/a")
    partnership = factories.PartnershipFactory(slug="safe-met", name="SafeLives & Met")
    draft = factories.PartnershipFactory(is_published=False)
    practice = factories.SurveillancePracticeFactory(slug="data-sharing", name="Data Sharing")
    issue = factories.IssueTypeFactory(slug="privacy-breach", name="Privacy Breach")
    case = factories.OverreachCaseFactory(
        slug="london-2021", title="Shared victim data", location="London, UK", jurisdiction=uk, year=2021,
        partnership_type="NGO & Police", found_by="An independent audit", found_by_kind=FinderKind.AUDIT,
        summary="Data went to police.", outcome="Policy reforms", sources=[report],
    )  # fmt: skip
    case.partnerships.set([partnership, draft])
    case.surveillance_methods.set([practice])
    case.issues.set([issue])
    factories.CaseQuoteFactory(case=case, text="We felt watched.", speaker="A resident", source=report, position=1)
    claim_add(record=case, field="year", value="2021", source=report, locator="Table 6")
    case.refresh_from_db()
    source_row = {
        "slug": "audit",
        "title": "Audit",
        "publisher": "Auditor",
        "url": "https://example.org/a",
        "kind": "news",
        "tier": "secondary",
    }

    assert anon_client.get(f"{URL}london-2021/").json() == {
        "slug": "london-2021",
        "title": "Shared victim data",
        "location": "London, UK",
        "jurisdiction": {"slug": "united-kingdom", "name": "United Kingdom", "level": "national", "country": "GB"},
        "year": 2021,
        "partnerships": [{"slug": "safe-met", "name": "SafeLives & Met"}],
        "partnership_type": "NGO & Police",
        "surveillance_methods": [{"slug": "data-sharing", "name": "Data Sharing"}],
        "issues": [{"slug": "privacy-breach", "name": "Privacy Breach"}],
        "found_by": "An independent audit",
        "found_by_kind": "audit",
        "summary": "Data went to police.",
        "outcome": "Policy reforms",
        "quotes": [{"text": "We felt watched.", "speaker": "A resident", "source": source_row}],
        "disputed_fields": [],
        "dispute_resolutions": [],
        "sources": [source_row],
        "claims": [{"field": "year", "value": "2021", "source": "audit", "locator": "Table 6", "quote": ""}],
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        "first_published_at": iso(case.first_published_at),
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
    }


def test_case_filters(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="uk", country__code="GB")
    london = factories.JurisdictionFactory(slug="london", level=JurisdictionLevel.CITY, parent=uk, country=uk.country)
    practice = factories.SurveillancePracticeFactory(slug="cctv")
    issue = factories.IssueTypeFactory(slug="privacy-breach")
    partnership = factories.PartnershipFactory(slug="safe-met")
    london_case = factories.OverreachCaseFactory(
        slug="london-case", jurisdiction=london, year=2021, found_by_kind=FinderKind.JOURNALISM
    )
    london_case.surveillance_methods.set([practice])
    london_case.issues.set([issue])
    london_case.partnerships.set([partnership])
    factories.OverreachCaseFactory(slug="old-case", year=2005)
    assert slugs(anon_client, f"{URL}?jurisdiction=uk") == ["london-case"]
    assert slugs(anon_client, f"{URL}?country=GB") == ["london-case"]
    assert slugs(anon_client, f"{URL}?year_min=2010") == ["london-case"]
    assert slugs(anon_client, f"{URL}?year_max=2010") == ["old-case"]
    assert slugs(anon_client, f"{URL}?surveillance_method=cctv") == ["london-case"]
    assert slugs(anon_client, f"{URL}?issue=privacy-breach") == ["london-case"]
    assert slugs(anon_client, f"{URL}?partnership=safe-met") == ["london-case"]
    assert slugs(anon_client, f"{URL}?found_by_kind=journalism") == ["london-case"]
    assert anon_client.get(f"{URL}?issue=no-such-issue").status_code == 400
