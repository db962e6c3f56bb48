"""``manage.py restore ARCHIVE [--database-url URL] [--verify-only]`` (see registry/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backup import BackupError, database_archive_readable, database_archive_verify, database_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an EMPTY database: checks the archive and manifest "
        "against their SHA-256 checksum file first (a corrupted or truncated archive is refused), refuses a "
        "database that already has tables, runs pg_restore in a single transaction (all or nothing), then "
        "compares every table's row count and checksum with the manifest and fails on any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The .dump file (its .sha256 and .manifest.json next to it).")
        parser.add_argument(
            "--database-url",
            default=None,
            help="Restore into this database (postgres://user@host:5432/name; it must exist and be empty) "
            "instead of the default one. A password in it is passed to pg_restore in PGPASSWORD.",
        )
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="Only check the checksums and that pg_restore can read the archive; restore nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        progress = self.stdout.write if options["verbosity"] > 0 else None
        try:
            if options["verify_only"]:
                info = database_archive_verify(archive=options["archive"], progress=progress)
                database_archive_readable(info=info, progress=progress)
                return
            database_restore(archive=options["archive"], database_url=options["database_url"], progress=progress)
        except BackupError as error:
            raise CommandError(str(error)) from error
