"""Atom feeds: /feeds/changes/ (new and changed records of every type) and /feeds/partnerships/?<filters> (the
partnerships of a filtered list). Well-formed Atom, absolute links to each record's page, newest change first,
published records only, no personal data, a 400 for a parameter the list does not know, a fixed number of
queries."""

import datetime
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerships.models import Partnership
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own feed, parsed to check that it is well-formed


def entries(root: ET.Element) -> list[dict[str, Any]]:
    out = []
    for entry in root.findall(f"{ATOM}entry"):
        out.append(
            {
                "title": entry.findtext(f"{ATOM}title"),
                "link": entry.find(f"{ATOM}link").get("href"),
                "id": entry.findtext(f"{ATOM}id"),
                "updated": entry.findtext(f"{ATOM}updated"),
                "published": entry.findtext(f"{ATOM}published"),
                "summary": entry.findtext(f"{ATOM}summary"),
                "category": entry.find(f"{ATOM}category").get("term"),
            }
        )
    return out


def test_changes_feed_lists_new_and_changed_published_records_of_every_type(anon_client):
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD", slug="safe-horizon-nypd")
    instrument = factories.LegalInstrumentFactory(short_name="GDPR", title="General Data Protection Regulation")
    case = factories.OverreachCaseFactory(title="Shared database audit", location="London, UK", year=2021)
    factories.PartnershipFactory(name="Draft partnership", is_published=False)
    factories.LegalInstrumentFactory(short_name="DRAFT-ACT", is_published=False)
    factories.OverreachCaseFactory(title="Draft case", is_published=False)
    Partnership.objects.filter(pk=partnership.pk).update(updated_at=timezone.now() + datetime.timedelta(minutes=1))

    root = feed(anon_client, "/feeds/changes/")

    assert root.findtext(f"{ATOM}title") == "Partnership Registry: new and changed records"
    assert root.findtext(f"{ATOM}id") == "http://testserver/feeds/changes/"
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Partnership Registry"
    found = {e["title"]: e for e in entries(root)}
    assert "Draft partnership" not in found
    assert "DRAFT-ACT" not in str(found)
    assert "Draft case" not in found
    first = entries(root)[0]
    assert first["title"] == "Safe Horizon & NYPD"  # changed last
    assert first["link"] == "http://testserver/partnerships/safe-horizon-nypd/"
    assert first["id"] == first["link"]
    assert first["category"] == "Partnership"
    assert first["summary"].startswith(f"Partnership in {partnership.jurisdiction.name}, {partnership.region.name}")
    assert "established 2015" in first["summary"]
    assert "Verification status: Unverified" in first["summary"]
    assert first["published"] is not None
    law = found["GDPR: General Data Protection Regulation"]
    assert law["link"] == f"http://testserver/legal/instruments/{instrument.slug}/"
    assert law["summary"].startswith(
        f"Legal instrument of {instrument.jurisdiction.name}, from 2018; kind: Statute (act of a legislature)."
    )
    overreach = found["Shared database audit"]
    assert overreach["link"] == f"http://testserver/cases/{case.slug}/"
    assert overreach["summary"].startswith("Overreach case in London, UK, in 2021.")
    # Every link is absolute, every entry has a date; organisations are records too.
    assert all(e["link"].startswith("http://testserver/") for e in entries(root))
    assert all(e["updated"] for e in entries(root))
    assert {"NGO", "Police department"} <= {e["category"] for e in entries(root)}


def test_feeds_hold_no_personal_data(anon_client):
    editor = factories.UserFactory(
        username="jane.private",
        email="jane.private@example.org",
        first_name="Jane",
        last_name="Private",
        is_staff=True,
        is_superuser=True,
    )
    admin = Client()
    admin.force_login(editor)
    source = factories.SourceFactory()
    p = factories.PartnershipFactory(name="Before the edit", sources=[source])
    path = f"/admin/partnerships/partnership/{p.pk}/change/"
    data = admin_change_form_data(admin.get(path), name="Edited in the admin", _save="Save")
    assert admin.post(path, data).status_code == 302  # a change on the record, by a named editor

    body = (
        anon_client.get("/feeds/changes/").content.decode() + anon_client.get("/feeds/partnerships/").content.decode()
    )

    assert body.count("Edited in the admin") == 2
    assert "jane" not in body.lower()
    assert "private" not in body.lower()
    assert body.count("<author>") == 2  # the feeds' own ("Partnership Registry"), none per entry


def test_changes_feed_holds_the_newest_fifty_changes(anon_client):
    for n in range(53):
        factories.PartnershipFactory(name=f"Partnership number {n}", ngos=[], police_departments=[])

    found = entries(feed(anon_client, "/feeds/changes/"))

    assert len(found) == 50
    updated = [e["updated"] for e in found]
    assert updated == sorted(updated, reverse=True)
    assert found[0]["title"] == "Partnership number 52"
    titles = {e["title"] for e in found}
    assert "Partnership number 0" not in titles  # among the oldest changes


def test_partnerships_feed_follows_the_list_filters(anon_client):
    europe = factories.RegionFactory(name="Europe", slug="europe")
    victims = factories.FocusAreaFactory(name="Victim support", slug="victim-support")
    factories.PartnershipFactory(name="In Europe, victims", region=europe, focus_areas=[victims])
    factories.PartnershipFactory(name="In Europe, other", region=europe)
    factories.PartnershipFactory(name="Elsewhere, victims", focus_areas=[victims])
    factories.PartnershipFactory(name="Draft in Europe", region=europe, focus_areas=[victims], is_published=False)

    root = feed(anon_client, "/feeds/partnerships/?region=europe&focus_area=victim-support")

    assert [e["title"] for e in entries(root)] == ["In Europe, victims"]
    assert root.findtext(f"{ATOM}title") == (
        "Partnership Registry: partnerships, region: Europe; focus area: Victim support"
    )
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["alternate"] == "http://testserver/partnerships/?region=europe&focus_area=victim-support"
    assert links["self"] == "http://testserver/feeds/partnerships/?region=europe&focus_area=victim-support"

    everything = feed(anon_client, "/feeds/partnerships/")
    assert everything.findtext(f"{ATOM}title") == "Partnership Registry: partnerships, all"
    assert {e["title"] for e in entries(everything)} == {"In Europe, victims", "In Europe, other", "Elsewhere, victims"}
    newest = entries(feed(anon_client, "/feeds/partnerships/?ordering=name"))
    assert newest[0]["title"] == "Elsewhere, victims"  # a feed is always newest change first


@pytest.mark.parametrize(
    "query",
    ["?colour=blue", "?region=atlantis", "?year_min=1500", "?region=europe&region=asia", "?page=2"],
)
def test_partnerships_feed_refuses_what_the_list_does_not_know(anon_client, query):
    factories.RegionFactory(slug="europe")
    factories.RegionFactory(slug="asia")

    response = anon_client.get(f"/feeds/partnerships/{query}")

    assert response.status_code == 400


def seed(n: int) -> None:
    region = factories.RegionFactory(slug=f"region-seed-{n}")
    for _ in range(n):
        factories.PartnershipFactory(region=region, focus_areas=[factories.FocusAreaFactory()])
        factories.LegalInstrumentFactory()
        factories.OverreachCaseFactory()
        factories.OversightBodyFactory()
        factories.SurveillancePracticeFactory()


@pytest.mark.parametrize("url", ["/feeds/changes/", "/feeds/partnerships/", "/feeds/partnerships/?region={region}"])
def test_feed_query_count_does_not_grow_with_rows(anon_client, url):
    seed(2)
    region = Partnership.objects.first().region.slug
    with CaptureQueriesContext(connection) as few:
        feed(anon_client, url.format(region=region))
    seed(8)
    Partnership.objects.update(region=Partnership.objects.first().region)
    with CaptureQueriesContext(connection) as many:
        root = feed(anon_client, url.format(region=region))

    assert len(entries(root)) >= 10
    assert len(many) == len(few)
