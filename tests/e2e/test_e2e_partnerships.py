"""The partnership pages in real Chromium: filter by region and focus area and see the address and the results
change (with JavaScript, htmx swaps the results in place; without, the form submits); open a disputed
partnership and see both years with their sources; copy its citation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from provenance.services import claim_add
from tests import factories
from tests.e2e.conftest import assert_no_axe_violations, screenshot

pytestmark = pytest.mark.e2e


def seed() -> Any:
    europe = factories.RegionFactory(slug="europe", name="Europe")
    africa = factories.RegionFactory(slug="africa", name="Africa")
    trafficking = factories.FocusAreaFactory(slug="human-trafficking", name="Human Trafficking")
    children = factories.FocusAreaFactory(slug="child-protection", name="Child Protection")
    strada = factories.PartnershipFactory(
        name="La Strada International & Metropolitan Police",
        slug="la-strada-met",
        region=europe,
        focus_areas=[trafficking],
        year_established=1995,
    )
    claim_add(
        record=strada,
        field="year_established",
        value="1995",
        source=factories.SourceFactory(title="Table 2: historical partnerships"),
    )
    claim_add(
        record=strada,
        field="year_established",
        value="2018",
        source=factories.SourceFactory(title="Table 1: notable collaborations"),
    )
    factories.PartnershipFactory(name="Barnahus & Icelandic Police", region=europe, focus_areas=[children])
    factories.PartnershipFactory(name="Childline South Africa & SAPS", region=africa, focus_areas=[children])
    return strada


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def result_names(page: Page) -> list[str]:
    return page.locator(".results-table tbody th a").all_inner_texts()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_filter_by_region_and_focus_area(new_page: Any, live_server: Any, javascript: bool) -> None:
    seed()
    page = new_page(javascript=javascript)
    page.goto("/partnerships/")
    expect(page.locator(".results-table tbody tr")).to_have_count(3)

    page.get_by_label("Region").select_option("europe")
    if not javascript:
        page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="2 partnerships matching")).to_be_visible()
    page.wait_for_url("**/partnerships/?*region=europe*")

    page.get_by_label("Focus area").select_option("human-trafficking")
    if not javascript:
        page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="1 partnership matching")).to_be_visible()
    page.wait_for_url("**focus_area=human-trafficking**")

    assert query_of(page)["region"] == ["europe"]
    assert query_of(page)["focus_area"] == ["human-trafficking"]
    assert result_names(page) == ["La Strada International & Metropolitan Police"]
    # The address alone reproduces the view: a bookmark, a link shared.
    fresh = new_page(javascript=javascript)
    fresh.goto(page.url)
    assert result_names(fresh) == ["La Strada International & Metropolitan Police"]
    expect(fresh.get_by_role("link", name="CSV")).to_have_attribute(
        "href", "/api/v1/partnerships/?region=europe&focus_area=human-trafficking&format=csv"
    )
    if javascript:
        assert_no_axe_violations(page)
    screenshot(page, f"partnerships-filtered-{'js' if javascript else 'nojs'}")


def test_disputed_partnership_shows_both_years_with_their_sources(page: Page, live_server: Any) -> None:
    strada = seed()
    page.goto(f"/partnerships/{strada.slug}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("La Strada International & Metropolitan Police")
    dispute = page.locator(".claim-field-disputed").filter(has=page.get_by_role("heading", name="Year established"))
    expect(dispute).to_be_visible()
    values = dispute.locator(".claim-value")
    expect(values).to_have_count(2)
    expect(values.nth(0)).to_contain_text("1995")
    expect(values.nth(0)).to_contain_text("Table 2: historical partnerships")
    expect(values.nth(1)).to_contain_text("2018")
    expect(values.nth(1)).to_contain_text("Table 1: notable collaborations")
    # Side by side on a wide screen.
    first, second = values.nth(0).bounding_box(), values.nth(1).bounding_box()
    assert first is not None
    assert second is not None
    assert abs(first["y"] - second["y"]) < 2
    assert second["x"] > first["x"]
    assert_no_axe_violations(page)
    screenshot(page, "partnership-disputed")


def test_copy_the_citation(page: Page, live_server: Any) -> None:
    strada = seed()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/partnerships/{strada.slug}/")

    page.get_by_role("button", name="Copy BibTeX").click()

    expect(page.locator("#cite-status")).to_have_text("Copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{partnershipregistry-partnerships-la-strada-met,")
    assert f"{live_server.url}/partnerships/{strada.slug}/" in copied


def test_copy_buttons_are_hidden_without_javascript(page_nojs: Page, live_server: Any) -> None:
    strada = seed()
    page_nojs.goto(f"/partnerships/{strada.slug}/")
    expect(page_nojs.get_by_role("button", name="Copy APA")).to_be_hidden()
    expect(page_nojs.locator("#cite-apa")).to_contain_text("Partnership Registry.")


def test_list_on_a_phone(new_page: Any, live_server: Any) -> None:
    seed()
    page = new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/partnerships/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360px screen"
    screenshot(page, "partnerships-phone")
