"""The API's documentation pages, served by the app: Swagger UI and Redoc from drf-spectacular-sidecar.

Redoc's bundle hard-codes one third-party request: the Redocly logo beside "API docs by Redocly"
(https://cdn.redoc.ly/redoc/logo-mini.svg). The app serves the bundle itself with that address replaced by an
empty inline image, so the docs pages load nothing from another origin."""

from __future__ import annotations

import functools
import hashlib

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_safe

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
THIRD_PARTY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@functools.cache
def redoc_bundle_bytes() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if not isinstance(path, str):
        raise FileNotFoundError(REDOC_BUNDLE)
    with open(path, "rb") as bundle:
        return bundle.read().replace(THIRD_PARTY_LOGO, EMPTY_IMAGE)


def redoc_bundle_etag(request: HttpRequest, **url_kwargs: str) -> str:
    return hashlib.sha256(redoc_bundle_bytes()).hexdigest()[:32]


@require_safe
@condition(etag_func=redoc_bundle_etag)
def redoc_bundle(request: HttpRequest, **url_kwargs: str) -> HttpResponse:
    response = HttpResponse(redoc_bundle_bytes(), content_type="text/javascript; charset=utf-8")
    patch_cache_control(response, public=True, max_age=86400)
    return response
