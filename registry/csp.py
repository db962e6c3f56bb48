"""Content-Security-Policy and related headers on every response.

Public pages get a strict policy: everything from the app's own origin, no inline script or style, no frames.
Two kinds of page need more, and get it only for their own paths: the Django admin (inline styles in its
widgets) and the API docs (Swagger UI starts from an inline script; Redoc injects its styles and runs its
search in a blob worker). None of them may load anything from another origin."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
RELAXED = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
RELAXED_PREFIXES = ("/admin/", "/api/v1/docs/", "/api/v1/redoc/")


def policy_for(path: str) -> str:
    return RELAXED if path.startswith(RELAXED_PREFIXES) else STRICT


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", policy_for(request.path))
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
