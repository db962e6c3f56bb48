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
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request this thread (or task) is serving; None outside a request (commands, start-up).
current_request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is written as a field.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Django's loggers attach the request object itself (``extra={"request": ...}``): never written out.
UNWRITTEN_EXTRAS = frozenset({"request", "server_time", "_emails_masked"})


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
        elif record.exc_text:  # a traceback already formatted and masked by MaskEmails
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class SkipDatabaseUnavailable(logging.Filter):
    """Drops django.request's record of a 503: the registry answers 503 only when the database cannot answer, and
    says so in one line of its own (``registry.database``) instead of a traceback per request during an outage."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503


# An e-mail address, also URL-encoded (%40). Deliberately broad: masking a non-address costs nothing.
EMAIL_IN_TEXT = re.compile(r"[\w.+%!#$&'*/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
EMAIL_MASK = "[email]"


def mask_emails(text: str) -> str:
    return EMAIL_IN_TEXT.sub(EMAIL_MASK, text)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Masks the e-mail addresses of a record in place: its formatted message (arguments included), its traceback
    (formatted now, kept as ``exc_text``) and stack, and any string it carries from ``extra=``."""
    if getattr(record, "_emails_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw parts, masked
        message = f"{record.msg} {record.args}"
    masked = mask_emails(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if mask_emails(text) != text:
            record.exc_text = mask_emails(text)
            record.exc_info = None  # no handler formats the original exception (and its message) again
    elif record.exc_text:
        record.exc_text = mask_emails(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_emails(record.stack_info)
    for name, value in list(vars(record).items()):
        if name not in STANDARD_ATTRIBUTES and isinstance(value, str):
            setattr(record, name, mask_emails(value))
    record._emails_masked = True
    return record


_factory_installed = False


def install_email_masking_record_factory() -> None:
    """Masks e-mail addresses in every record when it is created, so that every handler (a test's capture, a
    handler added later) sees them masked, not only the ones with the ``MaskEmails`` filter. Idempotent."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class MaskEmails(logging.Filter):
    """Masks e-mail addresses in every log record (message and arguments, ``extra=`` strings, traceback), so that
    not even a server error's traceback or a logged URL holding an address writes it. Configured on the console
    handler (``LOGGING`` in registry/settings.py); creating it also installs the record factory above, which masks
    records at creation for every other handler. Extras are set after creation, so the filter checks them again."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install_email_masking_record_factory()

    def filter(self, record: logging.LogRecord) -> bool:
        record._emails_masked = False
        _mask_record(record)
        return True
