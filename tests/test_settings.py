"""Settings are read from the environment and secure by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import registry.settings in a fresh interpreter with exactly the given DJANGO_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    clean.update({"REGISTRY_NO_DEVDB": "1", **env})
    code = (
        "import registry.settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'])"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def test_secret_key_is_required_when_debug_is_off():
    result = load_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_defaults_are_secure():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    debug, rest = result.stdout.split(" ", 1)
    assert debug == "False"
    assert rest.startswith("[] True 31536000")  # no hosts unless configured, secure cookies, HSTS


def test_debug_must_be_a_boolean():
    result = load_settings(DJANGO_DEBUG="maybe", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_database_url_and_redis_url_are_used_when_set():
    result = load_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u@db.example:5432/registry",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql" in result.stdout
    assert "RedisCache" in result.stdout


def test_only_postgresql_is_accepted():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="sqlite:///tmp/db.sqlite3")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr
