"""Abuse protection of the public request form, without a CAPTCHA or any third party.

- **CSRF**: Django's middleware (a cross-site POST without the token gets 403).
- **Honeypot**: a field people do not see (hidden by static/css/inquiries.css, not an inline style); a filled one
  gets the normal "received" answer and nothing is stored.
- **Minimum fill time**: the form carries a signed, timestamped token (``started_token``); a submission sooner
  than ``INQUIRY_MIN_FILL_SECONDS`` after the form was served is refused with a form error (nothing stored).
- **Rate limits**, counted in the shared cache (Redis with ``REDIS_URL``, else the database cache table; both are
  shared by every gunicorn worker and every server): ``INQUIRY_RATE_LIMIT_PER_HOUR`` submissions per client address
  per clock hour, and ``INQUIRY_DAILY_CAP`` stored requests per UTC day for everyone together. Over a limit: 429
  with ``Retry-After``.

Counting is exact under concurrency on both cache backends: each submission must claim one of the N numbered
*slots* of its window with ``cache.add`` (atomic: Redis ``SET NX``; the database cache's insert into a table with
a unique key), so at most N succeed whatever the number of workers. A hint of the next free slot (plain
``get``/``set``, a hint only) keeps that to about three cache calls. The client address comes from
registry/client_address.py (``REMOTE_ADDR``, or behind ``REGISTRY_TRUSTED_PROXIES`` proxies the address the outermost
saw). The address is never stored: cache keys hold a keyed hash of it."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from registry.client_address import client_address

STARTED_SALT = "inquiries.form.started"
# Keys start with "~" so that the database cache, culling its table when full, removes them last (it culls in key
# order); the page and API caches' entries go first.
KEY_PREFIX = "~inquiries-limit"


# --- Minimum fill time ---------------------------------------------------------------------------------------


def started_token(at: float | None = None) -> str:
    """The signed "form served at" token for the form's hidden field (a nonce makes every one different)."""
    return signing.dumps({"t": time.time() if at is None else at, "n": secrets.token_hex(4)}, salt=STARTED_SALT)


class StartedTokenError(Exception):
    pass


def seconds_since_started(token: str) -> float:
    """How long ago the form holding ``token`` was served; StartedTokenError when forged or older than a day."""
    try:
        max_age = settings.INQUIRY_FORM_MAX_AGE_SECONDS
        data = signing.loads(token, salt=STARTED_SALT, max_age=max_age)
        elapsed = time.time() - float(data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise StartedTokenError from error
    if elapsed > max_age:
        raise StartedTokenError
    return elapsed


# --- Rate limits ---------------------------------------------------------------------------------------------


def _client_key(address: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"inquiries:{address}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Limited:
    """A limit was reached: which, and when to try again."""

    scope: str  # "client" or "daily"
    retry_at: datetime.datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil((self.retry_at - datetime.datetime.now(tz=datetime.UTC)).total_seconds()))


def claim_slot(name: str, *, limit: int, window_end: float) -> bool:
    """Claim one of ``limit`` slots of the window ``name`` (ending at the Unix time ``window_end``); False when all
    are taken. Atomic across processes: a slot is taken by ``cache.add``, which only one caller can win."""
    if limit <= 0:
        return False
    timeout = max(1, math.ceil(window_end - time.time())) + 60  # the slots outlive their window a little
    hint_key = f"{KEY_PREFIX}:{name}:next"
    hint = cache.get(hint_key, 0)
    start = hint if isinstance(hint, int) and 0 <= hint < limit else 0
    for slot in range(start, limit):
        if cache.add(f"{KEY_PREFIX}:{name}:{slot}", 1, timeout):
            cache.set(hint_key, slot + 1, timeout)
            return True
    return False


def claim_client_submission(request: HttpRequest) -> Limited | None:
    """Count one submission from this client in the current clock hour; a Limited when over the hourly limit."""
    now = time.time()
    hour = int(now // 3600)
    window_end = (hour + 1) * 3600.0
    name = f"client:{_client_key(client_address(request))}:{hour}"
    if claim_slot(name, limit=settings.INQUIRY_RATE_LIMIT_PER_HOUR, window_end=window_end):
        return None
    return Limited(scope="client", retry_at=datetime.datetime.fromtimestamp(window_end, tz=datetime.UTC))


def claim_daily_request() -> Limited | None:
    """Count one stored request today (UTC); a Limited when the daily cap for everyone is reached."""
    today = datetime.datetime.now(tz=datetime.UTC).date()
    midnight = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    if claim_slot(f"daily:{today.isoformat()}", limit=settings.INQUIRY_DAILY_CAP, window_end=midnight.timestamp()):
        return None
    return Limited(scope="daily", retry_at=midnight)
