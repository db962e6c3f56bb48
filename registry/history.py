"""History helpers: every public model is tracked by django-pghistory database triggers.

Plain models use ``@pghistory.track()`` (insert, update and delete events, see PGHISTORY_DEFAULT_TRACKERS).
Many-to-many links live in Django's auto-created through tables; ``track_m2m`` gives them add/remove events.
Commands that write run inside ``command_context`` so every event says which command made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pghistory
from django.db import models


def track_changes(**kwargs: Any) -> Any:
    """Decorator: snapshot the row on every insert, update (when a field changed) and delete."""
    return pghistory.track(
        pghistory.InsertEvent(),
        # An update event only when a real field changed: a save() that only touches updated_at records nothing.
        pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
        pghistory.DeleteEvent(),
        **kwargs,
    )


def track_m2m(field: Any) -> None:
    """Record additions to and removals from a many-to-many relation.

    Django keeps no migration state for auto-created through tables, so triggers cannot hang on them
    directly; pghistory's documented pattern tracks a proxy of the through model instead."""
    through: type[models.Model] = field.remote_field.through
    owner = field.model
    name = f"{owner.__name__}{field.name.title().replace('_', '')}"
    meta = type("Meta", (), {"proxy": True, "app_label": owner._meta.app_label})
    proxy = type(f"{name}Link", (through,), {"__module__": owner.__module__, "Meta": meta})
    pghistory.track(
        pghistory.InsertEvent("add"),
        pghistory.DeleteEvent("remove"),
        obj_field=None,  # the link row itself has no lasting identity; its two ends are kept
        app_label=owner._meta.app_label,
        model_name=f"{name}Event",
    )(proxy)


@contextmanager
def command_context(name: str, **extra: Any) -> Iterator[None]:
    """Attach the command's name (never its arguments' personal data) to every event it causes."""
    with pghistory.context(command=name, **extra):
        yield
