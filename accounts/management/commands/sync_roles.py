"""``manage.py sync_roles``: create or update the Editors, Reviewers and Administrators groups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.roles import ROLES
from accounts.services import roles_sync


class Command(BaseCommand):
    help = (
        "Create the role groups (Editors, Reviewers, Administrators) and give each exactly the permissions its "
        "role defines; prints what changed. Runs after every migrate too. Give a user a role in the admin: "
        "Users -> the user -> Groups (and tick 'Staff status' so they can log in to the admin)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        changes = roles_sync(using=options["database"])
        for line in changes:
            self.stdout.write(line)
        if not changes:
            self.stdout.write(f"Roles are up to date ({', '.join(role.name for role in ROLES)}).")
        else:
            self.stdout.write(self.style.SUCCESS(f"{len(changes)} change(s) made."))
