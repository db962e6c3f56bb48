"""The shared cache when REDIS_URL is set: Django's RedisCache that keeps the registry serving when Redis is down.

Every cached value in the registry (home figures, facet counts, map counts, the API's anonymous throttle) can be
recomputed from the database, so an unreachable Redis must cost speed, never an error page. ``ResilientRedisCache``
turns a Redis connection error or timeout into what a cache miss would be: ``get`` answers the default,
``get_many`` nothing, ``set`` stores nothing, ``add``/``delete``/``touch``/``has_key`` answer False and ``incr``
raises ``ValueError`` as for a missing key. The throttle then counts nothing and lets requests through.

So that a down Redis adds no latency:

- sockets have short timeouts (``socket_connect_timeout`` 0.25 s, ``socket_timeout`` 0.5 s unless OPTIONS say
  otherwise) and redis-py does not retry (its pool default);
- after a failure, the process skips Redis altogether for ``DOWN_SECONDS`` (OPTIONS, default 2 s) and then tries
  again: at most one slow call per process per interval, even when Redis hangs instead of refusing.

One warning is logged when Redis becomes unreachable, then at most one a minute while it stays so (with the number
of calls served as misses), and one info line when it answers again. The messages name the exception class and
the server address only (without the user name and password the URL may hold).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: What an unreachable Redis raises (BusyLoadingError, a server still loading its data, is a ConnectionError).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
CONNECT_TIMEOUT_SECONDS = 0.25
READ_TIMEOUT_SECONDS = 0.5
DOWN_SECONDS = 2.0
WARNING_INTERVAL_SECONDS = 60.0


@dataclass
class _Outage:
    """What this process knows about one Redis server being unreachable."""

    skip_until: float = 0.0  # monotonic time before which calls do not even try
    since: float | None = None  # monotonic time of the first failure of the current outage
    warned_at: float = 0.0
    misses: int = 0  # calls served as misses since the last warning


# One state per server address, shared by the threads of a process (Django makes a cache object per thread).
_outages: dict[str, _Outage] = {}
_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """RedisCache whose calls behave as cache misses while Redis is unreachable (see the module docstring)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self.down_seconds = float(options.pop("DOWN_SECONDS", DOWN_SECONDS))
        options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", READ_TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        servers = [server] if isinstance(server, str) else list(server)
        # Logged without the user name and password a URL may carry.
        self.address = ",".join(without_credentials(url) for url in servers)
        with _lock:
            self._outage = _outages.setdefault(",".join(servers), _Outage())

    # --- The guard -------------------------------------------------------------------------------------------

    def _guarded(self, call: Callable[[], T], miss: Callable[[], T]) -> T:
        """``call()``, or ``miss()`` when Redis is unreachable or was a moment ago."""
        outage = self._outage
        now = time.monotonic()
        if now < outage.skip_until:
            outage.misses += 1
            return miss()
        try:
            result = call()
        except UNREACHABLE as error:
            self._failed(error)
            return miss()
        if outage.since is not None:
            self._recovered()
        return result

    def _failed(self, error: Exception) -> None:
        outage = self._outage
        now = time.monotonic()
        with _lock:
            outage.skip_until = now + self.down_seconds
            outage.misses += 1
            first = outage.since is None
            if first:
                outage.since = now
            due = first or now - outage.warned_at >= WARNING_INTERVAL_SECONDS
            if due:
                outage.warned_at = now
                misses, outage.misses = outage.misses, 0
        if not due:
            return
        if first:
            logger.warning(
                "Cache unreachable (%s at %s): serving from the database, retrying every %.1f s.",
                type(error).__name__,
                self.address,
                self.down_seconds,
            )
        else:
            logger.warning(
                "Cache still unreachable (%s at %s) for %.0f s; %d calls served as misses in the last minute.",
                type(error).__name__,
                self.address,
                now - (outage.since or now),
                misses,
            )

    def _recovered(self) -> None:
        outage = self._outage
        with _lock:
            since, outage.since, outage.misses = outage.since, None, 0
        if since is not None:
            logger.info("Cache reachable again at %s after %.1f s.", self.address, time.monotonic() - since)

    # --- The cache API, each call guarded ---------------------------------------------------------------------

    def add(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), _false)

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._guarded(lambda: super(ResilientRedisCache, self).get(key, default, version), lambda: default)

    def set(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guarded(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), _none)

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), _false)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: super(ResilientRedisCache, self).delete(key, version), _false)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guarded(lambda: super(ResilientRedisCache, self).get_many(keys, version), dict)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: super(ResilientRedisCache, self).has_key(key, version), _false)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        def missing() -> int:
            raise ValueError(f"Key '{key}' not found.")

        return self._guarded(lambda: super(ResilientRedisCache, self).incr(key, delta, version), missing)

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's contract: the keys that could not be stored.
        return self._guarded(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), lambda: list(data)
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._guarded(lambda: super(ResilientRedisCache, self).delete_many(keys, version), _none)

    def clear(self) -> None:
        self._guarded(lambda: super(ResilientRedisCache, self).clear(), _none)


def without_credentials(url: str) -> str:
    """``redis://user:secret@host:6379/0`` as ``redis://host:6379/0``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _false() -> bool:
    return False


def _none() -> None:
    return None
