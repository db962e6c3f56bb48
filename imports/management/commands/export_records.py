"""``manage.py export_records --model partnership --format xlsx --output f``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from imports.formats import EXPORT_FORMATS
from imports.services import records_export
from imports.specs import SPECS, spec_for


class Command(BaseCommand):
    help = (
        "Export every record of one kind, published and draft, in the columns import_records reads: CSV (UTF-8, "
        "formula-neutralised), XLSX (neutralised too), JSON (an array) or ndjson (JSON Lines). Related records are "
        "named by slug, many joined with '; '. No personal data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, choices=sorted(SPECS), help="Kind of record to export.")
        parser.add_argument("--format", default="csv", choices=EXPORT_FORMATS, help="File format (default csv).")
        parser.add_argument("--output", "-o", required=True, help="File to write ('-' for standard output).")
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        spec = spec_for(options["model"])
        to_stdout = options["output"] == "-"
        if to_stdout and options["format"] == "xlsx":
            raise CommandError("An XLSX workbook needs a file: give --output FILE.")
        show = not options["no_progress"] and options["verbosity"] > 0 and not to_stdout
        total = spec.model._default_manager.count() if show else None

        def progress(rows: Any) -> Any:
            return tqdm(rows, total=total, desc=spec.key, unit="row", disable=not show, file=self.stderr)

        if to_stdout:
            count = records_export(model=spec.key, format=options["format"], output=sys.stdout.buffer, progress=None)
            return
        path = Path(options["output"])
        try:
            with path.open("wb") as output:
                count = records_export(model=spec.key, format=options["format"], output=output, progress=progress)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"Exported {count:,} {spec.label} to {path}."))
