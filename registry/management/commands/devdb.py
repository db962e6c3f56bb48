"""``manage.py devdb start|stop|status``: the embedded development PostgreSQL server in ``.pgdata``.

Settings start the server on import when DATABASE_URL is unset; run ``stop`` and ``status`` with
``REGISTRY_NO_DEVDB=1`` (as ``make dbstop`` does) so that importing the settings does not start it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry import devdb


class Command(BaseCommand):
    help = "Start, stop or show the embedded development PostgreSQL server (data in .pgdata)."
    # Must work while the project is half-configured: no system checks, no database connection.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])
        parser.add_argument("--name", default="registry", help="database to create on start (default: registry)")

    def handle(self, *args: Any, **options: Any) -> None:
        pgdata = Path(settings.BASE_DIR) / ".pgdata"
        action: str = options["action"]
        uses_url = bool(os.environ.get("DATABASE_URL"))
        try:
            if action == "start":
                config = devdb.database_config(pgdata, options["name"])
                self.stdout.write(
                    f"Embedded PostgreSQL running: database {config['NAME']!r}, "
                    f"socket directory {config['HOST']}, user {config['USER']}, data {pgdata}."
                )
                if uses_url:
                    self.stdout.write("Note: DATABASE_URL is set, so the project uses that database, not this one.")
            elif action == "stop":
                if devdb.stop(pgdata):
                    self.stdout.write(f"Stopped the embedded PostgreSQL server ({pgdata}).")
                else:
                    self.stdout.write(f"No embedded PostgreSQL server running ({pgdata}); nothing to stop.")
            else:
                self.stdout.write(f"Embedded PostgreSQL: {devdb.status(pgdata)}")
        except devdb.DevDatabaseError as exc:
            raise CommandError(str(exc)) from exc
