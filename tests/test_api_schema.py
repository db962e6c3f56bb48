"""The OpenAPI schema builds without a warning, documents every filter, and the docs pages are served by the
app itself (no CDN)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

from partnerships.filters import PartnershipFilter

pytestmark = pytest.mark.django_db


def test_schema_builds_and_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/partnerships/" in schema["paths"]
    assert "/api/v1/partnerships/{slug}/history/" in schema["paths"]


def test_schema_view_serves_the_schema(anon_client) -> None:
    response = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Partnership Registry API"


def test_every_partnership_filter_has_a_label_and_is_documented(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/partnerships/"]["get"]["parameters"]}
    for name, declared in PartnershipFilter.base_filters.items():
        assert declared.label, f"filter {name} has no label"
        assert parameters[name].get("description"), f"filter {name} is undocumented in the schema"
    assert {"cursor", "page_size", "count"} <= parameters.keys()


def test_every_operation_documents_its_errors_in_the_one_shape(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "406", "429"):
                body = operation["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method, status)
            if "{slug}" in path:
                assert "404" in operation["responses"], (path, method)


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_everything_from_the_app_itself(anon_client, path: str) -> None:
    response = anon_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    if "/api/v1/docs/?script=" in assets:
        # Swagger UI's start script is a file of its own (no inline script under the CSP); it names the schema.
        start = anon_client.get("/api/v1/docs/?script=")
        assert start["Content-Type"].startswith("application/javascript")
        html += start.content.decode()
    assert "/api/v1/schema/" in html
    assert not re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html), "the docs reference an external host"
    assert assets, "the page loads its scripts and styles"
    for asset in assets:
        if asset in ("/api/v1/redoc/redoc.standalone.js", "/api/v1/docs/?script="):
            continue  # the app's own copy of Redoc's bundle (tested below), Swagger UI's start script (above)
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not among the static files"


def test_redoc_bundle_is_served_without_its_third_party_logo(anon_client) -> None:
    html = anon_client.get("/api/v1/redoc/").content.decode()
    assert 'src="/api/v1/redoc/redoc.standalone.js"' in html
    assert "<script>" not in html  # no inline script: a strict CSP can hold

    response = anon_client.get("/api/v1/redoc/redoc.standalone.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    bundle = response.content
    assert b"Redoc" in bundle
    assert b"cdn.redoc.ly" not in bundle
    again = anon_client.get("/api/v1/redoc/redoc.standalone.js", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_read_operations_need_no_token_and_writes_do(anon_client) -> None:
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                assert "security" not in operation, f"GET {path} documents a security requirement"
            else:
                assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}], f"{method} {path}"
