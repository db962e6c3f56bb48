"""``manage.py backup [--output PATH]``: pg_dump archive, manifest and checksum file (see registry/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backup import BackupError, database_backup, default_backup_path


class Command(BaseCommand):
    help = (
        "Back up the registry's database: a pg_dump archive (custom format) of the default database, a manifest "
        "with every table's row count and content checksum taken in the same snapshot as the dump, and a "
        "sha256sum-compatible checksum file for both. Never overwrites a file. Restore with `manage.py restore`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="Archive to write (default: backups/registry-<UTC timestamp>.dump in the project folder); "
            "<output>.sha256 and <output>.manifest.json are written next to it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"] or default_backup_path(directory=Path(settings.BASE_DIR) / "backups")
        progress = self.stdout.write if options["verbosity"] > 0 else None
        try:
            database_backup(output=output, progress=progress)
        except BackupError as error:
            raise CommandError(str(error)) from error
