"""``manage.py import_records <file> --model partnership [--dry-run] [--format csv|xlsx|json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from imports.formats import FORMATS, max_file_bytes
from imports.services import UNCHANGED, import_run
from imports.specs import SPECS


class Command(BaseCommand):
    help = (
        "Import records from a CSV, XLSX or JSON file (an array of objects or JSON Lines) with the columns "
        "export_records writes. Rows are matched to records by slug; related records are named by slug. "
        "All or nothing: one rejected row and nothing is written. --dry-run reports what would change and writes "
        "nothing. Exits with status 1 when the file or a row is rejected. -v 2 lists every created, updated and "
        "rejected row."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The file to import.")
        parser.add_argument("--model", required=True, choices=sorted(SPECS), help="Kind of record in the file.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--format", choices=FORMATS, help="File format (default: from the file name).")
        parser.add_argument("--user", help="Username of the editor the history should name.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > max_file_bytes():
            raise CommandError(
                f"{path.name} is {path.stat().st_size:,} bytes; the limit is {max_file_bytes():,} "
                "(IMPORTS_MAX_FILE_BYTES). Split it into smaller files."
            )
        editor = None
        if options["user"]:
            editor = get_user_model()._default_manager.filter(username=options["user"]).first()
            if editor is None:
                raise CommandError(f"No user {options['user']!r}.")
        show = not options["no_progress"] and options["verbosity"] > 0

        def progress(records: Any) -> Any:
            return tqdm(records, total=len(records), desc="rows", unit="row", disable=not show, file=self.stderr)

        with path.open("rb") as file:
            report = import_run(
                file=file,
                filename=path.name,
                model=options["model"],
                dry_run=options["dry_run"],
                editor=editor,
                format=options["format"],
                origin="import_records",
                progress=progress,
            )
        if options["verbosity"] > 1:
            for row in report.rows:
                if row.action != UNCHANGED:
                    self.stdout.write(row.describe())
        if not report.ok:
            if options["verbosity"] < 2:  # -v 2 listed them above
                for row in [r for r in report.rows if r.errors][:20]:
                    self.stderr.write(row.describe())
            raise CommandError(f"{report.summary()} (batch #{report.batch_id})", returncode=1)
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"{report.summary()} (batch #{report.batch_id})"))
