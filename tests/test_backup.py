"""``manage.py backup`` / ``manage.py restore``: a seeded registry survives the round trip table for table
(row counts and content checksums, history and django_migrations included); a damaged archive, a manifest
that does not match the data, and a database that is not empty are refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pghistory
import pghistory.models
import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from geography.models import Region
from partnerships.models import Partnership
from registry import backup
from registry.backup import (
    ArchiveCorruptedError,
    ClientProgram,
    ClientProgramNotFoundError,
    RestoreTargetNotEmptyError,
    RestoreVerificationError,
    database_backup,
    database_connection_params,
    database_restore,
    database_table_checksums,
    default_backup_path,
)
from tests import factories

# pg_dump reads the database from another process and sees only committed rows: tests that seed rows are
# transactional (committed, then flushed). The others back up what migrations committed to the test database.
pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)


# --------------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def seeded() -> dict[str, Any]:
    """A small registry with every kind of record, an editor with a token, and history events of inserts,
    updates and deletes recorded under a history context."""
    with pghistory.context(command="test_backup seed"):
        partnerships = factories.PartnershipFactory.create_batch(3)
        factories.ClaimFactory(partnership=partnerships[0], value="2001")
        factories.ClaimFactory(partnership=partnerships[0], value="2016")
        factories.MechanismAssessmentFactory(partnership=partnerships[1])
        case = factories.OverreachCaseFactory()
        case.partnerships.add(partnerships[2])
        factories.CaseQuoteFactory(case=case)
        factories.OversightBodyFactory().instruments.add(factories.LegalInstrumentFactory())
        factories.TokenFactory(user=factories.UserFactory(username="backup-editor", email="editor@registry.test"))
        partnerships[0].name = "Renamed partnership"
        partnerships[0].save()
        factories.RegionFactory(slug="short-lived").delete()
    return {"partnerships": partnerships}


def _connection_to(dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(make_conninfo(**{**database_connection_params(), "dbname": dbname}), autocommit=True)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty database on the test database's server; yields its connection string, drops it after."""
    source = database_connection_params()
    name = f"{source['dbname'][:40]}_restore_{uuid.uuid4().hex[:8]}"
    with _connection_to("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**{**source, "dbname": name})
    finally:
        with _connection_to("postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _tables_of(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def _row_counts(database_url: str, tables: list[str]) -> dict[str, int]:
    """count(*) per table, by plain SQL (independent of the module under test)."""
    counts: dict[str, int] = {}
    with psycopg.connect(database_url) as conn:
        for table in tables:
            schema, name = table.split(".")
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            ).fetchone()
            assert row is not None
            counts[table] = row[0]
    return counts


def _source_url() -> str:
    return make_conninfo(**database_connection_params())


def _event_tables() -> set[str]:
    return {
        f"public.{model._meta.db_table}"
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.proxy and model._meta.managed
    }


def _rewrite_checksum_line(archive: Path, file: Path) -> None:
    """Make the checksum file agree with an edited ``file`` (what a careless hand edit would do)."""
    checksum_file = archive.with_name(archive.name + ".sha256")
    lines = []
    for line in checksum_file.read_text().splitlines():
        digest, name = line.split("  ", 1)
        if name == file.name:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}")
    checksum_file.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------
# The round trip
# --------------------------------------------------------------------------------------------------


@committed
def test_round_trip_restores_every_table_row_for_row(seeded, tmp_path, empty_database) -> None:
    archive = tmp_path / "registry.dump"
    progress: list[str] = []

    result = database_backup(output=archive, progress=progress.append)
    source_checksums = database_table_checksums()
    restored = database_restore(archive=archive, database_url=empty_database, progress=progress.append)

    # Three files, readable by their owner only; the checksum file is what `sha256sum -c` reads.
    checksum_file = tmp_path / "registry.dump.sha256"
    manifest_file = tmp_path / "registry.dump.manifest.json"
    for path in (archive, checksum_file, manifest_file):
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
    expected_lines = {
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}" for path in (archive, manifest_file)
    }
    assert set(checksum_file.read_text().splitlines()) == expected_lines
    assert archive.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    # The manifest covers every table of the source, history and migrations included, with what is in them.
    manifest = json.loads(manifest_file.read_text())
    source_tables = _tables_of(_source_url())
    assert sorted(manifest["tables"]) == source_tables
    assert {"public.django_migrations", "public.pghistory_context", "public.auth_user"} <= set(source_tables)
    assert _event_tables() <= set(source_tables)
    source_counts = _row_counts(_source_url(), source_tables)
    assert {name: entry["rows"] for name, entry in manifest["tables"].items()} == source_counts
    assert source_counts["public.partnerships_partnership"] == 3
    assert source_counts["public.partnerships_partnershipevent"] >= 4  # three inserts and a rename
    assert source_counts["public.geography_regionevent"] > source_counts["public.geography_region"]  # a delete
    assert source_counts["public.pghistory_context"] == 1
    assert source_counts["public.django_migrations"] > 0
    assert result.tables == source_checksums
    assert int(manifest["pg_dump_version"].split(".")[0]) >= int(manifest["server_version"].split(".")[0])

    # The restored database holds the same tables, row counts and contents.
    assert _tables_of(empty_database) == source_tables
    assert _row_counts(empty_database, source_tables) == source_counts
    restored_checksums = database_table_checksums(database_url=empty_database)
    differing = sorted(name for name in source_checksums if source_checksums[name] != restored_checksums.get(name))
    assert differing == []
    assert restored_checksums == source_checksums == restored.tables
    with psycopg.connect(empty_database) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM partnerships_partnership ORDER BY id")]
        history = conn.execute(
            "SELECT pgh_label, name FROM partnerships_partnershipevent WHERE name = 'Renamed partnership'"
        ).fetchall()
    assert names == [p.name for p in Partnership.objects.order_by("id")]
    assert history == [("update", "Renamed partnership")]

    # The README's SQL gives the manifest's checksum, so an operator can check a table with psql.
    with psycopg.connect(empty_database) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table in ("partnerships_partnership", "partnerships_partnershipevent", "django_migrations"):
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(md5((t.*)::text) || E'\\n', '' ORDER BY {}), '')) "
                    "FROM {} AS t"
                ).format(sql.SQL("t.pgh_id" if table.endswith("event") else "t.id"), sql.Identifier(table))
            ).fetchone()
            assert row is not None
            assert manifest["tables"][f"public.{table}"] == {"rows": row[0], "md5": row[1]}

    # The operator saw each step, the tables checked and the sizes.
    text = "\n".join(progress)
    assert f"PostgreSQL {result.server_version}" in text
    assert "public.partnerships_partnershipevent:" in text
    assert "pg_dump finished:" in text
    assert f"All {len(source_tables)} tables match the manifest" in text


@committed
def test_manifest_and_dump_share_one_snapshot(tmp_path, empty_database) -> None:
    """A row written while the backup runs is in neither the dump nor the manifest, so they still agree."""
    archive = tmp_path / "registry.dump"

    def write_during_backup(line: str) -> None:
        if line.startswith("Snapshot "):  # exported; pg_dump has not started yet
            Region.objects.create(name="Written during the backup", slug="written-during-backup")

    result = database_backup(output=archive, progress=write_during_backup)
    database_restore(archive=archive, database_url=empty_database)

    assert Region.objects.filter(slug="written-during-backup").exists()
    assert (
        database_table_checksums()["public.geography_region"].rows == result.tables["public.geography_region"].rows + 1
    )
    with psycopg.connect(empty_database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM geography_region WHERE slug = 'written-during-backup'"
        ).fetchone() == (0,)


# --------------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------------


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_manifest(path: Path) -> None:
    manifest_file = path.with_name(path.name + ".manifest.json")
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["public.partnerships_partnership"]["rows"] += 1
    manifest_file.write_text(json.dumps(manifest))


def _remove_checksum_file(path: Path) -> None:
    path.with_name(path.name + ".sha256").unlink()


DAMAGES = {
    "a flipped byte": (_flip_a_byte, "registry.dump is corrupted or truncated"),
    "a truncated archive": (_truncate, "registry.dump is corrupted or truncated"),
    "an edited manifest": (_edit_manifest, "registry.dump.manifest.json is corrupted or truncated"),
    "no checksum file": (_remove_checksum_file, "The checksum file .* is missing"),
}


def test_damaged_backup_is_refused_and_nothing_is_written(tmp_path, empty_database) -> None:
    original = tmp_path / "original"
    original.mkdir()
    database_backup(output=original / "registry.dump")

    for what, (damage, message) in DAMAGES.items():
        copy = tmp_path / what.replace(" ", "-")
        shutil.copytree(original, copy)
        damage(copy / "registry.dump")
        with pytest.raises(ArchiveCorruptedError, match=message):
            database_restore(archive=copy / "registry.dump", database_url=empty_database)
        assert _tables_of(empty_database) == [], f"tables written after {what}"


def test_restore_command_exits_non_zero_on_a_corrupted_archive(tmp_path, empty_database) -> None:
    archive = tmp_path / "registry.dump"
    database_backup(output=archive)
    _truncate(archive)
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings_test"}
    if not environment.get("DATABASE_URL"):
        environment["REGISTRY_NO_DEVDB"] = "1"  # the command must not need (or start) the embedded server

    completed = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(archive), "--database-url", empty_database],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode != 0
    assert "registry.dump is corrupted or truncated" in completed.stderr
    assert "Nothing was restored" in completed.stderr
    assert _tables_of(empty_database) == []


def test_restore_into_a_database_with_tables_is_refused(tmp_path) -> None:
    archive = tmp_path / "registry.dump"
    database_backup(output=archive)
    before = database_table_checksums()

    with pytest.raises(RestoreTargetNotEmptyError, match=r"already has \d+ tables \(public\.auth_group"):
        database_restore(archive=archive)  # the default database: the one just backed up
    out = StringIO()
    with pytest.raises(CommandError, match="Refusing to restore into database"):
        call_command("restore", str(archive), stdout=out)

    assert database_table_checksums() == before


def test_restore_fails_loudly_when_the_data_does_not_match_the_manifest(tmp_path, empty_database) -> None:
    """A manifest edited together with its checksum line passes the checksum check; the data check catches it."""
    archive = tmp_path / "registry.dump"
    result = database_backup(output=archive)
    migrations = result.tables["public.django_migrations"].rows
    manifest_file = tmp_path / "registry.dump.manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["public.django_migrations"]["md5"] = "0" * 32
    manifest["tables"]["public.provenance_claim"]["rows"] = 99
    manifest_file.write_text(json.dumps(manifest))
    _rewrite_checksum_line(archive, manifest_file)

    with pytest.raises(RestoreVerificationError) as failure:
        database_restore(archive=archive, database_url=empty_database)

    assert "does NOT match the backup's manifest (2 differences)" in str(failure.value)
    assert f"public.django_migrations: same row count ({migrations}) but different content" in str(failure.value)
    assert "public.provenance_claim: 0 rows, the manifest says 99" in str(failure.value)


def test_backup_never_overwrites(tmp_path) -> None:
    archive = tmp_path / "registry.dump"
    database_backup(output=archive)
    first = archive.read_bytes()

    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", "--output", str(archive), stdout=StringIO())

    assert archive.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "registry.dump",
        "registry.dump.manifest.json",
        "registry.dump.sha256",
    ]


# --------------------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------------------


def test_commands_show_progress_and_verify_only_restores_nothing(tmp_path, empty_database) -> None:
    archive = tmp_path / "nested" / "registry.dump"
    out = StringIO()
    call_command("backup", "--output", str(archive), stdout=out)
    backup_output = out.getvalue()

    out = StringIO()
    call_command("restore", str(archive), "--verify-only", "--database-url", empty_database, stdout=out)
    verify_output = out.getvalue()

    assert "Backing up database" in backup_output
    assert "public.django_migrations:" in backup_output
    assert "Backup written:" in backup_output
    assert " KB)" in backup_output
    assert (tmp_path / "nested").stat().st_mode & 0o077 == 0
    assert "Checksums match: registry.dump" in verify_output
    assert "reads the archive:" in verify_output
    assert _tables_of(empty_database) == []


def test_default_backup_path_is_timestamped_in_utc() -> None:
    import datetime as dt

    moment = dt.datetime(2025, 3, 1, 14, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert default_backup_path(directory=Path("backups"), now=moment) == Path("backups/registry-20250301T120509Z.dump")


def test_password_goes_to_the_client_programs_in_the_environment_only(tmp_path, monkeypatch) -> None:
    params = database_connection_params()
    # A server with trust authentication ignores the password; one with a password needs the real one.
    password = params.get("password") or "not-on-any-command-line-42"
    launched: list[tuple[list[str], dict[str, str]]] = []
    real_popen = subprocess.Popen

    def spy(args: list[str], **kwargs: Any) -> Any:
        launched.append((list(args), dict(kwargs.get("env") or {})))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "Popen", spy)
    database_backup(output=tmp_path / "registry.dump", database_url=make_conninfo(**{**params, "password": password}))

    [(args, environment)] = [call for call in launched if "--format=custom" in call[0]]
    assert not any(password in arg for arg in args)
    assert environment["PGPASSWORD"] == password


# --------------------------------------------------------------------------------------------------
# Choosing pg_dump and pg_restore
# --------------------------------------------------------------------------------------------------


def _installed(monkeypatch, *versions: str) -> None:
    programs = [ClientProgram(path=Path(f"/opt/pg{v}/bin/pg_dump"), version=v) for v in versions]
    monkeypatch.setattr(backup, "postgres_programs", lambda name: programs)


@pytest.mark.parametrize(
    ("installed", "minimum", "server", "chosen"),
    [
        (("18.6", "15.20", "16.1"), 15, 15, "15.20"),  # the server's own version
        (("18.6", "16.1"), 15, 15, "16.1"),  # pg_dump: the closest newer one
        (("18.6", "15.20"), 15, 17, "15.20"),  # pg_restore into a newer server: the newest older one
        (("18.6",), 15, 15, "18.6"),  # only a newer one
    ],
)
def test_client_program_matches_the_server(monkeypatch, installed, minimum, server, chosen) -> None:
    _installed(monkeypatch, *installed)
    assert backup.client_program(name="pg_dump", minimum_major=minimum, server_major=server).version == chosen


def test_no_client_program_new_enough_is_a_clear_error(monkeypatch) -> None:
    _installed(monkeypatch, "14.9", "13.2")
    with pytest.raises(
        ClientProgramNotFoundError, match=r"No pg_dump of PostgreSQL 15 or newer .*postgresql-client-15"
    ):
        backup.client_program(name="pg_dump", minimum_major=15, server_major=15)


def test_backup_picks_a_pg_dump_at_least_as_new_as_the_server(tmp_path) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000

    result = database_backup(output=tmp_path / "registry.dump")

    assert result.pg_dump.major >= server_major
    installed = {program.major for program in backup.postgres_programs("pg_dump")}
    if server_major in installed:
        assert result.pg_dump.major == server_major
