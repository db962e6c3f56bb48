"""gunicorn configuration shipped with the registry: `gunicorn -c gunicorn.conf.py registry.wsgi`.

Every value can be overridden from the environment (GUNICORN_*), so one file serves a laptop and a server.
Why these values:
- sync workers, 2 per core plus one: each request is a short, database-bound Django request; a sync worker is the
  simplest model that keeps one PostgreSQL connection per worker (CONN_MAX_AGE keeps it open between requests,
  CONN_HEALTH_CHECKS checks it before reuse).
- timeout 30 s, above the database statement timeout (DATABASE_STATEMENT_TIMEOUT_MS, 20 s by default in
  production settings), so that a slow query ends as a handled error, not as a killed worker.
- max_requests with jitter recycles workers now and then, so that slow memory growth cannot accumulate and the
  workers do not all restart at once.
- preload_app off: each worker imports the app itself, so no database connection is ever shared across a fork.
- the access log is off by default: the registry writes its own structured request log.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
backlog = _int("GUNICORN_BACKLOG", 2048)
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
preload_app = False
# Request line and header limits (gunicorn's defaults, stated): a longer request line gets a 414, not a worker error.
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
wsgi_app = "registry.wsgi:application"
