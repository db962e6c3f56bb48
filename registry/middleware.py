"""Middleware of every request: its id and its log line, and a quick, handled answer when the database cannot
answer.

``RequestIdMiddleware`` (first in MIDDLEWARE) gives each request an id: the ``X-Request-ID`` a proxy sent, if it
is a safe one (1 to 64 letters, digits and hyphens), else a new UUID4. The id is on the request
(``request_id_of``), in every log line written while serving it (``registry.logs.current_request_id``), in the
``X-Request-ID`` response header and on the error pages, so that a reader can quote it and an operator can find
the request's log lines. It then writes one line per request to the ``registry.request`` logger: method, path,
the names (never the values) of the query parameters, status, duration, size, and whether the user was logged in.
Never a request body, cookie, header value, client address or user name; e-mail addresses in a path are masked.

``DatabaseUnavailableMiddleware`` turns a database that cannot answer (``OperationalError`` or ``InterfaceError``:
the server is down or unreachable, the connection broke, or a query ran past ``DATABASE_STATEMENT_TIMEOUT_MS``)
into a 503 with ``Retry-After``, as an HTML page or, under /api/, the API's error body; not a 500 with a
traceback in the log. ``registry.views.server_error`` does the same for such an error raised outside a view."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Literal

import psycopg.errors
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string

from registry.logs import current_request_id

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
EMAIL = re.compile(r"[^/@\s]+@[^/@\s]+")
MAX_LOGGED_PATH = 500
MAX_LOGGED_PARAMETERS = 20
RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"

request_logger = logging.getLogger("registry.request")
database_logger = logging.getLogger("registry.database")

DatabaseProblem = Literal["unavailable", "timeout"]


def request_id_of(request: HttpRequest) -> str:
    """The id of ``request`` (empty if RequestIdMiddleware did not see it)."""
    return str(getattr(request, "request_id", "") or current_request_id.get() or "")


def masked(text: str) -> str:
    return EMAIL.sub("[email]", text)


def authenticated(request: HttpRequest) -> bool | None:
    """Whether the request's user was logged in; None if that cannot be told without a database that failed."""
    if getattr(request, "database_problem", None) or not hasattr(request, "user"):
        return None
    try:
        return bool(request.user.is_authenticated)
    except (OperationalError, InterfaceError):
        return None


def response_size(response: HttpResponseBase) -> int | None:
    if response.has_header("Content-Length"):
        return int(response["Content-Length"])
    if isinstance(response, HttpResponse):
        return len(response.content)
    return None  # streamed: the size is not known when the headers go out


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self.log(request, response, duration_ms=(time.perf_counter() - started) * 1000)
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def log(request: HttpRequest, response: HttpResponseBase, *, duration_ms: float) -> None:
        path = masked(request.path)[:MAX_LOGGED_PATH]
        status = response.status_code
        request_logger.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "request_id": request_id_of(request),
                "method": request.method,
                "path": path,
                "query_parameters": sorted({masked(name)[:40] for name in request.GET})[:MAX_LOGGED_PARAMETERS],
                "status": status,
                "duration_ms": round(duration_ms, 1),
                "bytes": response_size(response),
                "streamed": response.streaming,
                "authenticated": authenticated(request),
            },
        )


def database_problem(exc: BaseException | None) -> DatabaseProblem | None:
    """What a database exception means for the reader: "timeout" (the statement timeout cancelled a query),
    "unavailable" (no connection, a broken one, or any other operational failure), or None (not such an error)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
        return "timeout"
    return "unavailable"


MESSAGES: dict[DatabaseProblem, str] = {
    "unavailable": "The registry's database is not answering. Please try again in a minute.",
    "timeout": "This request took too long and was stopped. Please try again, or ask for less at once.",
}


def database_problem_response(request: HttpRequest, problem: DatabaseProblem, exc: BaseException) -> HttpResponse:
    """The 503 answer to ``problem``: the API's error body under /api/, else the standalone 503 page (rendered
    without context processors: they may need the database). Logged as one line, without a traceback."""
    request.database_problem = problem  # type: ignore[attr-defined]
    cause = exc.__cause__
    database_logger.warning(
        "database %s: %s",
        problem,
        type(cause or exc).__name__,
        extra={
            "request_id": request_id_of(request),
            "problem": problem,
            "sqlstate": getattr(cause, "sqlstate", None),
            "path": masked(request.path),
        },
    )
    request_id = request_id_of(request)
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        code = "database_unavailable" if problem == "unavailable" else "query_timeout"
        detail = f"{MESSAGES[problem]} Request id: {request_id}."
        response = JsonResponse({"errors": [{"code": code, "detail": detail, "attr": None}]}, status=503)
    else:
        page = render_to_string("503.html", {"problem": problem, "request_id": request_id})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        problem = database_problem(exception)
        return None if problem is None else database_problem_response(request, problem, exception)
