"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's ``live_server``.

Never a downloaded browser: the browser is ``/usr/bin/chromium`` (``apt-get install chromium``) or the one
``REGISTRY_CHROMIUM`` names; without it every test here is skipped with a message saying how to enable them.

What the fixtures give a test:

- ``page`` / ``page_nojs``: a fresh page (its own browser context) with JavaScript on / off, whose relative
  URLs go to the live server; ``new_page(javascript=...)`` makes more. Requests to any other origin are
  recorded and blocked (the browser never reaches the network), and so are WebSockets.
- ``request_recorder``: every URL the pages asked for; ``assert_no_foreign_requests(recorder, live_server.url)``.
- ``console_errors``: uncaught page errors and console errors (a CSP violation, a resource that failed to
  load); ``assert_no_console_errors(console_errors)``.
  Both checks also run when the test's pages are closed, so no browser test can skip them.
- ``run_axe(page)``: the vendored axe-core's serious and critical violations on the page's URL;
  ``assert_no_axe_violations(page)`` fails with them in readable form.
- ``screenshot(page, name)``: a full-page PNG in ``tests/e2e/screenshots/`` (git-ignored).

The live server runs Django in a thread of this process, so the data a test shows must be committed: it
uses the transactional database (pytest-django does this for any test using ``live_server``), built with
``tests.factories``. Static files come from ``django.contrib.staticfiles``' handler of the live server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    WebError,
    WebSocket,
    sync_playwright,
)

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = E2E_DIR / "screenshots"
AXE_PATH = E2E_DIR / "vendor" / "axe.min.js"

CHROMIUM_ENV = "REGISTRY_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
# axe-core impacts that fail a test (the others are minor and moderate).
AXE_FAILING_IMPACTS = ("serious", "critical")
# Schemes that never leave the page (inline images, object URLs); anything else must be the live server.
LOCAL_SCHEMES = ("data", "blob", "about")


def chromium_path() -> str:
    """The browser to drive: REGISTRY_CHROMIUM (a path or a command name) or Debian's /usr/bin/chromium."""
    wanted = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    return shutil.which(wanted) or wanted


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# --- What the pages did ------------------------------------------------------------------------------------


@dataclass
class RequestRecorder:
    """Every request the test's pages made, in order, and which of them were blocked as foreign."""

    allowed_origin: str
    urls: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        """Context-wide route: let the live server's requests through, record and abort everything else."""
        url = route.request.url
        if origin(url) == self.allowed_origin or urlsplit(url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def on_request(self, request: Request) -> None:
        self.urls.append(request.url)

    def on_websocket(self, websocket: WebSocket) -> None:
        # WebSockets do not go through routes; record them so the origin check sees them.
        self.urls.append(websocket.url)


def assert_no_foreign_requests(recorder: RequestRecorder, allowed_origin: str) -> None:
    """Every request went to ``allowed_origin`` (the live server's URL) or stayed inside the page."""
    allowed = origin(allowed_origin)
    foreign = [
        url
        for url in [*recorder.urls, *recorder.blocked]
        if urlsplit(url).scheme not in LOCAL_SCHEMES and origin(url) != allowed
    ]
    assert not foreign, f"requests to origins other than {allowed}:\n" + "\n".join(
        f"  {url}" for url in dict.fromkeys(foreign)
    )
    assert recorder.urls, "the browser recorded no request at all: the recorder is not attached"


@dataclass
class ConsoleErrors:
    """Uncaught exceptions and console errors of the test's pages (CSP violations and failed loads among them)."""

    messages: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.messages.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def on_web_error(self, web_error: WebError) -> None:
        error = web_error.error
        self.messages.append(f"uncaught {error.name}: {error.message}")


def assert_no_console_errors(errors: ConsoleErrors) -> None:
    assert not errors.messages, "the page reported errors:\n" + "\n".join(f"  {m}" for m in errors.messages)


# --- The browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, started once per test module.

    Playwright's sync API keeps its asyncio loop registered as running in this thread while it is open, and
    Django refuses database calls from a thread with a running loop. Test code here is synchronous (Django
    serves the pages from its own thread), so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while the browser is open,
    and only then: one module at a time, so the other tests of the session keep Django's check."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(
            f"Chromium not found at {path}: install Debian's chromium (apt-get install chromium) "
            f"or set {CHROMIUM_ENV} to run the browser tests"
        )
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Playwright drives the installed browser; `playwright install` (a downloaded browser) is never used.
        launched = playwright.chromium.launch(executable_path=path, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def request_recorder(live_server: Any) -> RequestRecorder:
    return RequestRecorder(allowed_origin=origin(live_server.url))


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


def open_context(browser: Browser, base_url: str, recorder: RequestRecorder, **options: Any) -> BrowserContext:
    """A browser context whose requests are recorded and, unless to ``base_url``'s origin, blocked."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, service_workers="block", **options)
    context.route("**/*", recorder.route)
    context.on("request", recorder.on_request)
    return context


CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test itself passed, for the checks ``new_page`` makes when it closes the pages."""
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed
    return report


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: Any,
    request_recorder: RequestRecorder,
    console_errors: ConsoleErrors,
) -> Iterator[Callable[..., Page]]:
    """Factory: ``new_page(javascript=True)`` opens a page in a context of its own (closed after the test)."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True) -> Page:
        context = open_context(browser, live_server.url, request_recorder, java_script_enabled=javascript)
        contexts.append(context)
        # On the context, so pages the page opens (popups, new tabs) are watched too.
        context.on("console", console_errors.on_console)
        context.on("weberror", console_errors.on_web_error)
        context.on("page", lambda opened: opened.on("websocket", request_recorder.on_websocket))
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    if contexts and request.node.stash.get(CALL_PASSED, False):
        # Checked again once the pages are closed, for every browser test that passed (also one that forgot to,
        # or loaded more after checking): a teardown error names what happened. A test that failed, or is
        # expected to fail, has said what went wrong already.
        assert_no_foreign_requests(request_recorder, live_server.url)
        assert_no_console_errors(console_errors)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page with JavaScript on."""
    return new_page(javascript=True)


@pytest.fixture
def page_nojs(new_page: Callable[..., Page]) -> Page:
    """A page with JavaScript off, as a reader with scripts disabled (or a crawler) sees the site."""
    return new_page(javascript=False)


# --- Accessibility (axe-core) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: tuple[tuple[str, str], ...]  # (CSS selector, what to fix)

    def __str__(self) -> str:
        lines = [f"[{self.impact}] {self.rule}: {self.help} ({self.help_url})"]
        for target, summary in self.nodes:
            lines.append(f"    at {target}")
            lines.extend(f"       {line}" for line in summary.splitlines() if line.strip())
        return "\n".join(lines)


def run_axe(page: Page, *, wait_for: str | None = None) -> list[AxeViolation]:
    """axe-core's serious and critical violations on ``page``'s URL.

    axe is injected as a script, which the site's Content-Security-Policy forbids; so the URL is loaded again in
    a context of its own with ``bypass_csp`` (for this run only, the test's own pages keep the policy), with
    JavaScript on and the same viewport. ``wait_for``: a selector to wait for before the run (pages that
    render with JavaScript)."""
    assert page.url.startswith("http"), f"load a page of the site before running axe (the page is at {page.url})"
    browser = page.context.browser
    assert browser is not None
    recorder = RequestRecorder(allowed_origin=origin(page.url))
    context = open_context(browser, page.url, recorder, bypass_csp=True, java_script_enabled=True)
    try:
        audited = context.new_page()
        audited.goto(page.url, wait_until="load")
        if wait_for:
            audited.wait_for_selector(wait_for)
        audited.add_script_tag(path=AXE_PATH)
        results = audited.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    return [
        AxeViolation(
            rule=v["id"],
            impact=v["impact"],
            help=v["help"],
            help_url=v["helpUrl"],
            nodes=tuple((" ".join(map(str, node["target"])), node.get("failureSummary", "")) for node in v["nodes"]),
        )
        for v in results["violations"]
        if v["impact"] in AXE_FAILING_IMPACTS
    ]


def format_axe(violations: list[AxeViolation]) -> str:
    return f"{len(violations)} serious or critical axe-core violation(s):\n" + "\n".join(map(str, violations))


def assert_no_axe_violations(page: Page, *, wait_for: str | None = None) -> None:
    violations = run_axe(page, wait_for=wait_for)
    assert not violations, format_axe(violations)


# --- Screenshots ------------------------------------------------------------------------------------------


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` (the whole page, or the viewport only) as tests/e2e/screenshots/<name>.png
    (git-ignored) and return its path."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, animations="disabled")
    return path
