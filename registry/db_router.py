"""Reads on a streaming replica, writes on the primary: the router behind ``DATABASE_REPLICA_URL``.

With ``DATABASE_REPLICA_URL`` set, ``registry/settings.py`` adds the database alias ``replica`` (a PostgreSQL hot
standby of ``DATABASE_URL``), installs :class:`PrimaryReplicaRouter` and puts :class:`ReplicaRoutingMiddleware`
in front of the views. Without it there is one database and none of this runs.

Where a query goes:

* Every write (``save``, ``create``, ``update``, ``delete``, bulk writes, links) and every migration: the primary
  (``default``). The replica is read-only; a write sent there would fail, never land.
* A read goes to the replica only while serving a GET, HEAD or OPTIONS request that carries no credentials (no
  ``Authorization`` header, no session cookie): the public's reads, which are the load that needs to scale out.
  Streamed exports (CSV, JSON Lines) keep their request's routing while the body is sent.
* Even in such a request, a read goes to the primary

  - once the request has written anything (read-your-writes: the rest of the request sees its own writes,
    which exist only on the primary, and until the request's transaction commits only in that transaction);
  - inside a ``transaction.atomic()`` block opened by the code serving the request (not the one Django opens
    around every view, ``ATOMIC_REQUESTS``): a read-modify-write must read what it writes over;
  - for users, permissions, API tokens, sessions and the database cache: a revoked token or permission takes
    effect at once, a session created at sign-in is found, throttle counts count.

* Everything else reads the primary too: POST/PUT/PATCH/DELETE requests (an ``If-Match`` check compares with the
  current record), requests of signed-in editors (so the page after a save shows it), management commands,
  shells, migrations, anything outside a request.

The guarantee is per request. An anonymous reader sees a change once the replica has replayed it: replication
lag, usually well under a second on a local network (``pg_stat_replication.replay_lag`` on the primary shows it).
Nothing is pinned across requests: editors are served by the primary anyway, and the public does not write.

Code that reads public data with raw SQL takes its connection from :func:`connection_for_reads`, so that it
reads the same database as the ORM queries of the same request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse

__all__ = [
    "PRIMARY",
    "REPLICA",
    "PrimaryReplicaRouter",
    "ReplicaRoutingMiddleware",
    "connection_for_reads",
    "read_alias",
]

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read from the primary always: who may do what, sessions, and the database cache (throttle counts).
PRIMARY_ONLY_APPS = frozenset({"auth", "authtoken", "sessions", "django_cache"})
# Writes that do not pin the rest of the request to the primary: the database cache (every anonymous API request
# counts itself in the throttle; with Redis as the cache this never touches the database at all).
UNPINNING_WRITE_APPS = frozenset({"django_cache"})


@dataclass
class RequestRouting:
    """How the request being served reads."""

    replica_allowed: bool  # a safe method without credentials
    wrote: bool = False  # the request has written: read the primary from now on
    view_atomic_blocks: int = 0  # atomic blocks on the primary that Django opened around the view (ATOMIC_REQUESTS)


_routing: ContextVar[RequestRouting | None] = ContextVar("registry_request_routing", default=None)


def read_alias() -> str:
    """The database a read of public data goes to now: ``replica`` or ``default`` (see the module's rules)."""
    state = _routing.get()
    if state is None or not state.replica_allowed or state.wrote or REPLICA not in connections.settings:
        return PRIMARY
    if len(connections[PRIMARY].atomic_blocks) > state.view_atomic_blocks:
        return PRIMARY  # inside an atomic block the request's own code opened
    return REPLICA


def connection_for_reads() -> BaseDatabaseWrapper:
    """The connection for a raw-SQL read of public data: the one the router sends the ORM's reads to now."""
    return connections[read_alias()]


class PrimaryReplicaRouter:
    """Django database router: writes and migrations on ``default``, reads as :func:`read_alias` says."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        instance = hints.get("instance")
        if instance is not None and getattr(instance._state, "db", None) == PRIMARY:
            return PRIMARY  # related rows of a record read from (or written to) the primary: same database
        return read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        state = _routing.get()
        if state is not None and model._meta.app_label not in UNPINNING_WRITE_APPS:
            state.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        both = {obj1._state.db, obj2._state.db}
        return True if both <= {PRIMARY, REPLICA} else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == PRIMARY  # the replica receives the schema by replication


class ReplicaRoutingMiddleware:
    """Sets the routing of each request (and resets it after), so reads follow :func:`read_alias`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        state = RequestRouting(replica_allowed=request.method in SAFE_METHODS and not _carries_credentials(request))
        token = _routing.set(state)
        try:
            response = self.get_response(request)
        finally:
            _routing.reset(token)
        if isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse):
            content = response.streaming_content
            if isinstance(content, Iterator):  # not an async iterator (ASGI)
                # A streamed export's body is produced after this returns: keep the request's routing for it.
                response.streaming_content = _routed(state, content)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> None:
        state = _routing.get()
        if state is not None:
            atomic = connections.settings[PRIMARY].get("ATOMIC_REQUESTS", False)
            exempt = PRIMARY in getattr(view_func, "_non_atomic_requests", set())
            state.view_atomic_blocks = 1 if atomic and not exempt else 0


def _carries_credentials(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def _routed(state: RequestRouting, content: Iterable[Any]) -> Iterator[Any]:
    """``content``, each piece produced under the request's routing."""
    iterator = iter(content)
    while True:
        token = _routing.set(state)
        try:
            piece = next(iterator)
        except StopIteration:
            return
        finally:
            _routing.reset(token)
        yield piece
