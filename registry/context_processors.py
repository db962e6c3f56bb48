"""Template context shared by every public page."""

from __future__ import annotations

from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """``section``: the part of the site a page belongs to (its URL namespace or name), for the main navigation.
    Empty on a page that matched no URL (a 404)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"section": "", "url_name": ""}
    return {"section": match.namespace or match.url_name or "", "url_name": match.url_name or ""}
