"""/healthz, for load balancers and monitors: 200 when the database and the cache both answer, 503 naming the one
that does not; never cached, answered over plain HTTP when HTTPS is enforced, never throttled."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from tests.helpers import closed_port, unreachable_database


@pytest.mark.django_db
def test_healthy_server_answers_200_ok(anon_client: Client) -> None:
    response = anon_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert anon_client.head("/healthz").status_code == 200
    assert anon_client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_naming_the_database(anon_client: Client) -> None:
    with unreachable_database():
        response = anon_client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "down"
    assert response["Cache-Control"] == "no-store"
    # Back up: healthy again.
    assert anon_client.get("/healthz").json()["database"] == "ok"


@pytest.mark.django_db
def test_cache_down_answers_503_naming_the_cache(anon_client: Client) -> None:
    redis_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with override_settings(CACHES=redis_down):
        response = anon_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "down"}


@pytest.mark.django_db
def test_a_cache_that_loses_what_it_is_given_is_down(anon_client: Client) -> None:
    """A cache that swallows its errors (reads miss, writes vanish) answers, but does not work."""
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        response = anon_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["cache"] == "down"


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_answers_over_plain_http_when_https_is_enforced(anon_client: Client) -> None:
    assert anon_client.get("/").status_code == 301  # everything else goes to HTTPS
    assert anon_client.get("/healthz").status_code == 200


@pytest.mark.django_db
@override_settings(REGISTRY_API_ANON_RATE="2/minute")
def test_is_not_throttled(anon_client: Client) -> None:
    cache.clear()  # no request counts left by other tests (the database cache table outlives their flush)
    statuses = [anon_client.get("/api/v1/regions/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the API is, at this rate

    assert [anon_client.get("/healthz").status_code for _ in range(5)] == [200] * 5
