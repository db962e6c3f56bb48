"""Login throttling (django-axes): the lockout policy, the client address, and the 429 page.

Policy (settings: REGISTRY_LOGIN_FAILURE_LIMIT, REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT, REGISTRY_LOGIN_COOLOFF_MINUTES):

- one user name from one address is locked after 5 failed logins (guessing one editor's password);
- one address is locked for every user name after 20 failed logins (trying one password on many accounts), so
  colleagues behind one office address are not all locked out by one person's typos;
- a lockout lasts 30 minutes from the last failure; a failure during the lockout restarts it;
- a successful login clears that user name's failures from that address (not the address's other failures:
  one valid account must not reset an attacker's count).

The counts are rows in PostgreSQL (axes' database handler), so every gunicorn worker and server sees them.
A user name alone never locks: anyone could otherwise lock an editor out from anywhere.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from registry.client_address import client_address as shared_client_address

LOCKOUT_TEMPLATE = "accounts/lockout.html"


def client_address(request: HttpRequest) -> str | None:
    """The address the login came from (registry/client_address.py; None when the request has none)."""
    return shared_client_address(request) or None


class RegistryAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for an address across user names.

    ``AXES_LOCKOUT_PARAMETERS`` is ``[["username", "ip_address"], "ip_address"]``; axes compares the largest of
    the two counts with one limit, so the address count is scaled down: with limits 5 and 20, 20 failures from
    an address count as 5."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        combination = counts[0] if counts else 0
        address = counts[1] if len(counts) > 1 else 0
        limit = settings.AXES_FAILURE_LIMIT
        address_limit = max(settings.REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT, 1)
        return max(combination, math.floor(address * limit / address_limit))

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """After a successful login: forget this user name's failures from this address only."""
        attempts_list = self.filter_user_attempts(request, credentials)
        if not attempts_list:
            return 0
        count, _ = attempts_list[0].delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 with a page saying when to try again (and a Retry-After header). Echoes nothing the client sent: no
    user name, no address."""
    cool_off = get_cool_off(request) or timedelta(minutes=30)
    retry_at = timezone.now() + cool_off
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    response = render(
        request,
        LOCKOUT_TEMPLATE,
        {"title": "Too many failed logins", "minutes": minutes, "retry_at": retry_at},
        status=429,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    response["Cache-Control"] = "no-store"
    return response
