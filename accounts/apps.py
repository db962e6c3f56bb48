from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def sync_roles_after_migrate(*, using: str = "default", verbosity: int = 1, **kwargs: Any) -> None:
    """After every ``migrate`` (once, when this app's signal is sent): bring the role groups up to date. The
    permissions of apps migrated after this one are created first (``roles_sync`` does), so no app is missed."""
    from accounts.services import roles_sync

    changes = roles_sync(using=using)
    stdout = kwargs.get("stdout")
    if verbosity >= 2 and stdout is not None:
        for line in changes:
            stdout.write(f"  Roles: {line}\n")


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="accounts_sync_roles")
