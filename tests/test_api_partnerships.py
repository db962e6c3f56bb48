"""The partnerships endpoints of the public API: the pinned shape of a record, constant query counts, the
filters a journalist uses, publication rules, and a change history without personal data."""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.fields import DateTimeField

from geography.models import JurisdictionLevel
from partnerships.models import AssessmentStatus, DataSharing, Partnership, PartnershipStatus
from provenance.models import SourceKind, SourceTier
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def detail_url(slug: str) -> str:
    return f"{LIST_URL}{slug}/"


def iso(value: datetime.datetime | None) -> str | None:
    return DateTimeField().to_representation(value) if value else None


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def rich_partnership(n: int, **kwargs: Any) -> Any:
    """A partnership with ``n`` of every related row: parties, focus areas, practices, sources, claims."""
    partnership = factories.PartnershipFactory(
        ngos=[factories.NGOFactory() for _ in range(n)],
        police_departments=[factories.PoliceDepartmentFactory() for _ in range(n)],
        focus_areas=[factories.FocusAreaFactory() for _ in range(n)],
        sources=[factories.SourceFactory() for _ in range(n)],
        **kwargs,
    )
    partnership.surveillance_practices.set([factories.SurveillancePracticeFactory() for _ in range(n)])
    for i in range(n):
        factories.ClaimFactory(partnership=partnership, value=str(2010 + i % 2), locator=f"Table {i}")
        factories.MechanismAssessmentFactory(partnership=partnership)
    return partnership


def test_partnership_detail_whole_response(anon_client) -> None:
    europe = factories.RegionFactory(slug="europe", name="Europe")
    uk = factories.JurisdictionFactory(
        slug="united-kingdom", name="United Kingdom", country__code="GB", country__region=europe
    )
    london = factories.JurisdictionFactory(
        slug="london", name="London", level=JurisdictionLevel.CITY, parent=uk, country=uk.country
    )
    report = factories.SourceFactory(
        slug="safe-report",
        title="Safe Report",
        publisher="Home Office",
        url="https://example.org/safe",
        kind=SourceKind.PRIMARY_DOCUMENT,
        tier=SourceTier.PRIMARY,
    )
    news = factories.SourceFactory(slug="the-news", title="The News", publisher="Paper", url="https://example.org/n")
    ngo = factories.NGOFactory(slug="safe-lives", name="SafeLives", jurisdiction=uk)
    hidden_ngo = factories.NGOFactory(slug="draft-ngo", name="Draft NGO", is_published=False)
    police = factories.PoliceDepartmentFactory(slug="met", name="Metropolitan Police", jurisdiction=london)
    focus = factories.FocusAreaFactory(slug="domestic-violence", name="Domestic Violence")
    practice = factories.SurveillancePracticeFactory(slug="predictive-policing", name="Predictive Policing")
    partnership = factories.PartnershipFactory(
        slug="safe-met",
        name="SafeLives & Met",
        region=europe,
        jurisdiction=london,
        ngos=[ngo, hidden_ngo],
        police_departments=[police],
        focus_areas=[focus],
        sources=[report],
        focus_summary="Domestic violence victim support",
        primary_objective="Support victims",
        description="Referrals of victims.",
        year_established=2016,
        status=PartnershipStatus.ACTIVE,
        data_sharing=DataSharing.REFERRALS,
        editorial_note="2016 chosen from the MOU.",
    )
    partnership.surveillance_practices.set([practice])
    claim_add(
        record=partnership, field="year_established", value="2016", source=report, locator="p. 2", quote="In 2016"
    )
    claim_add(record=partnership, field="year_established", value="2001", source=news, locator="Table 2")
    oversight = factories.AccountabilityMechanismFactory(slug="independent-oversight", name="Oversight", position=1)
    factories.AccountabilityMechanismFactory(slug="transparency", name="Transparency", position=2)
    factories.AccountabilityMechanismFactory(slug="draft-mechanism", position=3, is_published=False)
    factories.MechanismAssessmentFactory(
        partnership=partnership, mechanism=oversight, status=AssessmentStatus.ABSENT, evidence=news, note="None."
    )
    gdpr = factories.LegalInstrumentFactory(
        slug="uk-gdpr", short_name="UK GDPR", title="UK General Data Protection Regulation", jurisdiction=uk
    )
    gdpr.official_url = "https://example.org/gdpr"
    gdpr.save()
    factories.LegalInstrumentFactory(jurisdiction=uk, is_published=False)
    partnership.refresh_from_db()

    response = anon_client.get(detail_url("safe-met"))

    assert response.status_code == 200
    assert response.json() == {
        "slug": "safe-met",
        "name": "SafeLives & Met",
        "region": {"slug": "europe", "name": "Europe"},
        "jurisdiction": {"slug": "london", "name": "London", "level": "city", "country": "GB"},
        "ngos": [{"slug": "safe-lives", "name": "SafeLives"}],
        "police_departments": [{"slug": "met", "name": "Metropolitan Police"}],
        "focus_areas": [{"slug": "domestic-violence", "name": "Domestic Violence"}],
        "focus_summary": "Domestic violence victim support",
        "primary_objective": "Support victims",
        "description": "Referrals of victims.",
        "year_established": 2016,
        "year_ended": None,
        "status": "active",
        "formalisation": "unknown",
        "data_sharing": "referrals",
        "surveillance_practices": [{"slug": "predictive-policing", "name": "Predictive Policing"}],
        "verification_status": "disputed",
        "disputed_fields": ["year_established"],
        "dispute_resolutions": [],
        "sources": [
            {
                "slug": "safe-report",
                "title": "Safe Report",
                "publisher": "Home Office",
                "url": "https://example.org/safe",
                "kind": "primary_document",
                "tier": "primary",
            }
        ],
        "claims": [
            {"field": "year_established", "value": "2001", "source": "the-news", "locator": "Table 2", "quote": ""},
            {
                "field": "year_established",
                "value": "2016",
                "source": "safe-report",
                "locator": "p. 2",
                "quote": "In 2016",
            },
        ],
        "editorial_note": "2016 chosen from the MOU.",
        "is_synthetic": False,
        "first_published_at": iso(partnership.first_published_at),
        "created_at": iso(partnership.created_at),
        "updated_at": iso(partnership.updated_at),
        "accountability_checklist": [
            {
                "mechanism": "independent-oversight",
                "name": "Oversight",
                "status": "absent",
                "evidence": "the-news",
                "note": "None.",
            },
            {"mechanism": "transparency", "name": "Transparency", "status": "unknown", "evidence": None, "note": ""},
        ],
        "applicable_law": [
            {
                "slug": "uk-gdpr",
                "short_name": "UK GDPR",
                "title": "UK General Data Protection Regulation",
                "kind": "statute",
                "jurisdiction": "united-kingdom",
                "official_url": "https://example.org/gdpr",
            }
        ],
    }


def test_list_rows_have_the_record_fields_without_checklist_and_law(anon_client) -> None:
    rich_partnership(2)
    row = anon_client.get(LIST_URL).json()["results"][0]
    assert "accountability_checklist" not in row
    assert "applicable_law" not in row
    assert len(row["ngos"]) == len(row["claims"]) == len(row["sources"]) == 2


def count_queries(client: Any, url: str) -> int:
    """Statements sent for one request, savepoints (from ATOMIC_REQUESTS inside the test's transaction) aside."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])


@override_settings(REGISTRY_API_ANON_RATE="")  # the throttle's cache queries depend on the cache backend
def test_list_query_count_does_not_grow_with_page_size(anon_client) -> None:
    for _ in range(6):
        rich_partnership(3)
    small = count_queries(anon_client, f"{LIST_URL}?page_size=5")
    large = count_queries(anon_client, f"{LIST_URL}?page_size=50")
    # 8 for the data: the page (with region, jurisdiction, country joined); NGOs, police departments, focus
    # areas, practices, sources, claims (with their sources), dispute resolutions. 1 for the ETag's version
    # (registry/api/conditional.py).
    assert small == large == 9


@override_settings(REGISTRY_API_ANON_RATE="")
def test_a_deep_page_costs_the_same_queries_as_the_first(anon_client) -> None:
    for _ in range(12):
        rich_partnership(2)
    first = anon_client.get(f"{LIST_URL}?page_size=2").json()
    url = first["next"]
    for _ in range(4):  # five pages down, through the cursors the API gives
        url = anon_client.get(url).json()["next"]
    deep = url.removeprefix("http://testserver")
    assert count_queries(anon_client, deep) == count_queries(anon_client, f"{LIST_URL}?page_size=2") == 9


def test_filtered_list_query_count_does_not_grow_with_page_size(anon_client) -> None:
    mechanism = factories.AccountabilityMechanismFactory(slug="oversight")
    for _ in range(6):
        rich_partnership(3)
    url = f"{LIST_URL}?mechanism_lacking=oversight&year_min=2000&disputed=true&count=true"
    assert count_queries(anon_client, f"{url}&page_size=5") == count_queries(anon_client, f"{url}&page_size=50")
    assert mechanism.slug == "oversight"


def test_detail_query_count_does_not_grow_with_related_rows(anon_client) -> None:
    few, many = rich_partnership(1), rich_partnership(5)
    assert count_queries(anon_client, detail_url(few.slug)) == count_queries(anon_client, detail_url(many.slug))


def test_unpublished_partnerships_never_appear(anon_client) -> None:
    shown = factories.PartnershipFactory()
    hidden = factories.PartnershipFactory(is_published=False)
    assert slugs(anon_client.get(LIST_URL)) == [shown.slug]
    for url in (detail_url(hidden.slug), f"{detail_url(hidden.slug)}history/"):
        response = anon_client.get(url)
        assert response.status_code == 404
        assert response.json() == {"errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


def test_pages_follow_next_links_through_every_record_once(anon_client) -> None:
    made = sorted(str(factories.PartnershipFactory().slug) for _ in range(7))
    seen: list[str] = []
    url: str | None = f"{LIST_URL}?page_size=3&count=true"
    while url:
        body = anon_client.get(url).json()
        assert body["count"] == 7
        seen += [row["slug"] for row in body["results"]]
        url = body["next"]
    assert seen == made


def test_count_only_when_asked(anon_client) -> None:
    factories.PartnershipFactory()
    assert "count" not in anon_client.get(LIST_URL).json()
    assert anon_client.get(f"{LIST_URL}?count=false").json().keys() == {"next", "previous", "results"}


def test_a_missing_trailing_slash_gets_a_404_that_points_to_the_address(anon_client) -> None:
    p = factories.PartnershipFactory()
    response = anon_client.get(f"/api/v1/partnerships/{p.slug}")
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert error["code"] == "not_found"
    assert f"Did you mean /api/v1/partnerships/{p.slug}/ (with a trailing slash)?" in error["detail"]


# --- Filters -----------------------------------------------------------------------------------------


def test_filter_by_region_country_and_jurisdiction_including_below(anon_client) -> None:
    europe = factories.RegionFactory(slug="europe")
    uk = factories.JurisdictionFactory(slug="uk", country__code="GB", country__slug="united-kingdom")
    london = factories.JurisdictionFactory(slug="london", level=JurisdictionLevel.CITY, parent=uk, country=uk.country)
    in_london = factories.PartnershipFactory(slug="in-london", region=europe, jurisdiction=london)
    in_uk = factories.PartnershipFactory(slug="in-uk", region=europe, jurisdiction=uk)
    factories.PartnershipFactory(slug="elsewhere")
    assert slugs(anon_client.get(f"{LIST_URL}?region=europe")) == ["in-london", "in-uk"]
    assert slugs(anon_client.get(f"{LIST_URL}?country=GB")) == ["in-london", "in-uk"]
    assert slugs(anon_client.get(f"{LIST_URL}?country=united-kingdom")) == ["in-london", "in-uk"]
    assert slugs(anon_client.get(f"{LIST_URL}?jurisdiction=uk")) == ["in-london", "in-uk"]
    assert slugs(anon_client.get(f"{LIST_URL}?jurisdiction=london")) == [in_london.slug]
    assert in_uk.slug == "in-uk"


def test_filter_by_parties_focus_and_practice(anon_client) -> None:
    ngo, police = factories.NGOFactory(slug="refuge"), factories.PoliceDepartmentFactory(slug="nypd")
    focus, practice = factories.FocusAreaFactory(slug="trafficking"), factories.SurveillancePracticeFactory(slug="cctv")
    chosen = factories.PartnershipFactory(slug="chosen", ngos=[ngo], police_departments=[police], focus_areas=[focus])
    chosen.surveillance_practices.set([practice])
    factories.PartnershipFactory(slug="other")
    for query in ("ngo=refuge", "police_department=nypd", "focus_area=trafficking", "surveillance_practice=cctv"):
        assert slugs(anon_client.get(f"{LIST_URL}?{query}")) == ["chosen"], query


def test_filter_by_year_range_status_sharing_and_verification(anon_client) -> None:
    factories.PartnershipFactory(slug="old", year_established=1990, status=PartnershipStatus.ACTIVE)
    factories.PartnershipFactory(
        slug="new", year_established=2020, data_sharing=DataSharing.REAL_TIME, verification_status="verified"
    )
    assert slugs(anon_client.get(f"{LIST_URL}?year_min=2000")) == ["new"]
    assert slugs(anon_client.get(f"{LIST_URL}?year_max=2000")) == ["old"]
    assert slugs(anon_client.get(f"{LIST_URL}?year_min=1980&year_max=2020")) == ["new", "old"]
    assert slugs(anon_client.get(f"{LIST_URL}?status=active")) == ["old"]
    assert slugs(anon_client.get(f"{LIST_URL}?data_sharing=real_time")) == ["new"]
    assert slugs(anon_client.get(f"{LIST_URL}?verification_status=verified")) == ["new"]


def test_disputed_filter(anon_client) -> None:
    disputed = factories.PartnershipFactory(slug="disputed")
    factories.PartnershipFactory(slug="settled")
    claim_add(record=disputed, field="year_established", value="2016", source=factories.SourceFactory())
    claim_add(record=disputed, field="year_established", value="2001", source=factories.SourceFactory())
    assert slugs(anon_client.get(f"{LIST_URL}?disputed=true")) == ["disputed"]
    assert slugs(anon_client.get(f"{LIST_URL}?disputed=false")) == ["settled"]


def test_mechanism_filters(anon_client) -> None:
    oversight = factories.AccountabilityMechanismFactory(slug="oversight")
    for slug, status in (("present", AssessmentStatus.PRESENT), ("absent", AssessmentStatus.ABSENT)):
        factories.MechanismAssessmentFactory(
            partnership=factories.PartnershipFactory(slug=slug), mechanism=oversight, status=status
        )
    factories.PartnershipFactory(slug="unassessed")
    assert slugs(anon_client.get(f"{LIST_URL}?mechanism_present=oversight")) == ["present"]
    assert slugs(anon_client.get(f"{LIST_URL}?mechanism_absent=oversight")) == ["absent"]
    assert slugs(anon_client.get(f"{LIST_URL}?mechanism_unknown=oversight")) == ["unassessed"]
    assert slugs(anon_client.get(f"{LIST_URL}?mechanism_lacking=oversight")) == ["absent", "unassessed"]


def test_changed_since(anon_client) -> None:
    old = factories.PartnershipFactory(slug="old")
    Partnership.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=30))
    factories.PartnershipFactory(slug="recent")
    since = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert slugs(anon_client.get(LIST_URL, {"changed_since": since})) == ["recent"]


# --- History -----------------------------------------------------------------------------------------


def test_history_lists_changes_newest_first_without_personal_data(anon_client, editor) -> None:
    partnership = factories.PartnershipFactory(name="Before")
    with pghistory.context(user=editor.pk, url="/admin/partnerships/partnership/1/change/?token=secret-token"):
        partnership.name = "After"
        partnership.year_established = 2001
        partnership.save()

    response = anon_client.get(f"{detail_url(partnership.slug)}history/")

    assert response.status_code == 200
    events = response.json()
    own_row = [(e["event"], e["changed_fields"]) for e in events if e["event"] in {"insert", "update", "delete"}]
    assert own_row == [("update", ["name", "year_established"]), ("insert", [])]
    assert ("add", ["ngos"]) in [(e["event"], e["changed_fields"]) for e in events]
    assert all(e.keys() == {"event", "at", "changed_fields"} for e in events)
    text = response.content.decode()
    for personal in (editor.username, editor.email, "secret-token", "/admin/", '"user"'):
        assert personal not in text
