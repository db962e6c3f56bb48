"""Every request has an id and one structured log line: the id comes back in X-Request-ID (a safe one from a proxy
is kept, anything else replaced), is in every log line written for the request, and the request log holds no
personal data: no body, no e-mail address, no user name, no cookie or Authorization value, no query values."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from registry.logs import JsonFormatter
from registry.urls import urlpatterns as registry_urlpatterns
from tests import factories

EMAIL = "whistleblower@example.org"


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    """Every captured record as the production formatter writes it, parsed back."""
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert all("\n" not in line for line in lines)  # one line per record
    return [json.loads(line) for line in lines]


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [line for line in json_lines(caplog) if line["logger"] == "registry.request"]


@pytest.mark.django_db
def test_each_response_carries_a_new_request_id(anon_client: Client) -> None:
    first = anon_client.get("/")["X-Request-ID"]
    second = anon_client.get("/no-such-page/")["X-Request-ID"]

    assert uuid.UUID(first).version == 4
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("lb-7f3a-0001", True),
        ("A" * 64, True),
        ("A" * 65, False),  # too long
        ("abc def", False),
        ("<script>", False),
        ("id;rm -rf", False),
        ("", False),
    ],
)
def test_a_safe_incoming_request_id_is_kept_anything_else_replaced(anon_client: Client, incoming: str, kept: bool):
    returned = anon_client.get("/", headers={"X-Request-ID": incoming})["X-Request-ID"]
    if kept:
        assert returned == incoming
    else:
        assert uuid.UUID(returned).version == 4


@pytest.mark.django_db
def test_a_login_post_is_logged_with_its_id_and_without_body_or_user_name(caplog: pytest.LogCaptureFixture) -> None:
    factories.UserFactory(username=EMAIL, email=EMAIL, is_staff=True)
    client = Client()
    caplog.set_level(logging.DEBUG)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": EMAIL, "password": "not-the-right-password"},
        headers={"X-Request-ID": "req-login-1"},
    )

    assert response.status_code == 200  # the form again: wrong password
    [line] = request_lines(caplog)
    assert line["request_id"] == "req-login-1"
    assert line["method"] == "POST"
    assert line["path"] == "/admin/login/"
    assert line["status"] == 200
    assert line["authenticated"] is False
    assert line["query_parameters"] == ["next"]
    assert isinstance(line["duration_ms"], float)
    assert line["bytes"] == len(response.content)
    everything = "\n".join(json.dumps(entry) for entry in json_lines(caplog))
    assert EMAIL not in everything
    assert "whistleblower" not in everything
    assert "not-the-right-password" not in everything
    assert "127.0.0.1" not in everything  # no client address


@pytest.mark.django_db
def test_an_api_write_is_logged_without_token_body_or_cookie(caplog: pytest.LogCaptureFixture, editor) -> None:
    token = factories.TokenFactory(user=editor)
    client = Client()
    client.cookies["sessionid"] = "a-session-cookie-value"
    caplog.set_level(logging.DEBUG)

    response = client.post(
        "/api/v1/partnerships/",
        {"name": "Reported by " + EMAIL, "editorial_note": EMAIL},
        content_type="application/json",
        headers={"Authorization": f"Token {token.key}"},
    )

    assert response.status_code in (201, 400)
    [line] = request_lines(caplog)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["authenticated"] is True
    everything = "\n".join(json.dumps(entry) for entry in json_lines(caplog))
    for secret in (EMAIL, token.key, "a-session-cookie-value", "editor"):
        assert secret not in everything


@pytest.mark.django_db
def test_query_values_are_not_logged_and_addresses_in_paths_are_masked(
    anon_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    anon_client.get("/partnerships/", {"q": "Jane Doe"})
    anon_client.get(f"/partnerships/{EMAIL}/")

    search, detail = request_lines(caplog)
    assert search["query_parameters"] == ["q"]
    assert "Jane" not in json.dumps(search)
    assert detail["path"] == "/partnerships/[email]/"
    assert detail["status"] == 404
    assert EMAIL not in json.dumps(json_lines(caplog))


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("test-only/fails/", failing_view), *registry_urlpatterns]
handler500 = "registry.views.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_the_server_error_log_and_the_page_share_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = Client(raise_request_exception=False).get("/test-only/fails/")

    request_id = response["X-Request-ID"]
    assert request_id in response.content.decode()
    lines = json_lines(caplog)
    [error] = [line for line in lines if line["logger"] == "django.request"]
    assert error["request_id"] == request_id
    assert "RuntimeError: boom" in error["exception"]  # the traceback is in the server log, not on the page
    [logged] = request_lines(caplog)
    assert logged["status"] == 500
    assert logged["level"] == "WARNING"


def test_production_logs_are_json() -> None:
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)
