"""The site's own error pages: 404, 400 and 500 in the registry's layout (not Django's), each telling the
reader what to do next, and the security headers on every response."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from registry.views import server_error

pytestmark = pytest.mark.django_db


def test_unknown_address_is_our_404_page(anon_client) -> None:
    response = anon_client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert 'href="/partnerships/"' in page
    assert 'class="site-header"' in page


def test_bad_query_is_our_400_page_naming_the_parameter(anon_client) -> None:
    response = anon_client.get("/partnerships/", {"colour": "red"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "<code>colour</code>" in page
    assert "Unknown parameter" in page


def test_500_page_is_ours_and_standalone() -> None:
    """The 500 page renders without the database or a request context (the error may be the database)."""
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "Nothing you sent was lost" in page


@pytest.mark.parametrize("path", ["/", "/partnerships/", "/no-such-page/"])
def test_security_headers_on_every_page(anon_client, path: str) -> None:
    response = anon_client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admin_and_swagger_get_the_strict_policy_and_redoc_inline_styles_only(anon_client, admin_client) -> None:
    for client, path in ((admin_client, "/admin/"), (anon_client, "/api/v1/docs/")):
        policy = client.get(path)["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy
        assert "script-src 'self';" in policy
    policy = anon_client.get("/api/v1/redoc/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline';" in policy
    assert "script-src 'self';" in policy
    assert "http" not in policy  # no other origin allowed
