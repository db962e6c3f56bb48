"""Editors write through the API with a token: create, update with If-Match (412 when stale, 428 when
missing), add a claim, attach a source. Anonymous users and users without the permission cannot; every
write is in history with the editor; bad input answers 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.authtoken.models import Token

from partnerships.models import Partnership
from provenance.models import Source, VerificationStatus
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/partnerships/"


def detail_url(slug: str) -> str:
    return f"{LIST_URL}{slug}/"


def token_client(*perms: str) -> tuple[Client, Any]:
    user = factories.UserFactory()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    token = Token.objects.create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"}), user


@pytest.fixture
def writer() -> tuple[Client, Any]:
    return token_client(
        "partnerships.add_partnership",
        "partnerships.change_partnership",
        "provenance.add_claim",
        "provenance.add_source",
        "accounts.verify_record",  # the body publishes at once (a reviewer's permission)
    )


def send(client: Client, method: str, url: str, body: dict[str, Any], **headers: str) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=headers)


def new_partnership_body() -> dict[str, Any]:
    jurisdiction = factories.JurisdictionFactory()
    return {
        "name": "Safe Streets & City Police",
        "slug": "safe-streets-city-police",
        "region": factories.RegionFactory().slug,
        "jurisdiction": jurisdiction.slug,
        "year_established": 2016,
        "ngos": [factories.NGOFactory(jurisdiction=jurisdiction).slug],
        "police_departments": [factories.PoliceDepartmentFactory(jurisdiction=jurisdiction).slug],
        "sources": [factories.SourceFactory(tier="secondary").slug],
        "is_published": True,
    }


def error_attrs(response: Any) -> set[str | None]:
    return {error["attr"] for error in response.json()["errors"]}


def context_user(event: Any) -> Any:
    assert event.pgh_context is not None, "the event carries no context"
    return event.pgh_context.metadata.get("user")


# --- Who may write ---------------------------------------------------------------------------------------------


def test_anonymous_writes_are_refused_in_the_error_shape(anon_client: Client, partnership: Partnership) -> None:
    for response in (
        send(anon_client, "post", LIST_URL, new_partnership_body()),
        send(anon_client, "patch", detail_url(partnership.slug), {"name": "X"}, **{"If-Match": "*"}),
        send(anon_client, "post", f"{detail_url(partnership.slug)}claims/", {"field": "name", "value": "X"}),
    ):
        assert response.status_code == 401, response.content
        assert response.json()["errors"][0]["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"
    assert Partnership.objects.count() == 1


def test_a_token_user_without_the_permission_is_forbidden(partnership: Partnership) -> None:
    client, _ = token_client()
    sources_before = set(partnership.sources.values_list("slug", flat=True))
    response = send(client, "post", LIST_URL, new_partnership_body())
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    response = send(client, "post", f"{detail_url(partnership.slug)}sources/", {"slug": factories.SourceFactory().slug})
    assert response.status_code == 403
    assert set(partnership.sources.values_list("slug", flat=True)) == sources_before
    assert not Partnership.objects.filter(slug="safe-streets-city-police").exists()


@pytest.mark.parametrize("key", ["a\x00b", "0" * 41, "not-hex-" * 5])
def test_a_malformed_token_is_401_not_a_server_error(anon_client: Client, key: str) -> None:
    response = anon_client.get(LIST_URL, headers={"Authorization": f"Token {key}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_reads_stay_open_to_everyone(anon_client: Client, partnership: Partnership) -> None:
    assert anon_client.get(detail_url(partnership.slug)).status_code == 200


# --- Create and update -----------------------------------------------------------------------------------------


def test_an_editor_creates_a_partnership_that_readers_then_see(writer: tuple[Client, Any], anon_client: Client) -> None:
    client, user = writer
    body = new_partnership_body()
    response = send(client, "post", LIST_URL, body)
    assert response.status_code == 201, response.content
    assert response["Location"] == detail_url(body["slug"])
    shown = anon_client.get(detail_url(body["slug"])).json()
    assert shown["name"] == body["name"]
    assert [ngo["slug"] for ngo in shown["ngos"]] == body["ngos"]
    assert shown["year_established"] == 2016
    created = Partnership.objects.get(slug=body["slug"])
    event = created.events.get(pgh_label="insert")
    assert context_user(event) == user.pk


def test_an_update_with_the_current_etag_is_saved_and_attributed(
    writer: tuple[Client, Any], anon_client: Client, partnership: Partnership
) -> None:
    client, user = writer
    etag = anon_client.get(detail_url(partnership.slug))["ETag"]
    response = send(client, "patch", detail_url(partnership.slug), {"name": "Renamed"}, **{"If-Match": etag})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert response["ETag"] != etag
    assert response["ETag"] == anon_client.get(detail_url(partnership.slug))["ETag"]
    assert anon_client.get(detail_url(partnership.slug)).json()["name"] == "Renamed"
    event = partnership.events.filter(pgh_label="update").latest("pgh_id")
    assert context_user(event) == user.pk


def test_a_stale_etag_is_412_and_changes_nothing(
    writer: tuple[Client, Any], anon_client: Client, partnership: Partnership
) -> None:
    client, _ = writer
    etag = anon_client.get(detail_url(partnership.slug))["ETag"]
    claim_add(record=partnership, field="name", value=partnership.name, source=factories.SourceFactory())
    response = send(client, "patch", detail_url(partnership.slug), {"name": "Renamed"}, **{"If-Match": etag})
    assert response.status_code == 412
    assert response.json()["errors"][0]["code"] == "stale"
    partnership.refresh_from_db()
    assert partnership.name != "Renamed"


def test_an_update_without_if_match_is_428(writer: tuple[Client, Any], partnership: Partnership) -> None:
    client, _ = writer
    response = send(client, "patch", detail_url(partnership.slug), {"name": "Renamed"})
    assert response.status_code == 428
    assert response.json()["errors"][0]["code"] == "precondition_required"
    partnership.refresh_from_db()
    assert partnership.name != "Renamed"


# --- Claims and sources ----------------------------------------------------------------------------------------


def test_a_contradicting_claim_makes_the_record_disputed(
    writer: tuple[Client, Any], anon_client: Client, partnership: Partnership
) -> None:
    client, user = writer
    claim_add(record=partnership, field="year_established", value="2015", source=factories.SourceFactory())
    source = factories.SourceFactory()
    body = {"field": "year_established", "value": "2017", "source": source.slug, "locator": "p. 4", "quote": "2017"}
    response = send(client, "post", f"{detail_url(partnership.slug)}claims/", body)
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "2017"
    shown = anon_client.get(detail_url(partnership.slug)).json()
    assert shown["verification_status"] == VerificationStatus.DISPUTED
    assert shown["disputed_fields"] == ["year_established"]
    event = partnership.claims.get(value="2017").events.get(pgh_label="insert")
    assert context_user(event) == user.pk


def test_an_editor_attaches_an_existing_source_or_creates_one(
    writer: tuple[Client, Any], anon_client: Client, partnership: Partnership
) -> None:
    client, _ = writer
    existing = factories.SourceFactory()
    url = f"{detail_url(partnership.slug)}sources/"
    assert send(client, "post", url, {"slug": existing.slug}).status_code == 201
    new = {"slug": "city-mou-2016", "title": "MOU", "kind": "primary_document", "tier": "primary"}
    response = send(client, "post", url, new)
    assert response.status_code == 201, response.content
    assert Source.objects.filter(slug="city-mou-2016").exists()
    shown = anon_client.get(detail_url(partnership.slug)).json()
    assert {existing.slug, "city-mou-2016"} <= {s["slug"] for s in shown["sources"]}
    assert shown["verification_status"] == VerificationStatus.VERIFIED  # a primary source now backs it


# --- Bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"year_established": 1700}, "year_established"),
        ({"year_established": 3000}, "year_established"),
        ({"region": "atlantis"}, "region"),
        ({"ngos": ["no-such-ngo"]}, "ngos"),
        ({"status": "paused"}, "status"),
        ({"slug": "Not A Slug"}, "slug"),
    ],
)
def test_bad_input_is_400_naming_the_field(writer: tuple[Client, Any], change: dict[str, Any], attr: str) -> None:
    client, _ = writer
    response = send(client, "post", LIST_URL, {**new_partnership_body(), **change})
    assert response.status_code == 400
    assert attr in error_attrs(response)
    assert not Partnership.objects.exists()


def test_a_claim_on_a_field_that_cannot_carry_claims_is_400(
    writer: tuple[Client, Any], partnership: Partnership
) -> None:
    client, _ = writer
    body = {"field": "editorial_note", "value": "x", "source": factories.SourceFactory().slug}
    response = send(client, "post", f"{detail_url(partnership.slug)}claims/", body)
    assert response.status_code == 400
    assert error_attrs(response) == {"field"}
    assert not partnership.claims.exists()


def test_an_update_the_model_refuses_is_400_and_changes_nothing(
    writer: tuple[Client, Any], anon_client: Client, partnership: Partnership
) -> None:
    client, _ = writer
    etag = anon_client.get(detail_url(partnership.slug))["ETag"]
    response = send(client, "patch", detail_url(partnership.slug), {"year_ended": 2010}, **{"If-Match": etag})
    assert response.status_code == 400  # ended before it was established, and not an ended partnership
    partnership.refresh_from_db()
    assert partnership.year_ended is None


# --- Schema ----------------------------------------------------------------------------------------------------


def test_the_schema_documents_the_write_errors(anon_client: Client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"401", "403", "400"} <= paths[LIST_URL]["post"]["responses"].keys()
    patch = paths["/api/v1/partnerships/{slug}/"]["patch"]
    assert {"401", "403", "404", "412", "428"} <= patch["responses"].keys()
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])
    assert "post" in paths["/api/v1/partnerships/{slug}/claims/"]
    assert "post" in paths["/api/v1/partnerships/{slug}/sources/"]
