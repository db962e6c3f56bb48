"""Bulk import and export of records: one core for the admin and the commands.

``import_run`` reads a file (CSV, XLSX, JSON), checks every row and reports per row: created, updated (with the
fields that change), unchanged (skipped) or rejected (with each reason: the column and what is wrong). It writes
all or nothing: the rows are written inside a savepoint, which is rolled back on a dry run or when any row is
rejected, so a dry run checks exactly what a real run would (database constraints included) and writes no row
and no history event. Rows equal to the stored record are not saved at all, so importing the same file twice
changes nothing the second time. Every write happens inside ``pghistory.context(import_id=<batch id>, ...)``:
each history event names the import that made it.

``records_export`` writes the same columns in CSV (formula-neutralised), XLSX (neutralised too: Excel evaluates
formulas) or JSON (an array, or JSON Lines); an export re-imports as all "unchanged".
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import pghistory
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction

from accounts.permissions import PUBLISH_REFUSED, can_publish
from imports.formats import FileProblem, ParsedFile, RawRecord, detect_format, max_file_bytes, parse, text_stream
from imports.formats import write_xlsx as _write_xlsx
from imports.models import ImportBatch, ImportFormat, ImportStatus
from imports.specs import CellError, Lookup, ModelSpec, build_lookup, export_rows, parse_scalar, spec_for, split_many
from provenance.models import PublicRecord
from provenance.services import m2m_set, record_verification_refresh

logger = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
# Field checks (required, length, choices, format) run in Python; uniqueness and the check constraints are left to
# the database, which enforces them anyway (a violation is reported with the constraint's own message,
# ``_database_message``): checking each constraint in Python first took one query per constraint per row.
CLEAN = {"validate_unique": False, "validate_constraints": False}
Progress = Callable[[Sequence[RawRecord]], Iterable[RawRecord]]


class _RollBack(Exception):
    """Leaves the savepoint of the rows without writing them (dry run, or a rejected row)."""


@dataclass
class RowReport:
    number: int
    location: str
    slug: str
    action: str
    changed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message); "" = the row as a whole

    def describe(self) -> str:
        head = f"{self.location} ({self.slug or 'no slug'}): {self.action}"
        if self.changed:
            head += " - " + ", ".join(self.changed)
        if self.errors:
            head += " - " + "; ".join(f"{column}: {message}" if column else message for column, message in self.errors)
        return head


@dataclass
class ImportReport:
    model: str
    filename: str
    format: str
    sha256: str
    size: int
    dry_run: bool
    batch_id: int | None = None
    problems: list[str] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count(CREATED)

    @property
    def updated(self) -> int:
        return self.count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(REJECTED)

    @property
    def ok(self) -> bool:
        """No problem with the file and no rejected row: a dry run that may be applied."""
        return not self.problems and not self.rejected

    @property
    def status(self) -> str:
        if not self.ok:
            return ImportStatus.REJECTED
        return ImportStatus.VALIDATED if self.dry_run else ImportStatus.APPLIED

    @property
    def changes(self) -> list[RowReport]:
        """The rows worth reading: created, updated and rejected."""
        return [row for row in self.rows if row.action != UNCHANGED]

    def summary(self) -> str:
        if self.problems:
            return f"{self.filename}: rejected, nothing written. " + " ".join(self.problems)
        counts = (
            f"{len(self.rows)} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )
        if self.rejected:
            return f"{self.filename}: {counts}. Rejected rows: nothing written."
        if self.dry_run:
            return f"{self.filename}: {counts} (dry run: nothing written)."
        if not self.created and not self.updated:
            return f"{self.filename}: {counts}. Nothing to write."
        return f"{self.filename}: {counts}. Written."


# --- Import ----------------------------------------------------------------------------------------------------


def read_upload(file: bytes | IO[bytes]) -> bytes:
    """The bytes of a file, reading at most one byte past the size limit (the rest is never needed)."""
    if isinstance(file, bytes | bytearray | memoryview):
        return bytes(file)
    limit = max_file_bytes()
    if hasattr(file, "chunks"):  # an uploaded file: read in chunks, stop past the limit
        pieces: list[bytes] = []
        size = 0
        for chunk in file.chunks():
            pieces.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        return b"".join(pieces)
    return file.read(limit + 1)


def import_run(
    *,
    file: bytes | IO[bytes],
    filename: str,
    model: str,
    dry_run: bool,
    editor: Any = None,
    format: str | None = None,
    origin: str = "import_records",
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``file`` as records of kind ``model`` (see ``imports.specs.SPECS``) and return the report.

    ``origin`` is the command name or the admin address, stored on the batch and in the history context.
    ``editor`` (None: a command run by the server's operator) must hold ``accounts.verify_record`` to publish or
    unpublish a record; without it such a row is rejected, as in the admin and the API.
    Raises only ``ValueError`` for an unknown ``model`` (a programming error); every problem with the file or its
    rows is in the report."""
    spec = spec_for(model)
    content = read_upload(file)
    name = os.path.basename(filename or "upload")[:255] or "upload"
    report = ImportReport(
        model=spec.key,
        filename=name,
        format=format or "",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        dry_run=dry_run,
    )
    parsed: ParsedFile | None = None
    try:
        report.format = detect_format(filename=name, content=content, requested=format)
        parsed = parse(content=content, kind=report.format)
        _check_columns(spec, parsed.columns)
    except FileProblem as problem:
        report.problems.append(problem.message)
    if report.format not in ImportFormat.values:
        report.format = ImportFormat.CSV
    batch = ImportBatch.objects.create(
        model=spec.key,
        filename=name,
        format=report.format,
        sha256=report.sha256,
        size=report.size,
        dry_run=dry_run,
        origin=origin[:200],
        created_by=editor if getattr(editor, "pk", None) is not None else None,
    )
    report.batch_id = batch.pk
    if parsed is not None and not report.problems:
        records = parsed.records
        rows = progress(records) if progress else records
        context: dict[str, Any] = {"import_id": batch.pk}
        context["url" if origin.startswith("/") else "command"] = origin
        if getattr(editor, "pk", None) is not None:
            context["user"] = editor.pk
        try:
            with transaction.atomic(), pghistory.context(**context):
                report.rows = _import_rows(spec, parsed, rows, may_publish=editor is None or can_publish(editor))
                if dry_run or not report.ok:
                    raise _RollBack
                report.written = True
        except _RollBack:
            pass
        except DatabaseError as error:  # a lookup refused by the database: the file, not a row, is at fault
            logger.warning("import lookups failed", extra={"import_model": spec.key, "error": type(error).__name__})
            detail = (str(error).splitlines() or [type(error).__name__])[0]
            report.problems.append(f"The database refused a value of the file: {detail}")
            report.written = False
    batch.status = report.status
    batch.rows_total = len(report.rows)
    batch.rows_created = report.created
    batch.rows_updated = report.updated
    batch.rows_unchanged = report.unchanged
    batch.rows_rejected = report.rejected
    batch.problems = report.problems
    batch.save()
    return report


def _check_columns(spec: ModelSpec, columns: Sequence[str]) -> None:
    unknown = [name for name in columns if name not in spec.known_columns]
    if len(columns) == 1 and unknown and any(mark in columns[0] for mark in (";", "\t", "|")):
        separator = next(mark for mark in (";", "\t", "|") if mark in columns[0])
        raise FileProblem(
            f"The header is a single column {columns[0][:80]!r}: the file seems to separate columns with "
            f"{separator!r}. Save it as comma-separated CSV (UTF-8)."
        )
    if unknown and len(unknown) == len(columns):
        raise FileProblem(
            "The first row must be a header naming the columns (slug, "
            + ", ".join(spec.columns[1:4])
            + ", ...); none of its cells is a column name."
        )
    if unknown:
        raise FileProblem(
            f"Unknown column(s) for {spec.label}: {', '.join(repr(n) for n in unknown)}. "
            f"The columns are: {', '.join(spec.export_columns)}."
        )
    if "slug" not in columns:
        raise FileProblem("The column 'slug' is missing: every row is matched to a record by its slug.")


def _queryable(text: str) -> bool:
    """Whether a slug or name may be looked up (PostgreSQL refuses text with a NUL byte; no key is longer)."""
    return "\x00" not in text and len(text) <= 500


def _lookups(spec: ModelSpec, parsed: ParsedFile) -> dict[str, Lookup]:
    lookups: dict[str, Lookup] = {}
    for name in parsed.columns:
        if name not in spec.columns or spec.kind(name) not in ("one", "many"):
            continue
        refs: list[str] = []
        for record in parsed.records:
            raw = record.cells.get(name)
            refs.extend(split_many(raw) if spec.kind(name) == "many" else [str(raw).strip()] if raw else [])
        lookups[name] = build_lookup(spec.field(name).related_model, [ref for ref in refs if _queryable(ref)])
    return lookups


def _existing(spec: ModelSpec, parsed: ParsedFile) -> dict[str, models.Model]:
    slugs = {str(record.cells.get("slug") or "").strip() for record in parsed.records} - {""}
    slugs = {slug for slug in slugs if _queryable(slug)}
    many = [name for name in parsed.columns if name in spec.columns and spec.kind(name) == "many"]
    queryset = spec.model._default_manager.filter(slug__in=slugs)
    if many:
        prefetches = [models.Prefetch(n, queryset=spec.field(n).related_model.objects.only("pk")) for n in many]
        queryset = queryset.prefetch_related(*prefetches)
    return {obj.slug: obj for obj in queryset}  # type: ignore[attr-defined]


def _import_rows(
    spec: ModelSpec, parsed: ParsedFile, rows: Iterable[RawRecord], *, may_publish: bool
) -> list[RowReport]:
    lookups = _lookups(spec, parsed)
    existing = _existing(spec, parsed)
    columns = [name for name in parsed.columns if name in spec.columns]
    seen: dict[str, str] = {}
    reports: list[RowReport] = []
    for record in rows:
        slug = str(record.cells.get("slug") or "").strip()
        row = RowReport(number=record.number, location=record.location, slug=slug, action=REJECTED)
        reports.append(row)
        row.errors.extend(record.problems)
        if not slug:
            row.errors.append(("slug", "is required: it identifies the record"))
        elif slug in seen:
            row.errors.append(("slug", f"appears twice in the file (first at {seen[slug]})"))
        else:
            seen[slug] = record.location
        values, links = _row_values(spec, columns, record, lookups, row)
        if not may_publish and "is_published" in values:
            stored = existing.get(slug)
            if values["is_published"] != (stored.is_published if stored else False):  # type: ignore[attr-defined]
                row.errors.append(("is_published", PUBLISH_REFUSED))
        if row.errors:
            continue
        try:
            with transaction.atomic():
                _write_row(spec, existing.get(slug), slug, values, links, row)
        except ValidationError as error:
            row.action = REJECTED
            row.changed = []
            row.errors.extend(_validation_messages(error))
        except DatabaseError as error:
            row.action = REJECTED
            row.changed = []
            row.errors.append(_database_message(spec, error))
        except Exception:  # never a 500 for one bad row: report it, write nothing
            logger.exception("import row failed", extra={"import_model": spec.key, "row": record.number})
            row.action = REJECTED
            row.changed = []
            row.errors.append(("", "could not be imported (unexpected error; the log has the details)"))
    return reports


def _row_values(
    spec: ModelSpec, columns: Sequence[str], record: RawRecord, lookups: dict[str, Lookup], row: RowReport
) -> tuple[dict[str, Any], dict[str, list[models.Model]]]:
    values: dict[str, Any] = {}
    links: dict[str, list[models.Model]] = {}
    failed = {column for column, _ in row.errors}
    for name in columns:
        if name in failed or name not in record.cells:
            continue  # a key a JSON object leaves out (or a short CSV row) keeps the stored value
        raw = record.cells[name]
        kind = spec.kind(name)
        try:
            if kind == "many":
                links[name] = [lookups[name].find(ref) for ref in split_many(raw)]
            elif kind == "one":
                text = "" if raw is None else str(raw).strip()
                values[name] = lookups[name].find(text) if text else None
            else:
                values[name] = parse_scalar(kind, raw, spec.field(name))
        except CellError as error:
            row.errors.append((name, str(error)))
    return values, links


def _same(obj: models.Model, spec: ModelSpec, name: str, value: Any) -> bool:
    if spec.kind(name) == "one":
        return getattr(obj, f"{name}_id") == (value.pk if value is not None else None)
    return bool(getattr(obj, name) == value)


def _write_row(
    spec: ModelSpec,
    obj: models.Model | None,
    slug: str,
    values: dict[str, Any],
    links: dict[str, list[models.Model]],
    row: RowReport,
) -> None:
    if obj is None:
        obj = spec.model(**{**values, "slug": slug})
        obj.full_clean(exclude=_looked_up(spec, values), **CLEAN)
        obj.save()
        for name, targets in links.items():
            if targets:  # a new record links nothing yet: add, without reading the links first
                getattr(obj, name).add(*targets)
        if isinstance(obj, PublicRecord):
            record_verification_refresh(record=obj)
        row.action = CREATED
        return
    changed = [name for name, value in values.items() if name != "slug" and not _same(obj, spec, name, value)]
    changed_links = [
        name
        for name, targets in links.items()
        if {t.pk for t in targets} != {t.pk for t in getattr(obj, name).all()}  # prefetched
    ]
    if not changed and not changed_links:
        row.action = UNCHANGED
        return
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.full_clean(exclude=_looked_up(spec, values), **CLEAN)
        has_updated_at = any(f.name == "updated_at" for f in spec.model._meta.concrete_fields)
        obj.save(update_fields=[*changed, *(["updated_at"] if has_updated_at else [])])
    for name in changed_links:
        m2m_set(obj=obj, field=name, targets=links[name])
    if isinstance(obj, PublicRecord) and "sources" in changed_links:
        record_verification_refresh(record=obj)
    row.action = UPDATED
    row.changed = [*changed, *changed_links]


def _looked_up(spec: ModelSpec, values: dict[str, Any]) -> list[str]:
    """Foreign keys the import found itself: full_clean need not query them again (an empty one is checked)."""
    return [name for name, value in values.items() if value is not None and spec.kind(name) == "one"]


def _database_message(spec: ModelSpec, error: DatabaseError) -> tuple[str, str]:
    """A constraint the database enforced, in the model's own words (its violation_error_message)."""
    cause = error.__cause__
    name = getattr(getattr(cause, "diag", None), "constraint_name", None) or ""
    for constraint in spec.model._meta.constraints:
        if constraint.name == name:
            fields: Sequence[str] = getattr(constraint, "fields", None) or []
            return (fields[0] if len(fields) == 1 else "", str(constraint.get_violation_error_message()))
    for model_field in spec.model._meta.concrete_fields:
        if model_field.unique and name.endswith(f"_{model_field.column}_key"):
            return (model_field.name, f"another {spec.model._meta.verbose_name} already has this {model_field.name}")
    message = str(cause or error).splitlines()[0] if str(cause or error) else type(error).__name__
    return ("", f"the database refused the row: {message}")


def _validation_messages(error: ValidationError) -> list[tuple[str, str]]:
    if not hasattr(error, "error_dict"):
        return [("", message) for message in error.messages]
    result: list[tuple[str, str]] = []
    for name, messages in error.message_dict.items():
        for message in messages:
            result.append(("" if name == NON_FIELD_ERRORS else name, message))
    return result


# --- Export ----------------------------------------------------------------------------------------------------

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8; header=present",
    "json": "application/json; charset=utf-8",
    "ndjson": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILE_EXTENSIONS = {"csv": "csv", "json": "json", "ndjson": "jsonl", "xlsx": "xlsx"}


def records_export(
    *,
    model: str,
    format: str,
    output: IO[bytes],
    queryset: models.QuerySet[Any] | None = None,
    progress: Callable[[Iterable[tuple[Any, ...]]], Iterable[tuple[Any, ...]]] | None = None,
) -> int:
    """Write every record of ``queryset`` (default: all, published and draft) to ``output`` in ``format`` (csv,
    xlsx, json or ndjson) with the import's columns; returns the number of rows. No personal data: the columns
    are the records' own fields and related slugs."""
    spec = spec_for(model)
    if format not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {format!r}: use one of {', '.join(CONTENT_TYPES)}.")
    queryset = spec.model._default_manager.all() if queryset is None else queryset
    count = 0

    def counted() -> Iterable[tuple[Any, ...]]:
        nonlocal count
        rows: Iterable[tuple[Any, ...]] = export_rows(spec, queryset)
        for row in progress(rows) if progress else rows:
            count += 1
            yield row

    with transaction.atomic():  # one snapshot, and a streaming cursor
        if format == "xlsx":
            _write_xlsx(spec.export_columns, counted(), output, title=spec.label)
        else:
            for piece in text_stream(format, spec.export_columns, counted()):
                output.write(piece.encode("utf-8"))
    return count


def export_stream(*, model: str, format: str, queryset: models.QuerySet[Any]) -> Iterable[str]:
    """The text export (csv, json, ndjson) as pieces, for a streamed response."""
    spec = spec_for(model)

    def pieces() -> Iterable[str]:
        with transaction.atomic():
            yield from text_stream(format, spec.export_columns, export_rows(spec, queryset))

    return pieces()
