"""Content-Security-Policy and related headers on every response.

Every page gets a strict policy: everything from the app's own origin, no inline script or style, no eval, no
frames, no other origin. The Django admin runs under it as it is (Django 5.2's admin has no inline script; its
one inline ``<style>``, on a changelist without actions, appears on none of ours: tests/e2e/test_e2e_csp.py).

One page needs more, and gets exactly that, on its own path: Redoc (``/api/v1/redoc/``), whose styled-components
inject ``<style>`` elements at run time (``style-src 'unsafe-inline'``, styles only, never scripts) and which
runs its search in a worker made from a blob URL (``worker-src blob:``).

Swagger UI (``/api/v1/docs/``) needs nothing more: its start script is served as a file of its own
(drf-spectacular's split view) and its page has no inline style (``templates/api/swagger_ui.html``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
REDOC_PREFIX = "/api/v1/redoc/"
# What Redoc needs beyond the strict policy, and nothing else.
REDOC_RELAXATION: dict[str, str] = {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}


def serialize(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


STRICT = serialize(DIRECTIVES)
REDOC = serialize({**DIRECTIVES, **REDOC_RELAXATION})


def policy_for(path: str) -> str:
    return REDOC if path.startswith(REDOC_PREFIX) else STRICT


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
