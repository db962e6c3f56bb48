"""Test settings: the production settings with fast hashing and deterministic, local-only services."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")

from registry.settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# One database even if DATABASE_REPLICA_URL is set: a test's uncommitted rows would be invisible on another
# connection. tests/test_replica.py runs the registry on a real primary and streaming replica instead.
DATABASES.pop("replica", None)  # noqa: F405
DATABASE_ROUTERS = []
MIDDLEWARE = [name for name in MIDDLEWARE if name != "registry.db_router.ReplicaRoutingMiddleware"]  # noqa: F405
# Off, so that query counts measure the uncached path; tests/test_response_cache.py turns them on.
REGISTRY_API_CACHE_SECONDS = 0
REGISTRY_PAGE_CACHE_SECONDS = 0
WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests never run collectstatic
