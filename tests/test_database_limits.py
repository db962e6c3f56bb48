"""Database limits: a statement timeout below gunicorn's worker timeout, a connect timeout, and a handled 503 (with
Retry-After, as a page or as the API's error body) when the database is unreachable or a query runs too long:
never a 500 with a traceback, never a hang."""

from __future__ import annotations

import logging
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from registry.urls import urlpatterns as registry_urlpatterns
from registry.views import server_error
from tests.helpers import silent_server, unreachable_database

ROOT = Path(__file__).resolve().parent.parent


# --- Settings -------------------------------------------------------------------------------------------------


def settings_in_subprocess(code: str, *, via_manage_py: bool = False, **env: str) -> str:
    """Run ``code`` with registry.settings imported from a clean environment (production: DEBUG off)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="registry.settings",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://registry@db.example:5432/registry",
    )
    clean.update(env)
    command = [sys.executable, "manage.py", "shell", "-c", code] if via_manage_py else [sys.executable, "-c", code]
    result = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # `shell` may print what it imported first


PRINT_LIMITS = (
    "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
    "print(settings.DATABASE_STATEMENT_TIMEOUT_MS, o['connect_timeout'], o['options'])"
)


def test_the_statement_timeout_ends_a_query_before_gunicorn_kills_the_worker() -> None:
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    code = "import django; django.setup(); " + PRINT_LIMITS

    web = settings_in_subprocess(code)

    assert web == "20000 3 -c statement_timeout=20000 -c cursor_tuple_fraction=1"
    assert 0 < 20_000 < gunicorn["timeout"] * 1000
    # And the test settings (the web's) are the same.
    assert 0 < settings.DATABASE_STATEMENT_TIMEOUT_MS < gunicorn["timeout"] * 1000


def test_limits_come_from_the_environment_and_keep_options_of_the_url() -> None:
    code = "import django; django.setup(); " + PRINT_LIMITS
    output = settings_in_subprocess(
        code,
        DATABASE_STATEMENT_TIMEOUT_MS="5000",
        DATABASE_CONNECT_TIMEOUT="7",
        DATABASE_URL="postgres://registry@db.example:5432/registry?options=-c%20lock_timeout%3D1000",
    )
    assert output == "5000 7 -c lock_timeout=1000 -c statement_timeout=5000 -c cursor_tuple_fraction=1"


def test_commands_have_no_statement_timeout_unless_asked() -> None:
    """Bulk loads, migrations and restores may run longer than a web request may."""
    assert settings_in_subprocess(PRINT_LIMITS, via_manage_py=True).startswith("0 3 -c statement_timeout=0")
    asked = settings_in_subprocess(PRINT_LIMITS, via_manage_py=True, DATABASE_STATEMENT_TIMEOUT_MS="60000")
    assert asked.startswith("60000 ")


@pytest.mark.django_db
def test_the_database_session_has_the_statement_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("20s",)


@pytest.mark.django_db
def test_server_side_cursors_are_planned_for_every_row() -> None:
    """QuerySet.iterator() (the streamed exports) reads whole results: its cursors get the whole result's plan."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert cursor.fetchone() == ("1",)


def test_a_database_server_that_never_answers_fails_within_the_connect_timeout(django_db_blocker) -> None:
    with silent_server() as port, django_db_blocker.unblock():
        wrapper = DatabaseWrapper({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}, alias="hung")
        started = time.monotonic()
        with pytest.raises(OperationalError):
            wrapper.ensure_connection()
        elapsed = time.monotonic() - started
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 3
    assert 2.5 < elapsed < 6  # libpq gives up after connect_timeout (3 s), instead of waiting for ever


# --- Answers when the database cannot answer ---------------------------------------------------------------------


def slow_view(request: HttpRequest) -> HttpResponse:
    """A query slower than the statement timeout (lowered for the test, in the request's transaction only)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 100")
        cursor.execute("SELECT pg_sleep(5)")
    return HttpResponse("never")


urlpatterns = [path("test-only/slow/", slow_view), path("api/v1/test-only/slow/", slow_view), *registry_urlpatterns]
handler500 = "registry.views.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_query_past_the_statement_timeout_gets_a_503_page() -> None:
    client = Client(raise_request_exception=False)
    started = time.monotonic()
    response = client.get("/test-only/slow/", headers={"X-Request-ID": "req-slow-1"})

    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "This took too long" in page
    assert "req-slow-1" in page
    assert "Traceback" not in page
    assert "pg_sleep" not in page


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_query_past_the_statement_timeout_gets_a_503_api_error() -> None:
    response = Client(raise_request_exception=False).get("/api/v1/test-only/slow/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    [error] = response.json()["errors"]
    assert error["code"] == "query_timeout"
    assert response["X-Request-ID"] in error["detail"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_cache_seconds", [0, 300])  # 300: the page cache asks the database before the view
def test_database_down_gets_a_quick_503_page(page_cache_seconds: int, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.INFO)
    with override_settings(REGISTRY_PAGE_CACHE_SECONDS=page_cache_seconds), unreachable_database():
        started = time.monotonic()
        response = client.get("/partnerships/")
        elapsed = time.monotonic() - started

    assert elapsed < 2
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "temporarily unavailable" in page
    assert response["X-Request-ID"] in page
    assert "Traceback" not in page
    assert "OperationalError" not in page
    # The log says it in one line per request, without a traceback.
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["registry.database", "registry.request"]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.django_db(transaction=True)
def test_database_down_gets_a_503_api_error(editor) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(editor)  # an editor's session: the user is loaded from the database too
    with unreachable_database():
        listing = client.get("/api/v1/partnerships/")
        write = client.post("/api/v1/regions/", {"name": "X"}, content_type="application/json")

    for response in (listing, write):
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        [error] = response.json()["errors"]
        assert error["code"] == "database_unavailable"


def test_a_database_error_outside_a_view_also_gets_the_503() -> None:
    """The 500 handler answers 503 when the error it handles is the database (raised by a middleware, say)."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection") from psycopg.OperationalError("closed")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"

    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500
