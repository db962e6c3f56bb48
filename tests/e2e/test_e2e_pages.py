"""Every page type of the public website in real Chromium, on one seeded registry: each answers, loads nothing
from another origin (the request recorder blocks and reports it), logs no error or CSP violation, has no
serious or critical axe-core violation, and fits a 360 px phone. A screenshot of each is saved under
tests/e2e/screenshots/; the map and the charts are checked to render."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from partnerships.models import AssessmentStatus, DataSharing
from provenance.services import claim_add
from tests import factories
from tests.e2e.conftest import ConsoleErrors, format_axe, run_axe, screenshot

pytestmark = pytest.mark.e2e


def seed() -> dict[str, Any]:
    """A small registry touching every page type."""
    europe = factories.RegionFactory(slug="europe", name="Europe")
    factories.RegionFactory(slug="africa", name="Africa")
    uk = factories.CountryFactory(code="GB", name="United Kingdom", slug="united-kingdom", region=europe)
    united_kingdom = factories.JurisdictionFactory(
        slug="united-kingdom", name="United Kingdom", level="national", country=uk
    )
    london = factories.JurisdictionFactory(
        slug="london", name="London", level="city", country=uk, parent=united_kingdom
    )
    trafficking = factories.FocusAreaFactory(slug="human-trafficking", name="Human Trafficking")
    practice = factories.SurveillancePracticeFactory(slug="data-sharing", name="Data sharing with police")
    source = factories.SourceFactory(slug="seed-report", title="NGO-Police Partnerships report", publisher="Insider")
    ngo = factories.NGOFactory(slug="la-strada", name="La Strada International", jurisdiction=london)
    police = factories.PoliceDepartmentFactory(slug="met-police", name="Metropolitan Police", jurisdiction=london)
    partnership = factories.PartnershipFactory(
        slug="la-strada-met",
        name="La Strada International & Metropolitan Police",
        region=europe,
        jurisdiction=london,
        ngos=[ngo],
        police_departments=[police],
        focus_areas=[trafficking],
        data_sharing=DataSharing.SHARED_DATABASE,
        sources=[source],
    )
    partnership.surveillance_practices.add(practice)
    claim_add(record=partnership, field="year_established", value="1995", source=source, locator="Table 2")
    claim_add(record=partnership, field="year_established", value="2018", source=source, locator="Table 1")
    oversight = factories.AccountabilityMechanismFactory(
        slug="independent-oversight", name="Independent oversight", position=1
    )
    factories.MechanismAssessmentFactory(
        partnership=partnership, mechanism=oversight, status=AssessmentStatus.ABSENT, evidence=source
    )
    instrument = factories.LegalInstrumentFactory(
        slug="uk-dpa-2018", short_name="DPA 2018", title="Data Protection Act 2018", jurisdiction=united_kingdom
    )
    body = factories.OversightBodyFactory(
        slug="ico", name="Information Commissioner's Office", jurisdiction=united_kingdom
    )
    body.instruments.add(instrument)
    case = factories.OverreachCaseFactory(
        slug="helpline-data", title="Helpline data passed to police", jurisdiction=london, sources=[source]
    )
    case.partnerships.add(partnership)
    factories.CaseQuoteFactory(case=case, text="We did not know our calls were shared.", source=source)
    return {
        "partnership": partnership,
        "ngo": ngo,
        "police": police,
        "focus": trafficking,
        "practice": practice,
        "source": source,
        "instrument": instrument,
        "body": body,
        "case": case,
        "jurisdiction": united_kingdom,
    }


def page_types(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(name, path, expected status) of every page type."""
    return [
        ("home", "/", 200),
        ("partnerships", "/partnerships/", 200),
        ("partnership", f"/partnerships/{data['partnership'].slug}/", 200),
        ("legal", "/legal/", 200),
        ("jurisdiction", f"/legal/jurisdictions/{data['jurisdiction'].slug}/", 200),
        ("instrument", f"/legal/instruments/{data['instrument'].slug}/", 200),
        ("oversight-body", f"/legal/oversight-bodies/{data['body'].slug}/", 200),
        ("cases", "/cases/", 200),
        ("case", f"/cases/{data['case'].slug}/", 200),
        ("ngos", "/ngos/", 200),
        ("ngo", f"/ngos/{data['ngo'].slug}/", 200),
        ("police-departments", "/police-departments/", 200),
        ("police-department", f"/police-departments/{data['police'].slug}/", 200),
        ("focus-areas", "/focus-areas/", 200),
        ("focus-area", f"/focus-areas/{data['focus'].slug}/", 200),
        ("surveillance-practices", "/surveillance-practices/", 200),
        ("surveillance-practice", f"/surveillance-practices/{data['practice'].slug}/", 200),
        ("sources", "/sources/", 200),
        ("source", f"/sources/{data['source'].slug}/", 200),
        ("map", "/map/", 200),
        ("not-found", "/no-such-page/", 404),
        ("bad-request", "/partnerships/?colour=red", 400),
    ]


def test_every_page_type_is_accessible_and_self_contained(
    new_page: Any, live_server: Any, console_errors: ConsoleErrors
) -> None:
    data = seed()
    page: Page = new_page()
    problems: list[str] = []
    for name, path, status in page_types(data):
        response = page.goto(path)
        assert response is not None
        if response.status != status:
            problems.append(f"{name} ({path}): status {response.status}, expected {status}")
            continue
        if status != 200:  # the browser reports the error status of the page itself: expected here
            console_errors.messages[:] = [m for m in console_errors.messages if response.url not in m]
        expect(page.locator("h1")).to_have_count(1)
        violations = run_axe(page)
        if violations:
            problems.append(f"{name} ({path}): {format_axe(violations)}")
        screenshot(page, f"page-{name}")
        page.set_viewport_size({"width": 360, "height": 800})
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems.append(f"{name} ({path}): {width}px wide on a 360px phone")
        screenshot(page, f"page-{name}-phone", full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})
    assert not problems, "\n".join(problems)


def test_map_and_charts_render(page: Page, live_server: Any) -> None:
    seed()
    page.goto("/map/")
    world = page.locator("svg").first
    expect(world).to_be_visible()
    box = world.bounding_box()
    assert box is not None
    assert box["width"] > 600
    # The United Kingdom has a partnership: a link to the list filtered by its code.
    expect(page.locator('a[href="/partnerships/?country=GB"]').first).to_be_attached()
    expect(page.get_by_role("table").first).to_contain_text("United Kingdom")

    page.goto("/")
    charts = page.locator("figure svg[role='img']")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 4
    for index in range(charts.count()):
        chart = charts.nth(index).bounding_box()
        assert chart is not None
        assert chart["height"] > 40
    screenshot(page, "home-charts")
