"""The registry's data version: one value that every edit changes, read in one query of index lookups.

Every model the public sees is tracked by django-pghistory triggers (``registry/history.py``): each insert,
update and delete, link and unlink writes a row into its event table, whose ``pgh_id`` comes from a sequence.
The newest ``pgh_id`` of every event table therefore names the state of the public data. Responses cached
under a key that includes this version are correct as long as the version is read *before* the data: a write
that commits in between moves the version, so the next request looks under a new key (an edit is visible on
the next request), and the entry written meanwhile is at worst newer than its key.

One case is not covered: a transaction that took its event ids earlier but commits after a later one (the
newest id does not move when it commits). Cached entries therefore also expire (``cache_seconds``), so such a
rare, concurrent edit shows within that time at the latest; any later edit shows it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import pghistory.models
from django.apps import apps

from registry.db_router import connection_for_reads


@dataclass(frozen=True)
class DataVersion:
    """``token`` changes with every edit; ``changed_at`` is the time of the newest edit (None: no data yet)."""

    token: str
    changed_at: datetime | None


@cache
def event_tables() -> tuple[str, ...]:
    """The tables of every history event model, sorted (they do not change while the process runs)."""
    return tuple(
        sorted(
            model._meta.db_table
            for model in apps.get_models()
            if issubclass(model, pghistory.models.Event) and not model._meta.proxy
        )
    )


def version_function_sql(tables: list[str]) -> str:
    """The ``registry_data_version()`` function over ``tables`` (used by the registry's migrations): for each
    event table, the id and time of its newest event (an index lookup each), folded into one token and the newest
    time. PL/pgSQL prepares the statement's plan once per connection."""
    lookups = "\n      UNION ALL ".join(
        f'(SELECT {index} AS n, pgh_id AS id, pgh_created_at AS at FROM "{table}" ORDER BY pgh_id DESC LIMIT 1)'
        for index, table in enumerate(tables)
    )
    return f"""
CREATE OR REPLACE FUNCTION registry_data_version(OUT token text, OUT changed_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT md5(coalesce(string_agg(v.n || ':' || v.id, ',' ORDER BY v.n), '')), max(v.at)
    INTO token, changed_at
    FROM ({lookups}) AS v;
END
$$"""


def data_version() -> DataVersion:
    """The current version of the public data (one query), read where the public data is read (the replica when
    there is one: a version from the primary could name rows the replica has not replayed yet)."""
    with connection_for_reads().cursor() as cursor:
        cursor.execute("SELECT token, changed_at FROM registry_data_version()")
        token, changed_at = cursor.fetchone()
    return DataVersion(token=token, changed_at=changed_at)
