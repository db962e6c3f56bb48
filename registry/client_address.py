"""The address a request came from, for the limits that count per client (admin login lockout, information
requests). ``REGISTRY_TRUSTED_PROXIES`` = n > 0: behind n proxies that each append to ``X-Forwarded-For``, the
n-th address from the right (the one the outermost trusted proxy saw; entries further left can be forged by
anyone); 0 (the default): ``REMOTE_ADDR``. The API's throttling uses the same number (DRF's ``NUM_PROXIES``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    proxies: int = getattr(settings, "REGISTRY_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))
