"""The home page answers with the registry's figures and its partnerships, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_shows_figures_and_marks_disputed_partnerships(anon_client):
    p = factories.PartnershipFactory(name="Safe Horizon & NYPD", year_established=2001)
    claim_add(record=p, field="year_established", value="2016", source=factories.SourceFactory())
    claim_add(record=p, field="year_established", value="2001", source=factories.SourceFactory())
    factories.PartnershipFactory(name="Hidden draft", is_published=False)

    response = anon_client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Safe Horizon &amp; NYPD" in html
    assert "disputed" in html
    assert "Hidden draft" not in html


def test_home_query_count_does_not_grow_with_rows(anon_client):
    factories.PartnershipFactory()
    with CaptureQueriesContext(connection) as few:
        anon_client.get("/")
    for _ in range(6):
        factories.PartnershipFactory(focus_areas=[factories.FocusAreaFactory()])
    with CaptureQueriesContext(connection) as many:
        anon_client.get("/")
    assert len(many) == len(few)
