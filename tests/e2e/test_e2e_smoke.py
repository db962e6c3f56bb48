"""The pages that exist today, in a real browser: each loads from the registry's own origin only, reports no
error, and (the home page) has no serious or critical accessibility violation. Screenshots of each page are
saved in tests/e2e/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from provenance.services import claim_add
from tests import factories
from tests.e2e.conftest import (
    ConsoleErrors,
    RequestRecorder,
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.e2e


def seed_home() -> None:
    """Published partnerships, one of them disputed, and a draft that must not show."""
    disputed = factories.PartnershipFactory(
        name="Safe Horizon & NYPD", year_established=2001, focus_areas=[factories.FocusAreaFactory(name="Victims")]
    )
    claim_add(record=disputed, field="year_established", value="2016", source=factories.SourceFactory())
    claim_add(record=disputed, field="year_established", value="2001", source=factories.SourceFactory())
    factories.PartnershipFactory(name="Cure Violence & Chicago PD", year_established=2012)
    factories.PartnershipFactory(name="Hidden draft", is_published=False)


def test_home_page_with_javascript(
    page: Page, live_server: Any, request_recorder: RequestRecorder, console_errors: ConsoleErrors
) -> None:
    seed_home()

    response = page.goto("/")

    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnership Registry")
    row = page.get_by_role("row").filter(has_text="Safe Horizon & NYPD")
    expect(row).to_contain_text("disputed")
    expect(page.get_by_role("row").filter(has_text="Cure Violence & Chicago PD")).to_contain_text("2012")
    expect(page.get_by_text("Hidden draft")).to_have_count(0)
    # The stylesheet applied: the registry's own, from its own origin.
    assert any(url.endswith(".css") for url in request_recorder.urls)
    assert_no_foreign_requests(request_recorder, live_server.url)
    assert_no_console_errors(console_errors)
    assert_no_axe_violations(page)
    screenshot(page, "home")


def test_home_page_without_javascript(
    page_nojs: Page, live_server: Any, request_recorder: RequestRecorder, console_errors: ConsoleErrors
) -> None:
    seed_home()

    response = page_nojs.goto("/")

    assert response is not None
    assert response.status == 200
    expect(page_nojs.get_by_role("heading", level=1)).to_have_text("Partnership Registry")
    expect(page_nojs.get_by_role("row").filter(has_text="Safe Horizon & NYPD")).to_contain_text("disputed")
    assert_no_foreign_requests(request_recorder, live_server.url)
    assert_no_console_errors(console_errors)
    screenshot(page_nojs, "home-nojs")


@pytest.mark.parametrize(
    ("path", "rendered", "name"),
    [
        # Swagger UI and Redoc render the API schema with JavaScript, from the app's own static files.
        ("/api/v1/docs/", ".swagger-ui .info .title", "api-docs-swagger"),
        # Redoc's bundle asks for the Redocly logo from cdn.redoc.ly: the app serves it with that address removed.
        ("/api/v1/redoc/", "h1", "api-docs-redoc"),
    ],
)
def test_api_docs_render_from_own_origin(
    page: Page,
    live_server: Any,
    request_recorder: RequestRecorder,
    console_errors: ConsoleErrors,
    path: str,
    rendered: str,
    name: str,
) -> None:
    response = page.goto(path)

    assert response is not None
    assert response.status == 200
    # Redoc lays out the whole schema before it shows anything: seconds on a small machine.
    expect(page.locator(rendered).first).to_contain_text("Partnership Registry API", timeout=30_000)
    # Let the page settle (the schema and any lazily loaded script) before checking what it asked for.
    page.wait_for_load_state("networkidle")
    screenshot(page, name, full_page=False)  # the whole API is metres long: its first screen tells enough
    assert any("/api/v1/schema/" in url for url in request_recorder.urls)
    assert_no_foreign_requests(request_recorder, live_server.url)
    assert_no_console_errors(console_errors)
