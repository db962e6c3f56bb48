"""The seed's reference tables in the API (objectives, challenges, stakeholder groups): pinned shapes and
the table order."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.fields import DateTimeField

from tests import factories

pytestmark = pytest.mark.django_db


def stamps(record: Any) -> dict[str, Any]:
    record.refresh_from_db()
    iso = DateTimeField().to_representation
    return {
        "verification_status": "unverified",
        "editorial_note": "",
        "is_synthetic": False,
        "first_published_at": iso(record.first_published_at),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def test_objective_detail_whole_response(anon_client) -> None:
    objective = factories.ObjectiveFactory(
        slug="trust", name="Enhance Community Trust", intended_benefit="Better cooperation", position=2, sources=[]
    )
    assert anon_client.get("/api/v1/objectives/trust/").json() == {
        "slug": "trust",
        "name": "Enhance Community Trust",
        "intended_benefit": "Better cooperation",
        "position": 2,
        "sources": [],
        **stamps(objective),
    }


def test_challenge_detail_whole_response(anon_client) -> None:
    challenge = factories.ChallengeFactory(
        slug="opacity", name="Opacity", potential_solutions="Publish MOUs", position=1, sources=[]
    )
    assert anon_client.get("/api/v1/challenges/opacity/").json() == {
        "slug": "opacity",
        "name": "Opacity",
        "potential_solutions": "Publish MOUs",
        "position": 1,
        "sources": [],
        **stamps(challenge),
    }


def test_stakeholder_group_detail_whole_response(anon_client) -> None:
    group = factories.StakeholderGroupFactory(
        slug="communities", name="Communities", key_concerns="Privacy", suggested_actions="Consultation", position=3,
        sources=[],
    )  # fmt: skip
    assert anon_client.get("/api/v1/stakeholder-groups/communities/").json() == {
        "slug": "communities",
        "name": "Communities",
        "key_concerns": "Privacy",
        "suggested_actions": "Consultation",
        "position": 3,
        "sources": [],
        **stamps(group),
    }


@pytest.mark.parametrize(
    ("resource", "factory"),
    [
        ("objectives", "ObjectiveFactory"),
        ("challenges", "ChallengeFactory"),
        ("stakeholder-groups", "StakeholderGroupFactory"),
    ],
)
def test_rows_come_in_table_order_across_pages(anon_client, resource: str, factory: str) -> None:
    make = getattr(factories, factory)
    for position, slug in enumerate(["z", "m", "a", "q", "b"]):
        make(slug=slug, position=position)
    seen: list[str] = []
    url: str | None = f"/api/v1/{resource}/?page_size=2"
    while url:
        body = anon_client.get(url).json()
        seen += [row["slug"] for row in body["results"]]
        url = body["next"]
    assert seen == ["z", "m", "a", "q", "b"]
