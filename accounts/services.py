"""Writes of the accounts app: keeping the role groups in line with the installed models."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction

from accounts.roles import ROLES


def permissions_create(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the content types and permissions of every installed model that lacks them (what ``migrate``
    does app by app; the roles need all of them at once)."""
    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, interactive=False, using=using, apps=apps)


def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the role groups that are missing and give each exactly the permissions its role defines
    (adding new ones, removing ones the role no longer has). Idempotent: a second run changes nothing and
    returns an empty list. Returns one line per change, for the command to print."""
    changes: list[str] = []
    with transaction.atomic(using=using):
        permissions_create(using=using)
        by_name = {
            f"{app_label}.{codename}": pk
            for pk, app_label, codename in Permission.objects.using(using).values_list(
                "pk", "content_type__app_label", "codename"
            )
        }
        names = {pk: name for name, pk in by_name.items()}
        for role in ROLES:
            wanted_names = role.permissions()
            missing = sorted(wanted_names - by_name.keys())
            if missing:  # a role names a permission no model defines: a bug in accounts.roles
                raise LookupError(f"Role {role.name} needs permissions that do not exist: {', '.join(missing)}")
            wanted = {by_name[name] for name in wanted_names}
            group, created = Group.objects.using(using).get_or_create(name=role.name)
            if created:
                changes.append(f"Created group {role.name}.")
            held = set(group.permissions.values_list("pk", flat=True))
            added, removed = wanted - held, held - wanted
            if added:
                group.permissions.add(*added)
                changes.append(f"{role.name}: added {_listed(added, names)}.")
            if removed:
                group.permissions.remove(*removed)
                changes.append(f"{role.name}: removed {_listed(removed, names)}.")
    return changes


def _listed(pks: set[int], names: dict[int, str], limit: int = 8) -> str:
    shown = sorted(names[pk] for pk in pks)
    text = ", ".join(shown[:limit])
    more = len(shown) - limit
    count = f"{len(shown)} permission{'s' if len(shown) != 1 else ''}"
    return f"{count} ({text}{f', and {more} more' if more > 0 else ''})"
