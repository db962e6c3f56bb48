"""Admin changelists of the big tables count at most 10,000 matching rows (registry/admin_paginator.py): below
the cap the count is exact, above it the page says "more than 10,000" and the count query stops at the cap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.admin_paginator import CappedCountPaginator
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:partnerships_partnership_changelist")


@pytest.fixture
def region():
    region = factories.RegionFactory()
    factories.PartnershipFactory.create_batch(4, region=region)
    factories.PartnershipFactory.create_batch(2)  # elsewhere
    return region


def test_a_count_under_the_cap_is_exact(admin_client: Client, region, monkeypatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 10)
    response = admin_client.get(CHANGELIST, {"region__id__exact": region.pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 4
    assert "4 partnerships" in response.content.decode()


def test_a_count_over_the_cap_reads_more_than_and_stops_counting(admin_client: Client, region, monkeypatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 3)
    monkeypatch.setattr("partnerships.admin.PartnershipAdmin.list_per_page", 2)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST, {"region__id__exact": region.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "more than 3 partnerships" in page
    assert "more than 3 results" not in page or "Show all" in page
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]
    assert any(sql.endswith("LIMIT 4) subquery") for sql in counts), counts
    assert all(" LIMIT " in sql for sql in counts), "an unbounded COUNT(*) of the table"
    # The page links stop at the cap: 4 rows counted, 2 per page.
    assert response.context["cl"].paginator.num_pages == 2
    assert admin_client.get(CHANGELIST, {"region__id__exact": region.pk, "p": 2}).status_code == 200
