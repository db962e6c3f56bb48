"""``manage.py load_shipped_data [--path P] [--dry-run]``: load the registry's shipped data.

Validates the whole file first and writes nothing if any record is wrong; then writes everything in one
transaction. Running it twice changes nothing the second time. ``--dry-run`` reports what would change and
rolls back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.shipped_data import ShippedDataError, shipped_data_load


class Command(BaseCommand):
    help = "Load the registry's shipped data (fixtures/registry.yaml): validate, then write in one transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=None,
            help="YAML file to load (default: settings.REGISTRY_DATA_PATH).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and report what would change, then roll everything back.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"] or Path(settings.REGISTRY_DATA_PATH)
        dry_run: bool = options["dry_run"]
        progress = sys.stderr if options["verbosity"] >= 1 else None
        try:
            report = shipped_data_load(path=path, stdout=progress, dry_run=dry_run)
        except ShippedDataError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(
                self.style.WARNING(f"Dry run: {report.changed} record(s) would change; nothing was written.")
            )
        elif report.changed:
            self.stdout.write(self.style.SUCCESS(f"Loaded {path}: {report.changed} record(s) created or updated."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Loaded {path}: already up to date, nothing changed."))
