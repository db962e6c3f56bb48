"""Structured logs: one JSON object per line, each carrying the id of the request it was written for.

``JsonFormatter`` writes the time (UTC, ISO 8601), level, logger, message, the request id of the request being
served (``current_request_id``, set by ``registry.middleware.RequestIdMiddleware``) and the fields a caller passed
with ``extra={...}``; an exception's traceback goes in ``exception``. It is the production log format
(``LOGGING`` in registry/settings.py; ``DJANGO_LOG_FORMAT=text`` for plain lines, the default with DEBUG on).

What goes into a log line is chosen by the code that writes it: the request log (registry/middleware.py) holds no
request body, cookie, header value, query value, client address or user name."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request this thread (or task) is serving; None outside a request (commands, start-up).
current_request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is written as a field.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Django's loggers attach the request object itself (``extra={"request": ...}``): never written out.
UNWRITTEN_EXTRAS = frozenset({"request", "server_time"})


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = (
            getattr(record, "request_id", None)
            or getattr(getattr(record, "request", None), "request_id", None)  # Django's loggers pass the request
            or current_request_id.get()
        )
        if request_id:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRIBUTES and name not in UNWRITTEN_EXTRAS and name not in entry:
                entry[name] = _jsonable(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class SkipDatabaseUnavailable(logging.Filter):
    """Drops django.request's record of a 503: the registry answers 503 only when the database cannot answer, and
    says so in one line of its own (``registry.database``) instead of a traceback per request during an outage."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503
