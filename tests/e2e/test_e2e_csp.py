"""The editors' admin in a real browser under the strict Content-Security-Policy (registry/csp.py: no inline
script or style, no eval): logging in, the index, a changelist search, a change form with its autocomplete
widgets, an add form and the history events, with no CSP violation and no script error on any of them. (The
API docs pages are checked the same way in test_e2e_smoke.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from registry.csp import policy_for
from tests import factories

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"


def test_admin_works_under_its_policy(page: Page, live_server: Any) -> None:
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD")
    factories.UserFactory(username="curator", is_staff=True, is_superuser=True, password=PASSWORD)
    assert "'unsafe-inline'" not in policy_for("/admin/")
    assert "'unsafe-eval'" not in policy_for("/admin/")

    response = page.goto("/admin/login/")
    assert response is not None
    assert response.headers["content-security-policy"] == policy_for("/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Curate the registry")).to_be_visible()

    page.goto("/admin/partnerships/partnership/?q=horizon")
    expect(page.get_by_role("link", name="Safe Horizon & NYPD")).to_be_visible()
    page.get_by_role("link", name="Safe Horizon & NYPD").click()
    expect(page.locator("#partnership_form")).to_be_visible()
    # select2 autocomplete (jQuery, Django's admin scripts): open one and let it fetch its choices.
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results")).to_be_visible()
    page.keyboard.press("Escape")

    page.goto("/admin/partnerships/partnership/add/")
    expect(page.locator("#partnership_form")).to_be_visible()

    # The history events (django-pghistory's admin).
    page.goto(f"/admin/pghistory/middlewareevents/?method=references&obj=partnerships.Partnership:{partnership.pk}")
    expect(page.locator("#changelist")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # new_page's teardown asserts no console error (a CSP violation is one) and no request to another origin.
