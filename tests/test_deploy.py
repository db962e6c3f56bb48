"""Production settings and the security headers of every response.

`manage.py check --deploy --fail-level WARNING` passes with production settings given as environment variables
(and fails when one is made insecure); a sweep of every URL pattern, over HTTPS, finds on every answer (HTML,
JSON, CSV, 404 and 500) HSTS, nosniff, the same-origin Referrer-Policy, X-Frame-Options DENY, a request id and
the strict Content-Security-Policy (Redoc's documented relaxation on its own path only, and exactly that); every
cookie set is Secure, HttpOnly and SameSite."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.utils.regex_helper import normalize

from partnerships.models import Partnership
from registry import csp
from registry.urls import urlpatterns as registry_urlpatterns
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
HSTS = "max-age=31536000; includeSubDomains; preload"


# --- check --deploy with production settings from the environment ---------------------------------------------


def run_deploy_check(**overrides: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy --fail-level WARNING` in a fresh interpreter with production settings only from
    the environment (no DEBUG, a long random secret, a host name) plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="registry.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://registry.example.org",
        # The check does not connect; a URL keeps the embedded server from starting.
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://registry@127.0.0.1:5432/registry",
        **overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_production_settings_from_the_environment() -> None:
    result = run_deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_when_a_production_setting_is_insecure() -> None:
    result = run_deploy_check(DJANGO_SECURE_HSTS_SECONDS="0", DJANGO_SECURE_COOKIES="false")
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W012" in result.stderr  # session cookie not Secure


# --- The sweep -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    template: str  # "partnerships/%(slug)s/", from the pattern's regex
    params: tuple[str, ...]
    pattern: URLPattern

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("admin/")


def every_route(patterns: list[Any], prefix: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    """Every URL pattern of the project, as a path template with its parameters (as Django's reverse sees it)."""
    for entry in patterns:
        template, names = normalize(entry.pattern.regex.pattern)[0]
        if isinstance(entry, URLResolver):
            yield from every_route(entry.url_patterns, prefix + template, (*params, *names))
        else:
            yield Route(prefix + template, (*params, *names), entry)


def seed() -> dict[str, str]:
    """One published record of every kind; the slug to use after each path segment that names a kind."""
    partnership = factories.PartnershipFactory()
    factories.MechanismAssessmentFactory(partnership=partnership)
    factories.ClaimFactory(partnership=partnership, value="2015")
    case = factories.OverreachCaseFactory(jurisdiction=partnership.jurisdiction)
    factories.CaseQuoteFactory(case=case)
    instrument = factories.LegalInstrumentFactory(jurisdiction=partnership.jurisdiction)
    instrument.topics.add(factories.LegalTopicFactory())
    oversight_body = factories.OversightBodyFactory(jurisdiction=partnership.jurisdiction)
    case.issues.add(factories.IssueTypeFactory())
    case.partnerships.add(partnership)
    focus_area = factories.FocusAreaFactory()
    partnership.focus_areas.add(focus_area)
    practice = factories.SurveillancePracticeFactory()
    partnership.surveillance_practices.add(practice)
    factories.TokenFactory()
    jurisdiction = partnership.jurisdiction
    slugs = {
        "partnerships": partnership.slug,
        "ngos": partnership.ngos.get().slug,
        "police-departments": partnership.police_departments.get().slug,
        "focus-areas": focus_area.slug,
        "surveillance-practices": practice.slug,
        "accountability-mechanisms": partnership.assessments.get().mechanism.slug,
        "sources": partnership.sources.first().slug,
        "regions": partnership.region.slug,
        "countries": jurisdiction.country.slug,
        "jurisdictions": jurisdiction.slug,
        "instruments": instrument.slug,
        "legal-instruments": instrument.slug,
        "oversight-bodies": oversight_body.slug,
        "cases": case.slug,
        "objectives": factories.ObjectiveFactory().slug,
        "challenges": factories.ChallengeFactory().slug,
        "stakeholder-groups": factories.StakeholderGroupFactory().slug,
    }
    return slugs


def fill(route: Route, slugs: dict[str, str], editor_pk: int) -> list[str] | None:
    """The concrete paths to request for ``route`` (a format-suffix route gives one per format); None when the
    route needs a record that does not exist (an admin page of an empty table)."""
    values: dict[str, str] = {"version": "v1", "app_label": "partnerships", "url": "no-such-admin-page/"}
    values["id"] = str(editor_pk)
    values["reference"] = "a" * 16  # an information request that does not exist: its 404 carries the headers too
    values["target"], values["pk"] = "partnership", "0"  # the disputes page of a record that does not exist: 404
    if "slug" in route.params:
        kind = route.template.split("%(slug)s")[0].rstrip("/").rsplit("/", 1)[-1]
        values["slug"] = slugs[kind]  # a KeyError names a new kind of record page: add it to seed()
    if "object_id" in route.params:
        model_admin = getattr(route.pattern.callback, "model_admin", None)
        model = model_admin.model if model_admin else Partnership
        first = model._default_manager.order_by("pk").first()
        if first is None:
            return None
        values["object_id"] = str(first.pk)
        values["content_type_id"] = str(ContentType.objects.get_for_model(model).pk)
    formats = [""]
    if "format" in route.params:
        dotted = ".%(format)s" in route.template
        formats = ["json", "csv"] if dotted else [".json", ".csv"]
    paths = []
    for suffix in formats:
        unknown = set(route.params) - {*values, "format"}
        assert not unknown, f"no value for {unknown} in {route.template}: teach fill() about it"
        paths.append("/" + route.template % {**values, "format": suffix})
    return paths


def header_problems(response: Any, request_path: str) -> list[str]:
    """What is missing or wrong in the security headers and cookies of ``response``."""
    problems = []
    expected = {
        "Strict-Transport-Security": HSTS,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if request_path.startswith("/static/"):
        del expected["X-Frame-Options"]  # whitenoise answers before it; a stylesheet is no frame (CSP says so too)
    for name, value in expected.items():
        if response.get(name) != value:
            problems.append(f"{name}: {response.get(name)!r}, expected {value!r}")
    if not response.get("X-Request-ID"):
        problems.append("no X-Request-ID")
    policy = response.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    for name in ("default-src", "script-src", "object-src", "base-uri", "frame-ancestors", "form-action"):
        if name not in directives:
            problems.append(f"CSP without {name}: {policy!r}")
    if "'unsafe-eval'" in policy or "http" in policy or "*" in policy:
        problems.append(f"CSP allows eval or another origin: {policy!r}")
    if directives.get("script-src") != "'self'":
        problems.append(f"CSP script-src is not 'self' only: {policy!r}")
    if request_path.startswith("/api/v1/redoc/"):
        # The documented relaxation (registry/csp.py), exactly: inline styles and blob workers, nothing else.
        if directives != {**csp.DIRECTIVES, **csp.REDOC_RELAXATION}:
            problems.append(f"Redoc's policy is not the strict one plus its documented relaxation: {policy!r}")
    elif directives != csp.DIRECTIVES or "'unsafe-inline'" in policy:
        problems.append(f"not the strict policy: {policy!r}")
    for cookie in response.cookies.values():
        if not (cookie["secure"] and cookie["httponly"] and cookie["samesite"] in ("Lax", "Strict")):
            problems.append(f"cookie {cookie.key} is not Secure, HttpOnly and SameSite: {cookie.output()}")
    return problems


def kind_of(response: Any) -> str:
    if response.status_code in (404, 500):
        return str(response.status_code)
    content_type = response.get("Content-Type", "").split(";")[0]
    return {"text/html": "html", "application/json": "json", "text/csv": "csv"}.get(content_type, content_type)


@pytest.mark.django_db
def test_every_url_pattern_answers_with_the_security_headers(anon_client: Client, admin_client: Client) -> None:
    slugs = seed()
    editor_pk = admin_client.session["_auth_user_id"]
    routes = list(every_route(get_resolver().url_patterns))
    problems: dict[str, list[str]] = {}
    server_errors: list[str] = []
    kinds: set[str] = set()
    skipped: list[str] = []
    requested = 0
    for route in routes:
        paths = fill(route, slugs, int(editor_pk))
        if paths is None:
            skipped.append(route.template)
            continue
        client = admin_client if route.is_admin else anon_client
        for request_path in paths:
            response = client.get(request_path, secure=True)
            requested += 1
            kinds.add(kind_of(response))
            if response.status_code >= 500:
                server_errors.append(f"{request_path}: {response.status_code}")
            if found := header_problems(response, request_path):
                problems[request_path] = found
    # A list export as CSV, a static file (whitenoise), and the 404 of the pages and of the API.
    extra = ("/api/v1/partnerships/?format=csv", "/static/css/registry.css", "/no-such-page/", "/api/v1/no-such/")
    for request_path in extra:
        response = anon_client.get(request_path, secure=True)
        kinds.add(kind_of(response))
        if found := header_problems(response, request_path):
            problems[request_path] = found

    assert not server_errors, server_errors
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(found) for p, found in problems.items())
    assert {"html", "json", "csv", "404"} <= kinds, kinds
    # Only admin pages of tables the seed leaves empty are skipped, and the sweep is the whole site.
    assert all(template.startswith("admin/") for template in skipped), skipped
    assert len(routes) > 250
    assert requested > len(routes)


# The 500 answers, from a URLconf with the whole site plus two views that fail.


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, with a secret in its message: hunter2")


urlpatterns = [
    path("test-only/fails/", failing_view),
    path("api/v1/test-only/fails/", failing_view),
    *registry_urlpatterns,
]
handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("request_path", "kind"), [("/test-only/fails/", "html"), ("/api/v1/test-only/fails/", "json")]
)
def test_a_server_error_is_a_generic_page_with_the_request_id_and_the_headers(request_path: str, kind: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.get(request_path, secure=True, headers={"X-Request-ID": "req-500-check"})

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500-check"
    assert not header_problems(response, request_path)
    body = response.content.decode()
    assert "req-500-check" in body  # the id to quote
    assert "Traceback" not in body
    assert "hunter2" not in body
    assert "RuntimeError" not in body
    assert response["Content-Type"].startswith("text/html" if kind == "html" else "application/json")
    if kind == "json":
        assert response.json()["errors"][0]["code"] == "server_error"
    else:
        assert "Something went wrong on our side" in body


@pytest.mark.django_db
def test_login_cookies_are_secure_httponly_and_samesite(editor) -> None:
    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/admin/login/", secure=True)
    assert not header_problems(login_page, "/admin/login/")
    token = login_page.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {"username": "editor", "password": "a-long-test-password-1234", "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Referer": "https://testserver/admin/login/"},
    )
    assert response.status_code == 302
    assert {"sessionid", "csrftoken"} <= set(response.cookies)
    assert not header_problems(response, "/admin/login/")
