"""Bad input to the API answers 4xx, never 500, always in one body shape:
``{"errors": [{"code": ..., "detail": ..., "attr": ...}]}``."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.exceptions import ErrorDetail

from registry.api.errors import error_items
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def errors(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body.keys() == {"errors"}
    assert body["errors"], "at least one error"
    for item in body["errors"]:
        assert item.keys() == {"code", "detail", "attr"}
        assert isinstance(item["code"], str)
        assert isinstance(item["detail"], str)
        assert item["detail"]
    return body["errors"]


def cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


def test_unknown_filter_is_a_400_naming_it(anon_client) -> None:
    [error] = errors(anon_client.get(f"{LIST_URL}?yearmin=2000"), 400)
    assert error["attr"] == "yearmin"
    assert error["code"] == "unknown_parameter"
    assert "'yearmin'" in error["detail"]
    assert "year_min" in error["detail"], "the message lists what is allowed"


def test_every_unknown_parameter_is_named(anon_client) -> None:
    items = errors(anon_client.get(f"{LIST_URL}?a=1&b=2"), 400)
    assert sorted(e["attr"] for e in items) == ["a", "b"]


def test_search_is_not_offered_yet_so_a_huge_q_is_an_unknown_parameter(anon_client) -> None:
    [error] = errors(anon_client.get(LIST_URL, {"q": "x" * 100_000}), 400)
    assert error["attr"] == "q"


@pytest.mark.parametrize("year", ["-1", "1799", "99999", "9223372036854775807", "2e3", "abc"])
def test_year_out_of_range_or_not_a_year_is_a_400(anon_client, year: str) -> None:
    [error] = errors(anon_client.get(LIST_URL, {"year_min": year}), 400)
    assert error["attr"] == "year_min"


def test_year_message_says_what_is_allowed(anon_client) -> None:
    [error] = errors(anon_client.get(LIST_URL, {"year_max": "-1"}), 400)
    assert error["detail"].startswith("Enter a year from 1800 to ")


def test_unknown_slug_in_a_filter_is_a_400(anon_client) -> None:
    [error] = errors(anon_client.get(LIST_URL, {"region": "atlantis"}), 400)
    assert error == {"code": "invalid_choice", "detail": "No such record: atlantis.", "attr": "region"}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "maybe"},
        {"disputed": "yes"},
        {"changed_since": "yesterday"},
        {"changed_since": "0000-01-01T00:00:00Z"},
        {"count": "perhaps"},
        {"country": "x" * 81},
    ],
)
def test_malformed_values_are_400(anon_client, params: dict[str, str]) -> None:
    [error] = errors(anon_client.get(LIST_URL, params), 400)
    assert error["attr"] == next(iter(params))


@pytest.mark.parametrize("size", ["9223372036854775807", "101", "0", "-5", "abc", "\uff11\uff10", "1.5"])
def test_page_size_outside_1_to_100_is_a_400(anon_client, size: str) -> None:
    [error] = errors(anon_client.get(LIST_URL, {"page_size": size}), 400)
    assert error["attr"] == "page_size"


@pytest.mark.parametrize(
    "value",
    [
        "garbage!!",
        "////",
        cursor("p=\x00"),
        cursor("o=-1"),
        cursor("r=x"),
        base64.b64encode(b"\xff\xfe").decode(),
        cursor("p=" + "a" * 600),
    ],
)
def test_tampered_cursor_is_a_400(anon_client, value: str) -> None:
    factories.PartnershipFactory()
    [error] = errors(anon_client.get(LIST_URL, {"cursor": value}), 400)
    assert error == {"code": "invalid_cursor", "detail": "Invalid cursor.", "attr": "cursor"}


def test_cursor_with_a_made_up_position_just_pages_from_there(anon_client) -> None:
    factories.PartnershipFactory(slug="b-partnership")
    response = anon_client.get(LIST_URL, {"cursor": cursor("p=a")})
    assert [row["slug"] for row in response.json()["results"]] == ["b-partnership"]


@pytest.mark.parametrize("query", ["region=%00", "country=%00", "%00=1", "cursor=%00", "page_size=%00", "ordering=%00"])
def test_nul_in_query_is_a_400(anon_client, query: str) -> None:
    errors(anon_client.get(f"{LIST_URL}?{query}"), 400)


def test_nul_in_query_on_a_detail_is_a_400(anon_client, partnership) -> None:
    errors(anon_client.get(f"{LIST_URL}{partnership.slug}/?region=%00"), 400)
    [error] = errors(anon_client.get(f"{LIST_URL}{partnership.slug}/?format=%00"), 400)
    assert error["attr"] == "format"


def test_empty_and_repeated_parameters_are_400(anon_client) -> None:
    [empty] = errors(anon_client.get(f"{LIST_URL}?region="), 400)
    assert empty["attr"] == "region"
    [twice] = errors(anon_client.get(f"{LIST_URL}?status=active&status=ended"), 400)
    assert twice["attr"] == "status"


def test_unknown_record_is_a_404(anon_client) -> None:
    [error] = errors(anon_client.get(f"{LIST_URL}no-such-partnership/"), 404)
    assert error == {"code": "not_found", "detail": "Not found.", "attr": None}


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v2/partnerships/", "/api/v1/nothing/", "/api/v1/partnerships/a/b/c/", "/api/v1/%00/"]
)
def test_unknown_api_paths_are_json_404(anon_client, path: str) -> None:
    [error] = errors(anon_client.get(path), 404)
    assert error["code"] == "not_found"


def test_unknown_api_path_is_404_whatever_the_method(anon_client) -> None:
    errors(anon_client.post("/api/v9/anything/", data="{}", content_type="application/json"), 404)


def test_writing_to_a_read_only_resource_is_a_405_with_allow(anon_client, partnership) -> None:
    # Regions are read-only; partnerships take POST and PATCH from editors (tests/test_api_writes.py), not DELETE.
    response = anon_client.post("/api/v1/regions/", data="{}", content_type="application/json")
    [error] = errors(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "POST" not in response["Allow"]
    response = anon_client.delete(f"{LIST_URL}{partnership.slug}/")
    errors(response, 405)
    assert "DELETE" not in response["Allow"]
    assert "PUT" not in response["Allow"]


def test_unacceptable_format_is_a_406(anon_client) -> None:
    [error] = errors(anon_client.get(LIST_URL, HTTP_ACCEPT="application/xml"), 406)
    assert error["code"] == "not_acceptable"


@pytest.mark.parametrize(
    ("url", "offered"),
    [(LIST_URL, "csv, json, ndjson"), ("/api/v1/regions/", "json"), ("/api/v1/partnerships/{slug}/", "json")],
)
def test_unknown_format_is_a_400_naming_the_formats_offered(anon_client, partnership, url: str, offered: str) -> None:
    [error] = errors(anon_client.get(url.format(slug=partnership.slug), {"format": "xlsx"}), 400)
    assert error["attr"] == "format"
    assert error["detail"] == f"Unknown format 'xlsx': this endpoint offers {offered}."


@override_settings(REGISTRY_API_ANON_RATE="2/minute")
def test_too_many_requests_is_a_429_with_retry_after(anon_client) -> None:
    cache.clear()
    for _ in range(2):
        assert anon_client.get(LIST_URL).status_code == 200
    response = anon_client.get(LIST_URL)
    [error] = errors(response, 429)
    assert error["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_nested_validation_errors_flatten_to_dotted_attrs() -> None:
    detail = {
        "non_field_errors": [ErrorDetail("Bad record.", code="invalid")],
        "claims": [{}, {"value": [ErrorDetail("Required.", code="required")]}],
    }
    assert error_items(detail) == [
        {"code": "invalid", "detail": "Bad record.", "attr": None},
        {"code": "required", "detail": "Required.", "attr": "claims.1.value"},
    ]
