"""``manage.py purge_requesters [--days N] [--dry-run]``: erase the contact details and words of the senders of
requests closed more than ``INQUIRY_RETENTION_DAYS`` (default 90) days ago. Run it daily (cron or a systemd
timer; README "Information requests"). Prints counts only, never personal data. Two statements in one
transaction, whatever the number of rows: no progress bar needed."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from inquiries.services import requesters_purge
from registry.history import command_context


class Command(BaseCommand):
    help = "Erase requesters' contact details and words once their requests have been closed for the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days after closing (default: INQUIRY_RETENTION_DAYS, "
            f"now {settings.INQUIRY_RETENTION_DAYS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be erased; erase nothing.")

    def handle(self, *args: Any, days: int | None, dry_run: bool, **options: Any) -> None:
        days = settings.INQUIRY_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        with command_context("purge_requesters", days=days):
            erasure = requesters_purge(closed_before=cutoff, dry_run=dry_run)
        verb = "Would erase" if dry_run else "Erased"
        self.stdout.write(
            f"{verb} {erasure.requesters} requester record(s) and the words of {erasure.requests} request(s) "
            f"closed before {cutoff:%Y-%m-%d %H:%M} UTC ({days} days)."
        )
