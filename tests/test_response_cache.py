"""The shared caches of rendered responses (registry/response_cache.py), API and pages: a repeated request is served
from the cache with one query, the same bytes and the same validators; an edit anywhere shows on the next request;
editors, exports and errors are never cached; the host, the htmx headers and the query are part of the key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from partnerships.models import Partnership
from provenance.services import claim_add, record_upsert
from registry.versioning import data_version, event_tables
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def detail_url(slug: str) -> str:
    return f"{LIST_URL}{slug}/"


def data_queries(client: Client, url: str, **headers: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.fixture(autouse=True)
def _response_cache_on(settings: Any) -> Any:
    """The cache on (the test settings turn it off), in a local cache of this test's own."""
    settings.REGISTRY_API_CACHE_SECONDS = 300
    settings.REGISTRY_PAGE_CACHE_SECONDS = 300
    settings.REGISTRY_API_ANON_RATE = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}}
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("kind", ["list", "filtered list", "detail"])
def test_a_repeated_request_is_served_from_the_cache_in_one_query(anon_client: Client, kind: str) -> None:
    partnerships = [factories.PartnershipFactory() for _ in range(3)]
    first_row = partnerships[0]
    url = {
        "list": LIST_URL,
        "filtered list": f"{LIST_URL}?region={first_row.region.slug}&page_size=2",
        "detail": detail_url(first_row.slug),
    }[kind]
    first, cold = data_queries(anon_client, url)
    assert first.status_code == 200

    again, warm = data_queries(anon_client, url)

    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]
    assert again["Content-Type"] == first["Content-Type"]
    assert len(warm) == 1, warm  # the data version only
    assert len(cold) > 1


def test_the_version_is_one_query_over_every_event_table() -> None:
    before = data_version()
    factories.PartnershipFactory()
    with CaptureQueriesContext(connection) as queries:
        version = data_version()
    assert len(queries.captured_queries) == 1
    assert version.token != before.token
    assert version.changed_at is not None
    # The function (recreated after every migrate, registry/apps.py) must read every event table.
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'registry_data_version'")
        [(source,)] = cursor.fetchall()
    assert len(event_tables()) >= 40
    missing = [table for table in event_tables() if f'FROM "{table}"' not in source]
    assert missing == [], f"registry_data_version() misses {missing}: run migrate (registry/apps.py)"


@pytest.mark.parametrize("change", ["a claim", "a law", "a case", "a link removed"])
def test_every_kind_of_edit_changes_the_version(change: str) -> None:
    partnership = factories.PartnershipFactory()
    before = data_version().token
    if change == "a claim":
        claim_add(record=partnership, field="year_established", value="1999", source=partnership.sources.get())
    elif change == "a law":
        factories.LegalInstrumentFactory()
    elif change == "a case":
        factories.OverreachCaseFactory()
    else:
        partnership.ngos.clear()
    assert data_version().token != before


@pytest.mark.parametrize("kind", ["list", "detail"])
def test_a_conditional_request_is_answered_304_from_the_cache(anon_client: Client, kind: str) -> None:
    partnership = factories.PartnershipFactory()
    url = LIST_URL if kind == "list" else detail_url(partnership.slug)
    first = anon_client.get(url)

    again, queries = data_queries(anon_client, url, If_None_Match=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert len(queries) == 1


def test_an_edit_shows_on_the_next_request(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    before_detail = anon_client.get(detail_url(partnership.slug))
    before_list = anon_client.get(LIST_URL)

    record_upsert(model=Partnership, lookup={"pk": partnership.pk}, values={"name": "Renamed partnership"})

    detail = anon_client.get(detail_url(partnership.slug))
    listed = anon_client.get(LIST_URL)
    assert detail.json()["name"] == "Renamed partnership"
    assert detail["ETag"] != before_detail["ETag"]
    assert listed.json()["results"][0]["name"] == "Renamed partnership"
    assert listed["ETag"] != before_list["ETag"]


def test_an_edit_to_a_related_record_shows_on_the_next_request(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    anon_client.get(detail_url(partnership.slug))
    claim_add(record=partnership, field="year_established", value="2015", source=partnership.sources.get())
    ngo = partnership.ngos.get()
    record_upsert(model=type(ngo), lookup={"pk": ngo.pk}, values={"name": "A renamed NGO"})

    body = anon_client.get(detail_url(partnership.slug)).json()

    assert [claim["value"] for claim in body["claims"]] == ["2015"]
    assert [item["name"] for item in body["ngos"]] == ["A renamed NGO"]


def test_a_new_record_shows_in_the_cached_list(anon_client: Client) -> None:
    factories.PartnershipFactory()
    assert len(anon_client.get(LIST_URL).json()["results"]) == 1
    factories.PartnershipFactory()
    assert len(anon_client.get(LIST_URL).json()["results"]) == 2


def test_the_host_is_part_of_the_key(anon_client: Client) -> None:
    factories.PartnershipFactory()
    factories.PartnershipFactory()
    url = f"{LIST_URL}?page_size=1"
    local = anon_client.get(url, HTTP_HOST="localhost").json()
    other = anon_client.get(url, HTTP_HOST="127.0.0.1").json()
    # The next page's link is absolute: a cached copy for one host must not send a client to another.
    assert local["next"].startswith("http://localhost/")
    assert other["next"].startswith("http://127.0.0.1/")


def test_exports_and_errors_are_not_cached(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    csv_before = b"".join(anon_client.get(f"{LIST_URL}?format=csv").streaming_content)
    bad = anon_client.get(f"{LIST_URL}?colour=red")
    assert bad.status_code == 400

    record_upsert(model=Partnership, lookup={"pk": partnership.pk}, values={"name": "Renamed for the export"})

    csv_after = b"".join(anon_client.get(f"{LIST_URL}?format=csv").streaming_content)
    assert b"Renamed for the export" in csv_after
    assert csv_after != csv_before
    assert anon_client.get(f"{LIST_URL}?colour=red").status_code == 400


def test_an_editors_request_is_neither_served_from_nor_stored_in_the_cache(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    user = factories.UserFactory()
    editor = Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})

    anon_client.get(detail_url(partnership.slug))  # stored
    _, editor_queries = data_queries(editor, detail_url(partnership.slug))
    assert len(editor_queries) > 2  # the whole read, not the cached copy


def test_zero_seconds_turns_the_cache_off(anon_client: Client, settings: Any) -> None:
    settings.REGISTRY_API_CACHE_SECONDS = 0
    settings.REGISTRY_PAGE_CACHE_SECONDS = 0
    partnership = factories.PartnershipFactory()
    anon_client.get(detail_url(partnership.slug))
    _, queries = data_queries(anon_client, detail_url(partnership.slug))
    assert len(queries) > 2


# --- Pages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["home", "list", "filtered list", "partnership", "map"])
def test_a_repeated_page_is_served_from_the_cache_in_one_query(anon_client: Client, page: str) -> None:
    partnerships = [factories.PartnershipFactory() for _ in range(3)]
    url = {
        "home": "/",
        "list": "/partnerships/",
        "filtered list": f"/partnerships/?region={partnerships[0].region.slug}",
        "partnership": f"/partnerships/{partnerships[0].slug}/",
        "map": "/map/",
    }[page]
    first, cold = data_queries(anon_client, url)
    assert first.status_code == 200

    again, warm = data_queries(anon_client, url)

    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]  # outer middleware still runs
    assert len(warm) == 1, warm
    assert len(cold) > 1


def test_an_edit_shows_on_the_next_page_view(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    assert b"Renamed on the page" not in anon_client.get(f"/partnerships/{partnership.slug}/").content
    assert b"Renamed on the page" not in anon_client.get("/partnerships/").content

    record_upsert(model=Partnership, lookup={"pk": partnership.pk}, values={"name": "Renamed on the page"})

    assert b"Renamed on the page" in anon_client.get(f"/partnerships/{partnership.slug}/").content
    assert b"Renamed on the page" in anon_client.get("/partnerships/").content


def test_an_htmx_swap_and_a_full_page_are_cached_apart(anon_client: Client) -> None:
    factories.PartnershipFactory()
    full = anon_client.get("/partnerships/")
    partial = anon_client.get("/partnerships/", headers={"HX-Request": "true", "HX-Target": "browse"})
    full_again = anon_client.get("/partnerships/")

    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert full_again.content == full.content


def test_a_bad_query_is_answered_400_every_time(anon_client: Client) -> None:
    factories.PartnershipFactory()
    assert anon_client.get("/partnerships/?colour=red").status_code == 400
    assert anon_client.get("/partnerships/?colour=red").status_code == 400


def test_an_editor_sees_pages_uncached(admin_client: Client, anon_client: Client) -> None:
    partnership = factories.PartnershipFactory()
    anon_client.get(f"/partnerships/{partnership.slug}/")
    _, queries = data_queries(admin_client, f"/partnerships/{partnership.slug}/")
    assert len(queries) > 2
