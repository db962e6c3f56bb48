"""Abuse protection of the public request form (inquiries/protection.py): CSRF, the honeypot, the minimum fill time,
the per-client rate limit and the daily cap, counted in the shared cache, so that the limit holds across several
gunicorn workers (the last test starts three)."""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from inquiries.models import InformationRequest, Requester
from inquiries.protection import started_token
from tests import factories
from tests.test_inquiries import NEW_URL, form_data

ROOT = Path(__file__).resolve().parent.parent
DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def stored() -> tuple[int, int]:
    return InformationRequest.objects.count(), Requester.objects.count()


# --- CSRF, honeypot, minimum fill time ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cross_site_post_without_the_csrf_token_gets_403_and_stores_nothing() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(NEW_URL, form_data(name="Eve", email="eve@example.org"))
    assert response.status_code == 403
    # A forged token with someone else's cookie fails the same way.
    browser.cookies["csrftoken"] = "a" * 32
    assert browser.post(NEW_URL, form_data(csrfmiddlewaretoken="b" * 32)).status_code == 403
    assert stored() == (0, 0)
    # The same browser, with the token of the form it was served, succeeds: CSRF was the only reason.
    page = browser.get(NEW_URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert browser.post(NEW_URL, form_data(csrfmiddlewaretoken=token)).status_code == 303
    assert stored() == (1, 0)


@pytest.mark.django_db
def test_a_filled_honeypot_looks_like_success_but_stores_nothing(anon_client: Client) -> None:
    response = anon_client.post(NEW_URL, form_data(website="https://spam.example", name="Bot", email="bot@example.org"))
    assert response.status_code == 200
    assert "Request received" in response.content.decode()
    assert stored() == (0, 0)


@pytest.mark.django_db
def test_a_form_sent_too_fast_is_refused_and_can_be_sent_again_a_moment_later(anon_client: Client) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False) as clock:
        data = form_data(started=started_token(), name="Quick", email="quick@example.org")
        response = anon_client.post(NEW_URL, data)
        assert response.status_code == 200
        assert "within 3 seconds" in response.content.decode()
        assert stored() == (0, 0)
        # The re-rendered form keeps its start time, so the person only has to press "Send" again.
        resent = {**data, "started": response.context["form"]["started"].value()}
        clock.shift(4)
        assert anon_client.post(NEW_URL, resent).status_code == 303
    assert stored() == (1, 1)


@pytest.mark.django_db
def test_a_form_older_than_a_day_is_refused(anon_client: Client) -> None:
    response = anon_client.post(NEW_URL, form_data(started=started_token(at=time.time() - 2 * 86400)))
    assert "too old" in response.content.decode()
    assert stored() == (0, 0)


# --- Rate limit and daily cap ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_per_client_limit_answers_429_with_when_to_retry(anon_client: Client, settings: Any) -> None:
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 3
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 40, tzinfo=datetime.UTC), tick=False) as clock:
        statuses = [
            anon_client.post(NEW_URL, form_data(started=started_token(at=time.time() - 10))).status_code
            for _ in range(3)
        ]
        assert statuses == [303, 303, 303]
        refused = anon_client.post(NEW_URL, form_data(started=started_token(at=time.time() - 10)))
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(20 * 60)  # the next clock hour
        html = refused.content.decode()
        assert "At most 3 requests per hour" in html
        assert "11:00 UTC" in html
        assert InformationRequest.objects.count() == 3
        # Another client address is not affected.
        other = Client(REMOTE_ADDR="198.51.100.9")
        assert other.post(NEW_URL, form_data(started=started_token(at=time.time() - 10))).status_code == 303
        # The next hour, the first client may send again.
        clock.shift(datetime.timedelta(minutes=21))
        assert anon_client.post(NEW_URL, form_data(started=started_token(at=time.time() - 10))).status_code == 303


@pytest.mark.django_db
def test_refused_submissions_count_towards_the_per_client_limit(anon_client: Client, settings: Any) -> None:
    """Hammering the form with junk is limited as well: every POST counts."""
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 2
    assert anon_client.post(NEW_URL, form_data(subject="")).status_code == 200
    assert anon_client.post(NEW_URL, form_data(website="spam")).status_code == 200
    assert anon_client.post(NEW_URL, form_data()).status_code == 429
    assert stored() == (0, 0)


@pytest.mark.django_db
def test_the_daily_cap_holds_for_everyone_together_until_midnight_utc(settings: Any) -> None:
    settings.INQUIRY_DAILY_CAP = 2
    with time_machine.travel(datetime.datetime(2026, 3, 2, 22, 30, tzinfo=datetime.UTC), tick=False) as clock:
        clients = [Client(REMOTE_ADDR=f"203.0.113.{n}") for n in range(1, 5)]
        assert [c.post(NEW_URL, form_data()).status_code for c in clients[:2]] == [303, 303]
        refused = clients[2].post(NEW_URL, form_data())
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(90 * 60)
        assert "at most 2 requests a day" in refused.content.decode()
        assert InformationRequest.objects.count() == 2
        # A form error does not use up the day's requests.
        assert clients[3].post(NEW_URL, form_data(subject="")).status_code == 200
        clock.shift(datetime.timedelta(hours=2))
        assert clients[3].post(NEW_URL, form_data(started=started_token(at=time.time() - 10))).status_code == 303
    assert InformationRequest.objects.count() == 3


@pytest.mark.django_db
def test_behind_trusted_proxies_the_forwarded_address_is_counted(settings: Any) -> None:
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 1
    settings.REGISTRY_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    first = proxy.post(NEW_URL, form_data(), headers={"X-Forwarded-For": "203.0.113.7"})
    second = proxy.post(NEW_URL, form_data(), headers={"X-Forwarded-For": "203.0.113.8"})
    again = proxy.post(NEW_URL, form_data(), headers={"X-Forwarded-For": "192.0.2.66, 203.0.113.7"})
    assert (first.status_code, second.status_code, again.status_code) == (303, 303, 429)


@pytest.mark.django_db
def test_the_client_address_is_not_stored_in_the_cache(settings: Any) -> None:
    Client(REMOTE_ADDR="203.0.113.77").post(NEW_URL, form_data())
    if "RedisCache" in django_settings.CACHES["default"]["BACKEND"]:  # REDIS_URL set (the second CI pass)
        keys = [key.decode() for key in cache._cache.get_client().keys("*")]
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM registry_cache")
            keys = [row[0] for row in cursor.fetchall()]
    assert any("inquiries-limit:client:" in key for key in keys)
    assert not any("203.0.113.77" in key for key in keys)


# --- Across gunicorn workers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _test_database_url() -> str:
    """DATABASE_URL of the test database, for a server or the embedded one's socket directory alike."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
    if host.startswith("/"):  # a Unix socket directory goes in the query (libpq's host parameter)
        return f"postgres://{user}:{password}@:{port}/{db['NAME']}?{urlencode({'host': host})}"
    return f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def gunicorn_env(transactional_db: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment of a gunicorn serving the test database (committed data, transactional_db) with a cache
    shared by its workers: the database cache table of the test database, or Redis database 14."""
    backend = request.param
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings_test",
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": _test_database_url(),
        "INQUIRY_RATE_LIMIT_PER_HOUR": "4",
        "INQUIRY_DAILY_CAP": "1000",
        "DJANGO_LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    if backend == "redis":
        redis = pytest.importorskip("redis")
        url = "redis://127.0.0.1:6379/14"
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1)
            client.flushdb()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        env["REDIS_URL"] = url
        yield env
        client.flushdb()
    else:
        cache.clear()
        # The table exists only when the test settings use the database cache (not with REDIS_URL): make it.
        with override_settings(CACHES={"default": {"BACKEND": DATABASE_CACHE, "LOCATION": "registry_cache"}}):
            call_command("createcachetable", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registry_cache")
        yield env
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registry_cache")


@pytest.mark.parametrize("gunicorn_env", ["database cache", "redis"], indirect=True)
def test_the_per_client_limit_holds_across_three_gunicorn_workers(gunicorn_env: dict[str, str], tmp_path: Path) -> None:
    """Twelve simultaneous submissions from one address to three workers: exactly four (the limit) are stored,
    the others get 429, though several workers served them. Bounded: 30 s to start, 20 s per request (in parallel);
    about 10 s in all."""
    port = _free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"

    def pids_that_answered(*statuses: str) -> set[str]:
        lines = [line.split() for line in access_log.read_text().splitlines()] if access_log.exists() else []
        return {pid for pid, status in lines if status in statuses}

    def get_form(_: int) -> int:
        try:
            return requests.get(f"{base}/requests/new/", timeout=5).status_code
        except requests.RequestException:
            return 0

    with error_log.open("w") as stderr:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "registry.wsgi:application",
                "--workers=3",
                f"--bind=127.0.0.1:{port}",
                f"--access-logfile={access_log}",
                "--access-logformat=%(p)s %(s)s",
                "--timeout=30",
            ],
            cwd=ROOT,
            env=gunicorn_env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Started when every worker has answered (each loads the app itself), within 30 s.
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(max_workers=6) as pool:
            while len(pids_that_answered("200")) < 3:
                list(pool.map(get_form, range(6)))
                assert server.poll() is None, error_log.read_text()[-2000:]
                assert time.monotonic() < deadline, "gunicorn's three workers did not answer within 30 s"
                time.sleep(0.2)

        # A CSRF cookie and the same token in the form, as a browser that loaded the form sends them.
        secret = "k" * 32

        def submit(n: int) -> int:
            data = form_data(subject=f"Request {n}", csrfmiddlewaretoken=secret)
            response = requests.post(
                f"{base}/requests/new/", data=data, cookies={"csrftoken": secret}, allow_redirects=False, timeout=20
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = Counter(pool.map(submit, range(12)))
        assert statuses == {303: 4, 429: 8}, statuses
        assert InformationRequest.objects.count() == 4
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert len(pids_that_answered("303", "429")) >= 2, "the submissions were all served by one worker"


@pytest.mark.django_db
def test_the_record_link_from_a_page_survives_a_refused_attempt(anon_client: Client, settings: Any) -> None:
    """A person sent back by the limit finds their record still named when they return to the form."""
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 0
    partnership = factories.PartnershipFactory()
    assert anon_client.post(NEW_URL, form_data()).status_code == 429
    html = anon_client.get(NEW_URL, {"record": f"partnership:{partnership.slug}"}).content.decode()
    assert f"partnership:{partnership.slug}" in html
