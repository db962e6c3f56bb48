"""Bulk imports: one ``ImportBatch`` per import run (dry or real), and the uploaded file of an admin dry run
kept until an editor applies it. No personal data: a batch holds the file's name, format and checksum, the row
counts, who ran it and when; the uploaded file holds public records only (the columns of the registry's own
export)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel workbook (XLSX)"
    JSON = "json", "JSON (an array of objects, or JSON Lines)"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    VALIDATED = "validated", "Dry run: every row valid, nothing written"
    APPLIED = "applied", "Applied: written"
    REJECTED = "rejected", "Rejected: nothing written"


class ImportBatchQuerySet(models.QuerySet["ImportBatch"]):
    def applicable(self) -> ImportBatchQuerySet:
        """Dry runs whose every row was valid and whose file is still kept: an editor may apply them."""
        return self.filter(dry_run=True, status=ImportStatus.VALIDATED, upload__isnull=False)


class ImportBatch(models.Model):
    """One run of an import, dry or real, from the admin or ``manage.py import_records``."""

    model = models.CharField(max_length=40, help_text='Kind of record imported, e.g. "partnership".')
    filename = models.CharField(max_length=255, help_text="Name of the imported file (its base name only).")
    format = models.CharField(max_length=8, choices=ImportFormat.choices, help_text="Format the file was read as.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes, in hexadecimal.")
    size = models.PositiveBigIntegerField(default=0, help_text="Size of the file in bytes.")
    dry_run = models.BooleanField(default=True, help_text="A dry run reports what would change and writes nothing.")
    status = models.CharField(
        max_length=16,
        choices=ImportStatus.choices,
        default=ImportStatus.RUNNING,
        help_text="Running, validated (dry run), applied, or rejected (nothing written).",
    )
    origin = models.CharField(
        max_length=200, blank=True, help_text='Where it ran: "import_records" (the command) or the admin address.'
    )
    rows_total = models.PositiveIntegerField(default=0, help_text="Rows read from the file.")
    rows_created = models.PositiveIntegerField(default=0, help_text="Rows that create (or would create) a record.")
    rows_updated = models.PositiveIntegerField(default=0, help_text="Rows that change (or would change) a record.")
    rows_unchanged = models.PositiveIntegerField(default=0, help_text="Rows equal to the stored record: skipped.")
    rows_rejected = models.PositiveIntegerField(default=0, help_text="Rows refused, with the reasons in the report.")
    problems = models.JSONField(
        default=list, blank=True, help_text="Problems with the file as a whole (encoding, header, format), if any."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Editor who ran the import (empty for a command run without --user).",
    )
    applied_batch = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dry_run_batch",
        help_text="For a dry run that was applied: the batch of the real run.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the import ran.")

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=ImportFormat.values),
                name="imports_importbatch_format_valid",
                violation_error_message="Unknown import format.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values),
                name="imports_importbatch_status_valid",
                violation_error_message="Unknown import status.",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="imports_importbatch_sha256_hex",
                violation_error_message="The checksum must be 64 lowercase hexadecimal digits.",
            ),
            models.CheckConstraint(
                condition=~Q(status=ImportStatus.APPLIED) | Q(dry_run=False),
                name="imports_importbatch_applied_not_dry",
                violation_error_message="A dry run cannot be applied: it writes nothing.",
            ),
            models.CheckConstraint(
                condition=~Q(status=ImportStatus.VALIDATED) | Q(dry_run=True),
                name="imports_importbatch_validated_is_dry",
                violation_error_message="Only a dry run ends as validated.",
            ),
        ]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "import"
        return f"{kind} #{self.pk} of {self.filename} ({self.model}, {self.get_status_display()})"


class ImportUpload(models.Model):
    """The bytes of a file an editor dry-ran in the admin, kept so that "Apply this import" re-validates and
    writes exactly that file (its SHA-256 is checked again). Deleted once applied, or after a day."""

    batch = models.OneToOneField(
        ImportBatch, on_delete=models.CASCADE, related_name="upload", help_text="The dry run of this file."
    )
    content = models.BinaryField(help_text="The file's bytes, as uploaded.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the file was uploaded.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload of batch #{self.batch_id}"
