"""Sources in the API: the document's own public fields only, and the filters."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.fields import DateTimeField

from provenance.models import SourceKind, SourceTier
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/sources/"


def slugs(client: Any, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_source_detail_whole_response_without_editorial_note(anon_client) -> None:
    source = factories.SourceFactory(
        slug="mou", title="The MOU", publisher="Home Office", author="A. Clerk", url="https://example.org/mou",
        archived_url="https://archive.example/mou", published_on=datetime.date(2016, 1, 2),
        accessed_on=datetime.date(2024, 5, 6), kind=SourceKind.PRIMARY_DOCUMENT, tier=SourceTier.PRIMARY,
        note="Internal: ask the press office about page 4.",
    )  # fmt: skip
    factories.ClaimFactory(source=source, partnership=factories.PartnershipFactory(is_published=False))

    response = anon_client.get(f"{URL}mou/")

    assert response.json() == {
        "slug": "mou",
        "title": "The MOU",
        "publisher": "Home Office",
        "author": "A. Clerk",
        "url": "https://example.org/mou",
        "archived_url": "https://archive.example/mou",
        "published_on": "2016-01-02",
        "accessed_on": "2024-05-06",
        "kind": "primary_document",
        "tier": "primary",
        "is_synthetic": False,
        "created_at": DateTimeField().to_representation(source.created_at),
        "updated_at": DateTimeField().to_representation(source.updated_at),
    }
    assert "press office" not in response.content.decode()


def test_source_filters(anon_client) -> None:
    factories.SourceFactory(
        slug="statute", publisher="Parliament", kind=SourceKind.PRIMARY_DOCUMENT, tier=SourceTier.PRIMARY,
        published_on=datetime.date(2018, 5, 23),
    )  # fmt: skip
    factories.SourceFactory(slug="article", publisher="The Paper", published_on=datetime.date(2021, 1, 1))
    factories.SourceFactory(slug="fake", publisher="Generator", is_synthetic=True)
    assert slugs(anon_client, f"{URL}?kind=primary_document") == ["statute"]
    assert slugs(anon_client, f"{URL}?tier=secondary") == ["article", "fake"]
    assert slugs(anon_client, f"{URL}?publisher=paper") == ["article"]
    assert slugs(anon_client, f"{URL}?published_after=2020-01-01") == ["article"]
    assert slugs(anon_client, f"{URL}?published_before=2020-01-01") == ["statute"]
    assert slugs(anon_client, f"{URL}?synthetic=true") == ["fake"]
    assert anon_client.get(f"{URL}?tier=tertiary").status_code == 400
