"""Shared test fixtures: ready clients and a few domain objects. Build anything else with tests.factories."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tests import factories


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty shared cache (throttle counts, cached pages). With the database cache a
    test's rollback does this anyway; with Redis (REDIS_URL, a database of its own in CI) it must be cleared."""
    redis = "RedisCache" in settings.CACHES["default"]["BACKEND"]
    if redis:
        cache.clear()
    yield
    if redis:
        cache.clear()


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
