from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def refresh_data_version_function(*, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: (re)create ``registry_data_version()`` over every event table that exists now, so
    that a model added later (with its event table) is covered without a migration of its own."""
    from django.db import connections

    from registry.versioning import event_tables, version_function_sql

    with connections[using].cursor() as cursor:
        cursor.execute(version_function_sql(list(event_tables())))


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        # Django sends post_migrate once per app that has a models module (this app has none, so it cannot be the
        # sender): the function is recreated after each app's, a few milliseconds each; the last one counts.
        post_migrate.connect(refresh_data_version_function, dispatch_uid="registry_data_version")
