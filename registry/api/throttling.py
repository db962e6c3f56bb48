"""Throttling of anonymous clients, counted in the shared cache so that every worker sees the same count."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonThrottle(AnonRateThrottle):
    """Requests per client IP for anonymous clients; the rate is ``REGISTRY_API_ANON_RATE`` (e.g. "600/minute",
    empty for none), read on each request so that it can be changed in settings (and in tests)."""

    def get_rate(self) -> str | None:
        return getattr(settings, "REGISTRY_API_ANON_RATE", None) or None
