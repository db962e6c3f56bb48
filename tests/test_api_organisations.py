"""NGOs, police departments, surveillance practices and accountability mechanisms in the API: pinned shapes
and the filters (jurisdiction including below, country, verification status, disputed)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.fields import DateTimeField

from geography.models import JurisdictionLevel
from provenance.models import SourceKind, SourceTier
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


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


def test_ngo_detail_whole_response(anon_client) -> None:
    uk = factories.JurisdictionFactory(slug="united-kingdom", name="United Kingdom", country__code="GB")
    mou = factories.SourceFactory(
        slug="mou", title="The MOU", publisher="Home Office", url="https://example.org/mou",
        kind=SourceKind.PRIMARY_DOCUMENT, tier=SourceTier.PRIMARY,
    )  # fmt: skip
    news = factories.SourceFactory(slug="news", title="News", publisher="Paper", url="https://example.org/n")
    ngo = factories.NGOFactory(
        slug="safe-lives", name="SafeLives", aliases=["SL"], jurisdiction=uk, website="https://safelives.example",
        description="Domestic abuse charity.", sources=[mou], editorial_note="Name as registered.",
    )  # fmt: skip
    claim_add(record=ngo, field="name", value="SafeLives", source=mou, locator="p. 1")
    claim_add(record=ngo, field="name", value="Safe Lives", source=news)
    factories.PartnershipFactory(slug="safe-met", name="SafeLives & Met", ngos=[ngo])
    factories.PartnershipFactory(slug="draft", ngos=[ngo], is_published=False)

    response = anon_client.get("/api/v1/ngos/safe-lives/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "safe-lives",
        "name": "SafeLives",
        "aliases": ["SL"],
        "jurisdiction": {"slug": "united-kingdom", "name": "United Kingdom", "level": "national", "country": "GB"},
        "website": "https://safelives.example",
        "description": "Domestic abuse charity.",
        "disputed_fields": ["name"],
        "dispute_resolutions": [],
        "sources": [
            {
                "slug": "mou",
                "title": "The MOU",
                "publisher": "Home Office",
                "url": "https://example.org/mou",
                "kind": "primary_document",
                "tier": "primary",
            }
        ],
        "claims": [
            {"field": "name", "value": "Safe Lives", "source": "news", "locator": "", "quote": ""},
            {"field": "name", "value": "SafeLives", "source": "mou", "locator": "p. 1", "quote": ""},
        ],
        "verification_status": "disputed",
        "editorial_note": "Name as registered.",
        "is_synthetic": False,
        **stamps(ngo),
        "partnerships": [{"slug": "safe-met", "name": "SafeLives & Met"}],
    }


def test_ngo_list_rows_leave_out_partnerships(anon_client) -> None:
    factories.PartnershipFactory()
    row = anon_client.get("/api/v1/ngos/").json()["results"][0]
    assert "partnerships" not in row
    assert "claims" in row


def test_police_department_detail_lists_its_published_partnerships(anon_client) -> None:
    police = factories.PoliceDepartmentFactory(slug="nypd", name="NYPD")
    factories.PartnershipFactory(slug="shown", name="Shown", police_departments=[police])
    factories.PartnershipFactory(slug="hidden", police_departments=[police], is_published=False)
    body = anon_client.get("/api/v1/police-departments/nypd/").json()
    assert body["partnerships"] == [{"slug": "shown", "name": "Shown"}]
    assert body["name"] == "NYPD"


@pytest.mark.parametrize(
    ("resource", "factory"), [("ngos", "NGOFactory"), ("police-departments", "PoliceDepartmentFactory")]
)
def test_organisation_filters(anon_client, resource: str, factory: str) -> None:
    make = getattr(factories, factory)
    uk = factories.JurisdictionFactory(slug="uk", country__code="GB", country__slug="united-kingdom")
    london = factories.JurisdictionFactory(slug="london", level=JurisdictionLevel.CITY, parent=uk, country=uk.country)
    make(slug="in-london", jurisdiction=london)
    make(slug="in-uk", jurisdiction=uk, verification_status="verified")
    disputed = make(slug="elsewhere")
    claim_add(record=disputed, field="name", value="A", source=factories.SourceFactory())
    claim_add(record=disputed, field="name", value="B", source=factories.SourceFactory())
    url = f"/api/v1/{resource}/"
    assert slugs(anon_client, f"{url}?jurisdiction=uk") == ["in-london", "in-uk"]
    assert slugs(anon_client, f"{url}?jurisdiction=london") == ["in-london"]
    assert slugs(anon_client, f"{url}?country=GB") == ["in-london", "in-uk"]
    assert slugs(anon_client, f"{url}?country=united-kingdom") == ["in-london", "in-uk"]
    assert slugs(anon_client, f"{url}?verification_status=verified") == ["in-uk"]
    assert slugs(anon_client, f"{url}?disputed=true") == ["elsewhere"]
    assert slugs(anon_client, f"{url}?disputed=false") == ["in-london", "in-uk"]
    assert anon_client.get(f"{url}?jurisdiction=atlantis").status_code == 400


def test_surveillance_practice_detail_whole_response(anon_client) -> None:
    report = factories.SourceFactory(slug="report", title="Report", publisher="NGO", url="https://example.org/r")
    practice = factories.SurveillancePracticeFactory(
        slug="predictive-policing", name="Predictive Policing", implementation="Data analytics",
        concerns="Bias", description="Forecasting crime.", sources=[report],
    )  # fmt: skip
    claim_add(record=practice, field="concerns", value="Bias", source=report, locator="Table 5")

    assert anon_client.get("/api/v1/surveillance-practices/predictive-policing/").json() == {
        "slug": "predictive-policing",
        "name": "Predictive Policing",
        "implementation": "Data analytics",
        "concerns": "Bias",
        "description": "Forecasting crime.",
        "disputed_fields": [],
        "dispute_resolutions": [],
        "sources": [
            {
                "slug": "report",
                "title": "Report",
                "publisher": "NGO",
                "url": "https://example.org/r",
                "kind": "news",
                "tier": "secondary",
            }
        ],
        "claims": [{"field": "concerns", "value": "Bias", "source": "report", "locator": "Table 5", "quote": ""}],
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        **stamps(practice),
    }


def test_accountability_mechanism_detail_and_checklist_order(anon_client) -> None:
    mechanism = factories.AccountabilityMechanismFactory(
        slug="independent-oversight", name="Independent oversight", recommendation="Enforce Independent Oversight",
        description="An external body reviews.", expected_outcome="Fewer abuses", position=1, sources=[],
    )  # fmt: skip
    factories.AccountabilityMechanismFactory(slug="a-last", position=9)
    factories.AccountabilityMechanismFactory(slug="z-first", position=0)

    assert anon_client.get("/api/v1/accountability-mechanisms/independent-oversight/").json() == {
        "slug": "independent-oversight",
        "name": "Independent oversight",
        "recommendation": "Enforce Independent Oversight",
        "description": "An external body reviews.",
        "expected_outcome": "Fewer abuses",
        "position": 1,
        "sources": [],
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        **stamps(mechanism),
    }
    assert slugs(anon_client, "/api/v1/accountability-mechanisms/") == ["z-first", "independent-oversight", "a-last"]
    assert slugs(anon_client, "/api/v1/accountability-mechanisms/?page_size=2") == ["z-first", "independent-oversight"]
