"""A Python client generated from the API's own OpenAPI schema by openapi-python-client lists, filters, pages
through and reads partnerships on a running server, with typed results.

The schema is fetched from the app, the client generated once per module (with ``--fail-on-warning``: anything
in the schema the generator cannot turn into code fails here) and imported from a temporary folder."""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings

from provenance.services import claim_add
from tests import factories

SCHEMA_URL = "/api/v1/schema/"
PACKAGE = "registry_generated_client"
# No post hooks (the generator's default runs ruff on the output): generation depends on nothing but the venv.
GENERATOR_CONFIG = "post_hooks: []\n"


@pytest.fixture(scope="module")
def generated(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package's modules used here, as attributes of one namespace."""
    root = tmp_path_factory.mktemp("generated_client")
    with django_db_blocker.unblock(), override_settings(REGISTRY_API_ANON_RATE=""):
        response = DjangoClient().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    schema_path = root / "schema.json"
    schema_path.write_text(json.dumps(response.json()))
    config_path = root / "config.yaml"
    config_path.write_text(GENERATOR_CONFIG)
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(schema_path),
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(config_path),
        "--fail-on-warning",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output, output

    sys.path.insert(0, str(root))
    try:
        package = importlib.import_module(PACKAGE)
        yield SimpleNamespace(
            Client=package.Client,
            list=importlib.import_module(f"{PACKAGE}.api.partnerships.partnerships_list"),
            retrieve=importlib.import_module(f"{PACKAGE}.api.partnerships.partnerships_retrieve"),
            models=importlib.import_module(f"{PACKAGE}.models"),
        )
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def seeded(transactional_db: None, settings: Any) -> dict[str, Any]:
    """Five published partnerships in two regions and two focus areas, and one draft; the live server sees
    them because the test's writes are committed (transactional_db)."""
    settings.REGISTRY_API_ANON_RATE = ""  # no throttle counts left in the shared cache after the test
    europe = factories.RegionFactory(slug="europe", name="Europe")
    america = factories.RegionFactory(slug="north-america", name="North America")
    violence = factories.FocusAreaFactory(slug="domestic-violence", name="Domestic Violence")
    youth = factories.FocusAreaFactory(slug="youth-outreach", name="Youth Outreach")
    report = factories.SourceFactory(slug="home-office-report", title="Home Office Report")
    news = factories.SourceFactory(slug="local-news", title="Local News")
    safe = factories.PartnershipFactory(
        slug="eu-safe-lives",
        name="SafeLives and Met",
        region=europe,
        focus_areas=[violence],
        sources=[report, news],
        year_established=2016,
    )
    claim_add(record=safe, field="year_established", value="2016", source=report, locator="p. 2")
    claim_add(record=safe, field="year_established", value="2001", source=news, locator="Table 2")
    factories.PartnershipFactory(slug="eu-lighthouse", name="Lighthouse Youth", region=europe, focus_areas=[youth])
    factories.PartnershipFactory(slug="eu-refuge", name="Refuge and Thames", region=europe, focus_areas=[violence])
    factories.PartnershipFactory(slug="na-safe-horizon", name="Safe Horizon", region=america, focus_areas=[violence])
    factories.PartnershipFactory(slug="na-youth-link", name="Youth Link", region=america, focus_areas=[youth])
    factories.PartnershipFactory(slug="eu-draft", name="Draft", region=europe, is_published=False)
    return {"published": ["eu-lighthouse", "eu-refuge", "eu-safe-lives", "na-safe-horizon", "na-youth-link"]}


@pytest.fixture
def api(generated: Any, live_server: Any) -> Any:
    """An anonymous client of the generated package, pointed at the live server."""
    return generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def test_list_pages_through_and_filters_partnerships(generated: Any, api: Any, seeded: dict) -> None:
    # Every published partnership, two per page, by following the `next` link's cursor.
    slugs: list[str] = []
    names: list[str] = []
    page = generated.list.sync(client=api, page_size=2, count=True)
    assert page.count == 5
    assert page.previous is None
    pages = 1
    while True:
        assert isinstance(page, generated.models.PaginatedPartnershipList)
        assert len(page.results) <= 2
        slugs += [partnership.slug for partnership in page.results]
        names += [partnership.name for partnership in page.results]
        if not page.next_:
            break
        page = generated.list.sync(client=api, page_size=2, cursor=cursor_of(page.next_))
        pages += 1
    assert pages == 3
    assert slugs == seeded["published"]
    assert "Lighthouse Youth" in names

    # Filters: region, focus area, both, full text.
    europe = generated.list.sync(client=api, region="europe")
    assert [p.slug for p in europe.results] == ["eu-lighthouse", "eu-refuge", "eu-safe-lives"]
    assert {p.region.slug for p in europe.results} == {"europe"}
    america = generated.list.sync(client=api, region="north-america")
    assert [p.slug for p in america.results] == ["na-safe-horizon", "na-youth-link"]
    violence = generated.list.sync(client=api, focus_area="domestic-violence")
    assert [p.slug for p in violence.results] == ["eu-refuge", "eu-safe-lives", "na-safe-horizon"]
    for partnership in violence.results:
        assert "domestic-violence" in [area.slug for area in partnership.focus_areas]
    both = generated.list.sync(client=api, region="north-america", focus_area="youth-outreach")
    assert [p.slug for p in both.results] == ["na-youth-link"]
    assert [p.slug for p in generated.list.sync(client=api, q="lighthouse").results] == ["eu-lighthouse"]

    # A region that does not exist: 400 in the API's one error shape, parsed by the client.
    response = generated.list.sync_detailed(client=api, region="atlantis")
    assert response.status_code == 400
    assert isinstance(response.parsed, generated.models.ErrorResponse)
    assert [error.attr for error in response.parsed.errors] == ["region"]


def test_read_one_partnership_by_slug_with_typed_fields(generated: Any, api: Any, seeded: dict) -> None:
    partnership = generated.retrieve.sync("eu-safe-lives", client=api)

    assert isinstance(partnership, generated.models.PartnershipDetail)
    assert partnership.name == "SafeLives and Met"
    assert isinstance(partnership.region, generated.models.RegionBrief)
    assert (partnership.region.slug, partnership.region.name) == ("europe", "Europe")
    assert partnership.year_established == 2016
    assert isinstance(partnership.year_established, int)
    assert partnership.verification_status == generated.models.VerificationStatusEnum.DISPUTED
    assert partnership.disputed_fields == ["year_established"]
    assert sorted(source.slug for source in partnership.sources) == ["home-office-report", "local-news"]
    assert all(isinstance(source, generated.models.SourceBrief) for source in partnership.sources)
    assert sorted((claim.value, claim.source) for claim in partnership.claims) == [
        ("2001", "local-news"),
        ("2016", "home-office-report"),
    ]
    assert [area.slug for area in partnership.focus_areas] == ["domestic-violence"]
    assert isinstance(partnership.updated_at, datetime.datetime)
    assert partnership.updated_at.tzinfo is not None

    # An unknown slug and a draft's slug: 404 in the one error shape.
    for slug in ("no-such-partnership", "eu-draft"):
        response = generated.retrieve.sync_detailed(slug, client=api)
        assert response.status_code == 404
        assert isinstance(response.parsed, generated.models.ErrorResponse)
        assert response.parsed.errors[0].code == "not_found"


def test_generated_read_functions_accept_an_anonymous_client(generated: Any) -> None:
    for module in (generated.list, generated.retrieve):
        annotation = inspect.signature(module.sync).parameters["client"].annotation
        assert generated.Client in (typing.get_args(annotation) or (annotation,)), (module.__name__, annotation)
