"""Searching and sorting partnerships in the API: ``?q=`` (web-search syntax, accents and typos forgiven, best
match first) and ``?ordering=``, with cursors that page through every result exactly once."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import Partnership
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def search(client: Any, q: str, **params: Any) -> list[str]:
    return slugs(client.get(LIST_URL, {"q": q, **params}))


def make(**kwargs: Any) -> Any:
    """A partnership without the factory's default organisations, whose names would match some searches."""
    kwargs.setdefault("ngos", [])
    kwargs.setdefault("police_departments", [])
    return factories.PartnershipFactory(**kwargs)


def every_page(client: Any, params: dict[str, Any]) -> list[str]:
    """Follow the next links from the first page; return the slugs in the order served."""
    seen: list[str] = []
    response = client.get(LIST_URL, params)
    while True:
        seen += slugs(response)
        url = response.json()["next"]
        if url is None:
            return seen
        response = client.get(url)


def test_a_name_match_ranks_above_a_description_match(anon_client) -> None:
    make(slug="a-described", name="Family Support", description="Works with Safe Horizon.")
    make(slug="z-named", name="Safe Horizon & NYPD", description="Victim support.")
    make(slug="unrelated", name="Street Outreach", description="Homeless services.")
    assert search(anon_client, "horizon") == ["z-named", "a-described"]


def test_web_search_syntax_phrases_and_exclusions(anon_client) -> None:
    make(slug="phrase", name="Domestic Violence Unit", description="Joint response.")
    make(slug="apart", name="Violence Prevention", description="Domestic visits.")
    assert sorted(search(anon_client, "domestic violence")) == ["apart", "phrase"]
    assert search(anon_client, '"domestic violence"') == ["phrase"]
    assert search(anon_client, "violence -unit") == ["apart"]
    assert sorted(search(anon_client, "unit or prevention")) == ["apart", "phrase"]


def test_accents_are_ignored_both_ways(anon_client) -> None:
    make(slug="policia", name="Policía Nacional y Cruz Roja")
    make(slug="cafe", name="Community Cafe Project")
    assert search(anon_client, "policia") == ["policia"]
    assert search(anon_client, "Policía") == ["policia"]
    assert search(anon_client, "café") == ["cafe"]


def test_a_near_miss_name_is_found(anon_client) -> None:
    make(slug="safe-horizon", name="Safe Horizon & NYPD")
    make(slug="other", name="Street Outreach Team")
    assert search(anon_client, "Safe Horison") == ["safe-horizon"]


def test_the_name_of_a_published_ngo_or_police_department_finds_its_partnerships(anon_client) -> None:
    ngo = factories.NGOFactory(name="Women's Aid Federation")
    police = factories.PoliceDepartmentFactory(name="Greater Manchester Police")
    hidden = factories.NGOFactory(name="Secret Helpers Collective", is_published=False)
    make(slug="by-ngo", name="Joint Referral Scheme", ngos=[ngo])
    make(slug="by-police", name="Night Safety Pilot", police_departments=[police])
    make(slug="by-hidden", name="Quiet Project", ngos=[hidden])
    assert search(anon_client, "Womens Aid") == ["by-ngo"]
    assert search(anon_client, "manchester police") == ["by-police"]
    assert search(anon_client, "Secret Helpers") == []


def test_no_match_is_an_empty_page(anon_client) -> None:
    make(name="Safe Horizon & NYPD")
    response = anon_client.get(LIST_URL, {"q": "zzyzx quokka"})
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_search_combines_with_filters_and_never_shows_unpublished(anon_client) -> None:
    make(slug="old", name="Harbour Watch", year_established=2001)
    make(slug="new", name="Harbour Watch Two", year_established=2019)
    make(slug="hidden", name="Harbour Watch Three", is_published=False)
    assert search(anon_client, "harbour", year_min=2010) == ["new"]
    assert sorted(search(anon_client, "harbour")) == ["new", "old"]


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("x" * 100_000, "Search terms are limited to 200 characters (this one has 100000)."),
        ("x" * 201, "Search terms are limited to 200 characters (this one has 201)."),
        ("   ", "Give at least one word to search for."),
    ],
)
def test_oversized_or_blank_searches_are_refused(anon_client, q: str, message: str) -> None:
    response = anon_client.get(LIST_URL, {"q": q})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "max_length" if "limited" in message else "invalid", "detail": message, "attr": "q"}
    ]


def test_a_nul_character_in_the_search_is_refused(anon_client) -> None:
    response = anon_client.get(LIST_URL, {"q": "safe\x00horizon"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "q"


def test_a_200_character_search_is_answered(anon_client) -> None:
    assert search(anon_client, "horizon " * 25) == []


def count_queries(client: Any, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content
    return len(queries)


def test_search_query_count_does_not_grow_with_page_size(anon_client) -> None:
    for i in range(8):
        make(name=f"Harbour Watch {i}", ngos=[factories.NGOFactory(), factories.NGOFactory()], description="Harbour")
    small = count_queries(anon_client, {"q": "harbour", "page_size": 5})
    large = count_queries(anon_client, {"q": "harbour", "page_size": 50})
    assert small == large


def test_paging_through_search_results_serves_each_once_best_first(anon_client) -> None:
    # Equal ranks (same text) and different ones (the name repeats the word): the cursor must hold the rank
    # and the slug, or ties would repeat or skip rows across pages.
    for i in range(7):
        make(slug=f"tie-{i}", name=f"Harbour Watch {i}")
    for i in range(4):
        make(slug=f"best-{i}", name=f"Harbour Harbour Watch {i}", description="Harbour")
    make(slug="described", name="Coastal Team", description="Harbour patrols")
    make(slug="no-match", name="Street Outreach")
    whole = search(anon_client, "harbour", page_size=100)
    assert len(whole) == 12
    assert "no-match" not in whole
    assert set(whole[:4]) == {f"best-{i}" for i in range(4)}
    assert whole[-1] == "described"
    paged = every_page(anon_client, {"q": "harbour", "page_size": 3})
    assert paged == whole


def test_previous_links_go_back_to_the_same_pages(anon_client) -> None:
    for i in range(7):
        make(slug=f"p-{i}", name=f"Harbour {'Watch ' * (i % 3)}{i}")
    first = anon_client.get(LIST_URL, {"q": "harbour watch", "page_size": 3}).json()
    second = anon_client.get(first["next"]).json()
    back = anon_client.get(second["previous"]).json()
    assert [row["slug"] for row in back["results"]] == [row["slug"] for row in first["results"]]


ORDERINGS = ["name", "-name", "year_established", "-year_established", "updated_at", "-updated_at"]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_each_ordering_pages_through_every_record_once(anon_client, ordering: str) -> None:
    # Shared names and years (and unknown years) tie on the first key: the slug breaks every tie.
    for i in range(9):
        make(slug=f"p-{(i * 7) % 9}", name=f"Project {i % 3}", year_established=[2001, 2010, None][i % 3])
    field = ordering.lstrip("-")
    rows = list(Partnership.objects.values_list("slug", field))
    known = sorted((value, slug) for slug, value in rows if value is not None)
    unknown = sorted((None, slug) for slug, value in rows if value is None)
    if ordering.startswith("-"):
        # Descending on the field, ascending on the slug; unknown years first (PostgreSQL's NULLS FIRST).
        known = sorted(known, key=lambda pair: pair[1])
        known = sorted(known, key=lambda pair: pair[0], reverse=True)
        expected = [slug for _, slug in unknown + known]
    else:
        expected = [slug for _, slug in known + unknown]
    assert every_page(anon_client, {"ordering": ordering, "page_size": 2}) == expected


def test_ordering_overrides_rank_in_a_search(anon_client) -> None:
    make(slug="b", name="Harbour Harbour Watch", year_established=2019)
    make(slug="a", name="Harbour Watch", year_established=2001)
    assert search(anon_client, "harbour") == ["b", "a"]
    assert search(anon_client, "harbour", ordering="year_established") == ["a", "b"]


def test_an_unknown_ordering_is_refused(anon_client) -> None:
    response = anon_client.get(LIST_URL, {"ordering": "slug; drop table"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "ordering"
    assert error["code"] == "invalid_choice"
    assert "name, -name, year_established" in error["detail"]


def test_a_tampered_cursor_is_refused(anon_client) -> None:
    for position in ('["x"]', "not json", '[1, "slug"]', '["2020-13-45", "slug"]', "[NaN, 1]"):
        cursor = base64.b64encode(f"p={position}".encode()).decode()
        response = anon_client.get(LIST_URL, {"ordering": "updated_at", "cursor": cursor})
        assert response.status_code == 400, position
        assert response.json()["errors"][0]["code"] == "invalid_cursor"


def test_the_database_keeps_the_search_vector_up_to_date(anon_client) -> None:
    partnership = make(name="Harbour Watch")
    assert search(anon_client, "harbour") == [partnership.slug]
    # A bulk update runs no Python code: the trigger recomputes the vector.
    Partnership.objects.filter(pk=partnership.pk).update(name="Lighthouse Keepers", description="Coastal")
    assert search(anon_client, "lighthouse") == [partnership.slug]
    assert search(anon_client, "coastal") == [partnership.slug]
    assert search(anon_client, "harbour") == []


def test_refreshing_the_search_vector_records_no_history(anon_client) -> None:
    partnership = make(name="Harbour Watch")
    events = partnership.pgh_event_model.objects.filter(pgh_obj=partnership)
    before = events.count()
    # The migration's backfill touches every row like this; no tracked field changes, so no event.
    Partnership.objects.filter(pk=partnership.pk).update(name=partnership.name)
    assert events.count() == before
    assert "search_vector" not in {field.name for field in partnership.pgh_event_model._meta.fields}


def test_q_and_ordering_are_documented_in_the_schema(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/partnerships/"]["get"]["parameters"]}
    assert "web search syntax" in parameters["q"]["description"]
    assert set(parameters["ordering"]["schema"]["enum"]) == set(ORDERINGS)
