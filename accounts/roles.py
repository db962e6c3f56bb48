"""The editorial roles: which permissions each group holds, derived from the installed apps.

The permission lists are computed, not typed in, so a model added to one of the registry's own apps (any app
whose code lives in this project) joins the roles on the next ``migrate`` or ``manage.py sync_roles``:

- **Editors** create and change every record of the registry's apps (public records, claims, sources, the
  many-to-many links, reference tables, requests) and view their history; they delete nothing and do not
  manage users, groups or API tokens. A record they create is a draft.
- **Reviewers** have everything editors have, plus ``accounts.verify_record`` (publish and unpublish) and
  ``accounts.resolve_dispute`` (choose the value of a disputed field and say why).
- **Administrators** hold every permission there is: delete too, users, groups, API tokens, login lockouts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Model
from pghistory.models import Event

from accounts.permissions import RESOLVE_DISPUTE, VERIFY_RECORD

EDITORS, REVIEWERS, ADMINISTRATORS = "Editors", "Reviewers", "Administrators"
# Actions an editor may take on a record of the registry's apps; "delete" is left to administrators.
EDITOR_ACTIONS = ("add", "change", "view")
# Third-party apps whose records editors read: the change history (pghistory's events and contexts).
HISTORY_APPS = ("pghistory",)


def registry_apps() -> list[AppConfig]:
    """The project's own apps (their code is in this repository, not in an installed package)."""
    base = Path(settings.BASE_DIR).resolve()
    found = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and "site-packages" not in path.parts:
            found.append(config)
    return found


def _codename(action: str, model: type[Model]) -> str:
    return f"{action}_{model._meta.model_name}"


def editor_permissions() -> set[str]:
    """``app_label.codename`` of every permission an editor holds."""
    perms: set[str] = set()
    for config in registry_apps():
        for model in config.get_models():
            label = model._meta.app_label
            # History is read-only (the event tables are append-only in the database too).
            wanted = ("view",) if issubclass(model, Event) else EDITOR_ACTIONS
            actions = [a for a in wanted if a in model._meta.default_permissions]
            perms.update(f"{label}.{_codename(action, model)}" for action in actions)
    for app_label in HISTORY_APPS:
        if apps.is_installed(app_label):
            for model in apps.get_app_config(app_label).get_models():
                if "view" in model._meta.default_permissions:
                    perms.add(f"{app_label}.{_codename('view', model)}")
    return perms


def reviewer_permissions() -> set[str]:
    return editor_permissions() | {VERIFY_RECORD, RESOLVE_DISPUTE}


def administrator_permissions() -> set[str]:
    """Every permission in the database."""
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: Callable[[], set[str]]


ROLES: tuple[Role, ...] = (
    Role(
        EDITORS,
        "Create and change records (partnerships, organisations, law, cases, sources, claims, links, reference "
        "tables, requests) and read their history. New records are drafts. No deleting, no publishing, no "
        "users, groups or API tokens.",
        editor_permissions,
    ),
    Role(
        REVIEWERS,
        "Everything editors do, plus verify records (publish and unpublish them) and resolve disputes between claims.",
        reviewer_permissions,
    ),
    Role(
        ADMINISTRATORS,
        "Everything: also delete records, manage users, groups, API tokens and login lockouts.",
        administrator_permissions,
    ),
)
ROLE_DESCRIPTIONS = {role.name: role.description for role in ROLES}


def role_names() -> Iterable[str]:
    return (role.name for role in ROLES)
