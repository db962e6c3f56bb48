"""With REDIS_URL set, the registry keeps serving from the database when Redis is down: pages and API lists answer
200, the anonymous throttle lets requests through instead of failing, a down Redis adds no latency (short socket
timeouts, then Redis is skipped for a moment), one warning is logged per outage, and caching resumes by itself when
Redis is back. The cache is pointed at a closed port, at a port that accepts and never answers, or at a
redis-server started by the test (skipped when redis-server is not installed)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_cache_at(port: int, **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "registry.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": options,
        }
    }


@pytest.fixture
def redis_down(settings: Any) -> int:
    """The cache is Redis on a loopback port where nothing listens (connection refused)."""
    port = free_port()
    settings.CACHES = redis_cache_at(port, DOWN_SECONDS=0.2)
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes the handshake) and never answers: a hung Redis."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


@pytest.fixture
def redis_server() -> Iterator[dict[str, Any]]:
    """A redis-server of the test's own on a free port; ``stop()`` and ``start()`` it at will."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    state: dict[str, Any] = {"port": port, "process": None}

    def start() -> None:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        state["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 (fixed arguments)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop() -> None:
        process = state["process"]
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    state["start"], state["stop"] = start, stop
    start()
    yield state
    stop()


# --- Pages and API lists answer from the database ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/partnerships/", "/map/", "/legal/", "/api/v1/partnerships/", "/api/v1/partnerships/?count=true"],
)
def test_pages_and_api_lists_answer_200_while_redis_is_down(redis_down: int, anon_client: Client, url: str) -> None:
    partnership = factories.PartnershipFactory(is_published=True)
    response = anon_client.get(url)
    assert response.status_code == 200, response.content[:500]
    if url.startswith("/api/v1/partnerships/"):
        assert partnership.slug in {row["slug"] for row in response.json()["results"]}


def test_a_partnership_page_and_its_api_detail_answer_200_while_redis_is_down(
    redis_down: int, anon_client: Client, partnership: Any
) -> None:
    assert anon_client.get(f"/partnerships/{partnership.slug}/").status_code == 200
    assert anon_client.get(f"/api/v1/partnerships/{partnership.slug}/").status_code == 200


def test_the_throttle_lets_requests_through_instead_of_failing(
    redis_down: int, settings: Any, anon_client: Client
) -> None:
    """The throttle counts in the cache: with Redis down it counts nothing, so no request fails or is refused."""
    settings.REGISTRY_API_ANON_RATE = "2/minute"
    statuses = [anon_client.get("/api/v1/regions/").status_code for _ in range(5)]
    assert statuses == [200] * 5


# --- The backend behaves as a cache miss, fast ------------------------------------------------------------------


def test_every_call_behaves_as_a_miss_while_redis_is_down(redis_down: int) -> None:
    cache.set("figure", 42)
    assert cache.get("figure") is None
    assert cache.get("figure", "fallback") == "fallback"
    assert cache.get_many(["figure", "other"]) == {}
    assert cache.add("figure", 1) is False
    assert cache.has_key("figure") is False
    assert cache.delete("figure") is False
    assert cache.touch("figure") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    cache.delete_many(["a", "b"])
    cache.clear()
    with pytest.raises(ValueError, match="not found"):
        cache.incr("figure")
    assert cache.get_or_set("computed", lambda: "from the database") == "from the database"


def test_a_hung_redis_costs_one_short_timeout_then_nothing(settings: Any, silent_port: int) -> None:
    settings.CACHES = redis_cache_at(silent_port, socket_timeout=0.3, DOWN_SECONDS=5)
    started = time.monotonic()
    assert cache.get("figure") is None
    first = time.monotonic() - started
    assert first < 1.5, f"the first call waited {first:.2f} s"
    started = time.monotonic()
    for _ in range(200):
        cache.set("figure", 1)
        assert cache.get("figure") is None
    assert time.monotonic() - started < 0.2, "calls during the outage should skip Redis"


def test_one_warning_per_outage_without_the_password(settings: Any, caplog: Any) -> None:
    port = free_port()
    settings.CACHES = redis_cache_at(port, DOWN_SECONDS=0.2)
    settings.CACHES["default"]["LOCATION"] = f"redis://registry:s3cret-pw@127.0.0.1:{port}/0"
    with caplog.at_level(logging.INFO, logger="registry.cache"):
        for _ in range(50):
            cache.get("figure")
        time.sleep(0.25)  # past DOWN_SECONDS: the next call tries Redis again and fails again
        cache.get("figure")
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"Cache unreachable (ConnectionError at redis://127.0.0.1:{port}/0)" in warnings[0].getMessage()
    assert "s3cret-pw" not in caplog.text


# --- Caching resumes when Redis is back -------------------------------------------------------------------------


def test_caching_resumes_by_itself_when_redis_comes_back(
    settings: Any, redis_server: dict[str, Any], anon_client: Client, caplog: Any
) -> None:
    settings.CACHES = redis_cache_at(redis_server["port"], DOWN_SECONDS=0.2)
    settings.REGISTRY_API_ANON_RATE = "2/minute"
    cache.set("figure", 42)
    assert cache.get("figure") == 42

    redis_server["stop"]()
    with caplog.at_level(logging.INFO, logger="registry.cache"):
        assert cache.get("figure") is None
        assert [anon_client.get("/api/v1/regions/").status_code for _ in range(3)] == [200] * 3

        redis_server["start"]()  # an empty Redis (no persistence), as after a restart
        time.sleep(0.3)  # past DOWN_SECONDS
        cache.set("figure", 43)
        assert cache.get("figure") == 43
    assert any("Cache reachable again" in record.getMessage() for record in caplog.records)
    # The throttle counts again: the third request of the minute is refused.
    assert [anon_client.get("/api/v1/regions/").status_code for _ in range(3)] == [200, 200, 429]


def test_redis_url_selects_the_resilient_backend_with_short_timeouts() -> None:
    code = (
        "from django.conf import settings; from django.core.cache import cache; "
        "print(settings.CACHES['default']['BACKEND'], cache._options['socket_connect_timeout'], "
        "cache._options['socket_timeout'])"
    )
    environment = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/9", "DJANGO_SETTINGS_MODULE": "registry.settings"}
    environment.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
    environment["REGISTRY_NO_DEVDB"] = "1"  # settings only: no database is started or opened
    output = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings_root(),
    ).stdout.split()
    assert output[0] == "registry.cache.ResilientRedisCache"
    assert float(output[1]) <= 0.25
    assert float(output[2]) <= 0.5


def settings_root() -> str:
    from django.conf import settings

    return str(settings.BASE_DIR)
