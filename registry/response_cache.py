"""Shared caches of rendered responses, keyed by the data version (``registry/versioning.py``): the API's JSON
lists and details (``ResponseCache``, used by ``registry/api/conditional.py``) and the public HTML pages
(``PageCacheMiddleware``).

A hit costs one query (the version) plus one cache read, instead of the filtering, the joins, the serialization
or the template; a repeated conditional request is answered 304 from the cached validators. An edit anywhere
changes the version, so the next request misses and sees the edit. Entries also expire after
``REGISTRY_API_CACHE_SECONDS`` / ``REGISTRY_PAGE_CACHE_SECONDS`` (0 turns a cache off).

Only anonymous GET/HEAD requests answered 200 with a body, and without a cookie set, are stored: an editor's
request, a streamed export, an error or a throttled answer never is. The key holds everything a body depends on:
the scheme and host (bodies carry absolute links), the path, the query parameters in a canonical order, the
negotiated media type (API) or the htmx request headers (pages: a partial swap is another body), the date (pages
print the access date in their citation) and the data version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe
from rest_framework.request import Request
from rest_framework.response import Response

from registry.versioning import DataVersion, data_version

# Headers a cached response keeps (set by the view and DRF, before the outer middleware adds its own).
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Allow", "Vary", "Link", "Content-Language")
# Bodies above this size are served but not stored (a list of 100 rich rows is well under it).
MAX_BODY_BYTES = 2 * 1024 * 1024
# Pages never cached: the admin (editors), the API (its own cache, per viewset), health checks, static files.
PAGE_EXCLUDED_PREFIXES = ("/admin/", "/api/", "/healthz", "/static/")


@dataclass(frozen=True)
class CachedResponse:
    content: bytes
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def respond(self, request: HttpRequest) -> HttpResponseBase:
        """The stored response, or a 304 when the request's validators match it."""
        etag = self.header("ETag")
        last_modified = self.header("Last-Modified")
        if etag is not None or last_modified is not None:
            timestamp = parse_http_date_safe(last_modified) if last_modified else None
            not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
            if not_modified is not None:
                for name in ("ETag", "Last-Modified", "Vary"):
                    value = self.header(name)
                    if value is not None:
                        not_modified[name] = value
                return not_modified
        response = HttpResponse(self.content, status=200)
        for name, value in self.headers:
            response[name] = value
        return response

    @classmethod
    def of(cls, response: HttpResponseBase) -> CachedResponse | None:
        """What to store of a rendered response, or None when it must not be stored."""
        if response.status_code != 200 or response.streaming or response.cookies or response.has_header("Set-Cookie"):
            return None
        content = response.content  # type: ignore[attr-defined]
        if len(content) > MAX_BODY_BYTES:
            return None
        if "no-store" in response.get("Cache-Control", "") or "private" in response.get("Cache-Control", ""):
            return None
        headers = tuple((name, response[name]) for name in KEPT_HEADERS if response.has_header(name))
        return cls(content=content, headers=headers)


def cache_key(request: HttpRequest, *, kind: str, version: str, extra: list[Any]) -> str:
    query = sorted((name, sorted(values)) for name, values in request.GET.lists())
    parts = [kind, request.scheme, request.get_host(), request.path, query, extra, version]
    return f"{kind}-response:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def store_later(response: Any, key: str, seconds: int) -> None:
    """Stores a template response once it is rendered, any other response now."""

    def save(rendered: Any) -> None:
        entry = CachedResponse.of(rendered)
        if entry is not None:
            cache.set(key, entry, seconds)

    if hasattr(response, "add_post_render_callback") and not getattr(response, "is_rendered", True):
        response.add_post_render_callback(save)
    else:
        save(response)


# --- The API ------------------------------------------------------------------------------------------


def api_cache_seconds() -> int:
    return int(getattr(settings, "REGISTRY_API_CACHE_SECONDS", 0))


class ResponseCache:
    """One API request's use of the cache: ``lookup`` before the view's work, ``store`` on its response."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.key: str | None = None
        self.version: DataVersion | None = None  # read once, for the key and the list's validators
        seconds = api_cache_seconds()
        if seconds > 0 and request.method in ("GET", "HEAD") and not request.user.is_authenticated:
            self.version = data_version()
            extra = [request.accepted_media_type]
            self.key = cache_key(request._request, kind="api", version=self.version.token, extra=extra)

    def lookup(self) -> HttpResponseBase | None:
        if self.key is None:
            return None
        entry = cache.get(self.key)
        return entry.respond(self.request._request) if isinstance(entry, CachedResponse) else None

    def store(self, response: HttpResponseBase) -> HttpResponseBase:
        """Stores the response once DRF has rendered it (only a plain 200 with a body)."""
        if self.key is not None and isinstance(response, Response) and response.status_code == 200:
            store_later(response, self.key, api_cache_seconds())
        return response


# --- The public pages ---------------------------------------------------------------------------------


def page_cache_seconds() -> int:
    return int(getattr(settings, "REGISTRY_PAGE_CACHE_SECONDS", 0))


class PageCacheMiddleware:
    """Serves a public page from the cache when the data has not changed since it was rendered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        seconds = page_cache_seconds()
        if (
            seconds <= 0
            or request.method not in ("GET", "HEAD")
            or request.path.startswith(PAGE_EXCLUDED_PREFIXES)
            or request.user.is_authenticated
        ):
            return self.get_response(request)
        htmx = sorted((name, value) for name, value in request.headers.items() if name.lower().startswith("hx-"))
        version = data_version()
        key = cache_key(request, kind="page", version=version.token, extra=[htmx, timezone.localdate().isoformat()])
        entry = cache.get(key)
        if isinstance(entry, CachedResponse):
            return entry.respond(request)
        response = self.get_response(request)
        store_later(response, key, seconds)
        return response
