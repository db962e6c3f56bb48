"""Shared test fixtures: ready clients and a few domain objects. Build anything else with tests.factories."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories


@pytest.fixture
def editor(db):
    return factories.UserFactory(username="editor", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture
def partnership(db):
    return factories.PartnershipFactory()
