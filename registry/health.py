"""``/healthz``: whether this server can answer, for a load balancer or a monitor.

It checks the database (``SELECT 1``, with a 2-second statement timeout on top of the connect timeout) and the
shared cache (writes a key of its own, reads it back, deletes it) and answers 200
``{"status": "ok", "database": "ok", "cache": "ok"}``, or 503 with ``"status": "unavailable"`` and ``"down"``
for what failed. Never cached (``Cache-Control: no-store``), answered over plain HTTP too
(``SECURE_REDIRECT_EXEMPT``), not throttled (it is no API view), and outside the request's transaction, so that
a database that is down is reported, not raised."""

from __future__ import annotations

import logging
import uuid

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

HEALTH_STATEMENT_TIMEOUT_MS = 2000
CACHE_KEY_PREFIX = "registry:healthz:"
logger = logging.getLogger("registry.health")


def database_is_up(alias: str = DEFAULT_DB_ALIAS) -> bool:
    try:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {HEALTH_STATEMENT_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:  # any failure means "down"; the answer says so, the log says why
        logger.warning("health check: database down: %s", type(exc).__name__)
        return False


def cache_is_up() -> bool:
    # A key of this probe's own: concurrent probes from several workers never read each other's value.
    key, value = f"{CACHE_KEY_PREFIX}{uuid.uuid4().hex}", uuid.uuid4().hex
    cache = caches["default"]
    try:
        cache.set(key, value, timeout=10)
        up = bool(cache.get(key) == value)
        cache.delete(key)
    except Exception as exc:  # Redis down raises; a cache that swallows errors reads back nothing
        logger.warning("health check: cache down: %s", type(exc).__name__)
        return False
    if not up:
        logger.warning("health check: cache down: the value written was not read back")
    return up


@require_safe
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if database_is_up() else "down",
        "cache": "ok" if cache_is_up() else "down",
    }
    healthy = all(state == "ok" for state in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
