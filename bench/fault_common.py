"""What the fault tests share (bench/fault_postgres.py, bench/fault_redis.py): a PostgreSQL cluster of their own,
the registry under gunicorn with production settings, load from wrk, a read probe, a writer, and the report.

One run, bounded in time (``--time-limit``): a PostgreSQL cluster in a temporary directory on a free loopback port
(``initdb`` and ``pg_ctl`` of PostgreSQL 15; run as the ``postgres`` system user when we are root), ``migrate``,
``createcachetable``, ``load_shipped_data``, ``generate_synthetic``; an editor with an API token; gunicorn with the
shipped ``gunicorn.conf.py`` (``GUNICORN_BIND``, ``GUNICORN_WORKERS``) and production settings (DEBUG off, a random
secret key, 127.0.0.1 only, no HTTPS redirect). Then, for ``--duration`` seconds, three clients at once:

- wrk on a read endpoint (``bench/fault_report.lua`` counts the statuses in each wall-clock second);
- a read probe: one GET at a time, every ``--interval`` seconds, each with its time, status and latency;
- a writer: one ``POST /api/v1/partnerships/`` at a time, every ``--interval`` seconds, logging each acknowledged
  (201) record's slug with the time of the acknowledgement.

At ``--fault-at`` seconds the scenario breaks a service (``Fault.inject``); ``--down`` seconds later it restarts
it (``Fault.restore``, which returns once the service answers). Afterwards every acknowledged record is looked up
in the database. Each response is put in a phase by the time it arrived: before the fault, outage (fault until
the service is back), recovering (the ``--settle`` seconds after that), after. The scenario's requirements are
checked on those figures; the table is printed, the JSON written, and the exit status is 1 when one fails.

Standard library only: it runs the project's Python (``--python``, default ``.venv/bin/python``) for Django.
wrk: ``apt-get install -y wrk`` (Debian/Ubuntu). PostgreSQL 15: ``apt-get install -y postgresql-15``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # registry/pgtools.py (standard library only) from a script run as bench/...
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA_REPORT = BENCH / "fault_report.lua"
API = "/api/v1"
READ_PATH = f"{API}/partnerships/?page_size=20"
WRITE_PATH = f"{API}/partnerships/"
PG_SYSTEM_USER = "postgres"  # initdb and postgres refuse to run as root
PG_PREFERRED_MAJOR = 15  # the version this machine runs as its service; any other installation is the fallback
PHASES = ("before", "outage", "recovering", "after")


class FaultTestError(Exception):
    """The run could not be carried out (not a failed requirement)."""


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


# --- HTTP --------------------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One request of the probe or the writer. ``status`` 0: no HTTP response (``error`` says why)."""

    sent: float  # Unix time the request was sent
    received: float  # Unix time the response (or the error) arrived
    status: int
    retry_after: str | None = None
    slug: str | None = None  # the record a write created (201) or tried to create
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.received - self.sent


def http(
    url: str, *, method: str = "GET", body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, str]:
    """One request: status, headers, body, and an error text when there was no HTTP response (status 0)."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (a loopback URL we built)
            return response.status, dict(response.headers), response.read(), ""
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), ""
    except (OSError, urllib.error.URLError) as error:
        return 0, {}, b"", f"{type(error).__name__}: {error}"


# --- Commands ----------------------------------------------------------------------------------------------------


def run(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    user: str | None = None,
    timeout: float = 600,
    capture: bool = False,
) -> str:
    """Run a command (in the project root); its output goes to the terminal unless captured; failure raises."""
    completed = subprocess.run(  # noqa: S603 (commands built by this script)
        command, cwd=ROOT, env=env, user=user, text=True, capture_output=capture, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        detail = f"\n{completed.stderr.strip()}" if capture and completed.stderr else ""
        raise FaultTestError(f"command failed ({completed.returncode}): {shlex.join(command)}{detail}")
    return completed.stdout if capture else ""


# --- PostgreSQL --------------------------------------------------------------------------------------------------


def pg_bindir() -> Path:
    """PostgreSQL's binaries (registry/pgtools.py: $PG_BINDIR first, else PostgreSQL 15 if installed, else the newest
    installation found with initdb and pg_ctl)."""
    from registry.pgtools import server_installations  # the project root is on sys.path (above)

    installations = server_installations()
    if os.environ.get("PG_BINDIR"):
        chosen = [i for i in installations if i.bindir == Path(os.environ["PG_BINDIR"])]
    else:
        chosen = [i for i in installations if i.major == PG_PREFERRED_MAJOR] or installations[::-1]
    if not chosen:
        raise FaultTestError(
            "PostgreSQL's initdb and pg_ctl not found: apt-get install -y postgresql-15, or set PG_BINDIR"
        )
    return chosen[0].bindir


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def processes_wait_gone(pids: list[int], *, timeout: float = 10) -> None:
    """Wait until none of ``pids`` runs any more (gone, or a zombie waiting to be reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if state != "Z":
                running.append(pid)
        if not running:
            return
        time.sleep(0.02)
    raise FaultTestError(f"processes {pids} still run {timeout} s after SIGKILL")


class PostgresCluster:
    """A throwaway PostgreSQL cluster in ``directory``, on 127.0.0.1:``port`` with trust authentication."""

    def __init__(self, directory: Path) -> None:
        self.bindir = pg_bindir()
        self.directory = directory
        self.data = directory / "data"
        self.logfile = directory / "postgresql.log"
        self.port = free_port()
        self.database = "registry"
        # initdb and postgres refuse to run as root: run them as the postgres system user then.
        self.user = PG_SYSTEM_USER if os.geteuid() == 0 else None
        directory.mkdir(parents=True)
        if self.user is not None:
            try:
                account = pwd.getpwnam(self.user)
            except KeyError as error:
                raise FaultTestError(
                    f"running as root needs the system user {self.user!r} to run PostgreSQL"
                ) from error
            os.chown(directory, account.pw_uid, account.pw_gid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def pg_ctl(self, *arguments: str, timeout: float = 120) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory}"
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options]
        run([*command, *arguments], user=self.user, timeout=timeout, capture=True)

    def create(self) -> None:
        log(f"initdb: PostgreSQL cluster in {self.directory} on 127.0.0.1:{self.port}")
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        run([*initdb, "-E", "UTF8", "--locale=C.UTF-8"], user=self.user, capture=True, timeout=300)
        self.start()
        run(
            [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database],
            capture=True,
        )

    def checkpoint(self) -> None:
        """CHECKPOINT: crash recovery then replays the WAL of the measured run only, not of the data load."""
        psql = [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        run([*psql, "-d", self.database, "-q", "-c", "CHECKPOINT"], capture=True)

    def start(self) -> None:
        """Start the server and return once it accepts connections (after crash recovery, if any)."""
        self.pg_ctl("-w", "-t", "120", "start", timeout=150)

    def kill(self) -> list[int]:
        """SIGKILL the postmaster (the pid in postmaster.pid) and then every one of its processes: the server dies
        at once, with no shutdown checkpoint, as in a crash or an OOM kill. Returns the pids killed."""
        pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        children = children_of(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        processes_wait_gone([pid, *children])  # else a restart may still find them attached to shared memory
        return [pid, *children]

    def server_version(self) -> str:
        output = run([str(self.bindir / "postgres"), "--version"], capture=True)
        return output.strip()

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(FaultTestError, subprocess.TimeoutExpired):
                self.pg_ctl("-m", "immediate", "stop", timeout=60)


# --- The registry ------------------------------------------------------------------------------------------------


def server_env(database_url: str, *, redis_url: str = "", anon_rate: str = "") -> dict[str, str]:
    """Production settings: DEBUG off, a random secret key, HTTP on loopback; no anonymous throttle by default."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "fault-" + os.urandom(24).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "REGISTRY_API_ANON_RATE": anon_rate,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


WRITER_SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from partnerships.models import Partnership

user, _ = get_user_model().objects.get_or_create(username="fault-test-writer")
user.set_unusable_password()
user.save()
user.user_permissions.add(Permission.objects.get(content_type__app_label="partnerships", codename="add_partnership"))
# The writer publishes what it creates: that needs the reviewers' permission (accounts.verify_record).
user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="verify_record"))
token, _ = Token.objects.get_or_create(user=user)
model = Partnership.objects.public().filter(is_synthetic=False).order_by("slug").first()
model = model or Partnership.objects.public().order_by("slug").first()
print(json.dumps({
    "token": token.key,
    "region": model.region.slug,
    "jurisdiction": model.jurisdiction.slug,
    "ngos": [ngo.slug for ngo in model.ngos.all()],
    "police_departments": [police.slug for police in model.police_departments.all()],
    "sources": [source.slug for source in model.sources.all()],
}))
"""

WRITES_CHECK = """
import json
from partnerships.models import Partnership

wanted = [line.strip() for line in open(LISTING) if line.strip()]
stored = set(Partnership.objects.filter(slug__in=wanted).values_list("slug", flat=True))
every = set(Partnership.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True))
print(json.dumps({"missing": sorted(set(wanted) - stored), "stored_with_prefix": sorted(every)}))
"""


def manage(python: str, env: dict[str, str], *arguments: str, capture: bool = False, timeout: float = 900) -> str:
    return run([python, "manage.py", *arguments], env=env, capture=capture, timeout=timeout)


def registry_prepare(python: str, env: dict[str, str], *, partnerships: int) -> dict[str, Any]:
    """Migrate, load the shipped data and ``partnerships`` synthetic ones; an editor's token and a write's body."""
    log("migrate")
    manage(python, env, "migrate", "--noinput", "-v", "0")
    manage(python, env, "createcachetable")
    log("load_shipped_data")
    manage(python, env, "load_shipped_data", capture=True)
    if partnerships:
        log(f"generate_synthetic --partnerships {partnerships} --seed 1")
        manage(python, env, "generate_synthetic", "--partnerships", str(partnerships), "--seed", "1")
    output = manage(python, env, "shell", "--no-imports", "-c", WRITER_SETUP, capture=True)
    writer: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return writer


def writes_check(python: str, env: dict[str, str], *, acknowledged: list[str], prefix: str, workdir: Path) -> dict:
    """Which acknowledged slugs are missing from the database, and every stored slug of this run."""
    listing = workdir / "acknowledged-slugs.txt"
    listing.write_text("".join(f"{slug}\n" for slug in acknowledged))
    code = f"PREFIX = {prefix!r}\nLISTING = {str(listing)!r}\n{WRITES_CHECK}"
    output = manage(python, env, "shell", "--no-imports", "-c", code, capture=True)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


class Gunicorn:
    """The registry under gunicorn with the shipped gunicorn.conf.py, on 127.0.0.1 and a free port."""

    def __init__(self, python: str, env: dict[str, str], *, workers: int, logfile: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logfile = logfile
        gunicorn = Path(python).parent / "gunicorn"
        if not gunicorn.exists():
            raise FaultTestError(f"gunicorn not found next to {python}: make install")
        server_env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_LOGLEVEL": "info",  # worker boots and timeouts are counted from this log
        }
        log(f"gunicorn -c gunicorn.conf.py: {workers} sync workers on 127.0.0.1:{self.port}")
        with logfile.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
                [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT,
                env=server_env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            self.ready_wait()
        except BaseException:
            self.stop()  # the caller never gets this object to stop
            raise

    def ready_wait(self) -> None:
        """Return once the registry answers 200 to READ_PATH."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FaultTestError(f"gunicorn exited ({self.process.returncode}); see {self.logfile}")
            status, _, body, _ = http(self.base + READ_PATH)
            if status == 200:
                return
            if status:
                raise FaultTestError(
                    f"gunicorn answered {status} to {READ_PATH}: {body[:300]!r}\nEnd of its log:\n{self.log_tail()}"
                )
            time.sleep(0.3)
        raise FaultTestError("gunicorn did not answer within 90 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        text = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
        return "\n".join(line[:500] for line in text.splitlines()[-lines:])

    def log_counts(self) -> dict[str, int]:
        text = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
        return {
            "worker_boots": text.count("Booting worker"),
            "worker_timeouts": text.count("WORKER TIMEOUT"),
            "tracebacks": text.count("Traceback (most recent call last)"),
            "cache_unreachable_warnings": text.count("Cache unreachable"),
            "cache_reachable_again_lines": text.count("Cache reachable again"),
        }


# --- Clients -----------------------------------------------------------------------------------------------------


class Client(threading.Thread):
    """A client sending one request at a time, ``interval`` seconds apart, until stopped."""

    def __init__(self, name: str, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.attempts: list[Attempt] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.attempts.append(self.once())
            self.halt.wait(self.interval)

    def once(self) -> Attempt:
        raise NotImplementedError


class ReadProbe(Client):
    def __init__(self, base: str, interval: float) -> None:
        super().__init__("read probe", interval)
        self.url = base + READ_PATH

    def once(self) -> Attempt:
        sent = time.time()
        status, headers, _, error = http(self.url)
        return Attempt(sent, time.time(), status, headers.get("Retry-After"), error=error)


class Writer(Client):
    """Creates partnerships through the API; each acknowledged (201) slug is appended to ``ack_log`` at once,
    with the time of the acknowledgement (one JSON object a line)."""

    def __init__(self, base: str, interval: float, *, setup: dict[str, Any], prefix: str, ack_log: Path) -> None:
        super().__init__("writer", interval)
        self.url = base + WRITE_PATH
        self.setup = setup
        self.prefix = prefix
        self.ack_log = ack_log
        self.number = 0

    def once(self) -> Attempt:
        self.number += 1
        slug = f"{self.prefix}{self.number:05d}"
        body = {
            "name": f"Fault test partnership {slug}",
            "slug": slug,
            "region": self.setup["region"],
            "jurisdiction": self.setup["jurisdiction"],
            "ngos": self.setup["ngos"],
            "police_departments": self.setup["police_departments"],
            "sources": self.setup["sources"],
            "year_established": 2020,
            "is_published": True,
        }
        headers = {"Authorization": f"Token {self.setup['token']}"}
        sent = time.time()
        status, response_headers, content, error = http(self.url, method="POST", body=body, headers=headers)
        received = time.time()
        if status == 201:
            created = json.loads(content).get("slug")
            with self.ack_log.open("a") as ack:
                ack.write(json.dumps({"acknowledged_at": round(received, 3), "slug": created}) + "\n")
            slug = created
        elif status and status not in (201, 503):
            error = content[:300].decode(errors="replace")
        return Attempt(sent, received, status, response_headers.get("Retry-After"), slug, error)

    def acknowledged(self) -> list[str]:
        if not self.ack_log.exists():
            return []
        return [json.loads(line)["slug"] for line in self.ack_log.read_text().splitlines() if line]


class Wrk:
    """wrk on the read endpoint for ``seconds``, in the background; ``result()`` waits and parses its report."""

    def __init__(self, url: str, *, seconds: int, threads: int, connections: int) -> None:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        command += ["-s", str(LUA_REPORT), url]
        self.command = command
        self.process = subprocess.Popen(  # noqa: S603 (wrk with fixed arguments)
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def result(self, timeout: float) -> dict[str, Any]:
        stdout, stderr = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            detail = (stderr.strip() or stdout.strip())[-1000:]
            raise FaultTestError(f"wrk failed (exit status {self.process.returncode}): {detail}")
        line = next((ln for ln in stdout.splitlines() if ln.startswith("FAULT_JSON ")), None)
        if line is None:
            raise FaultTestError(f"no FAULT_JSON line in wrk's output:\n{stdout}")
        report: dict[str, Any] = json.loads(line.removeprefix("FAULT_JSON "))
        return report

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# --- The fault and the run ---------------------------------------------------------------------------------------


class Fault:
    """A service the scenario breaks and restores; ``restore`` returns once the service answers again."""

    name = "a service"

    def inject(self) -> str:
        """Break the service; returns a description of what was done."""
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError


@dataclass
class Timeline:
    start: float = 0.0  # Unix time the load began
    fault: float = 0.0  # the service was broken
    restart: float = 0.0  # the restart was issued
    back: float = 0.0  # the service answered again
    end: float = 0.0
    settle: float = 10.0
    fault_detail: str = ""

    def phase(self, moment: float) -> str:
        if moment < self.fault:
            return "before"
        if moment < self.back:
            return "outage"
        if moment < self.back + self.settle:
            return "recovering"
        return "after"

    def relative(self, moment: float) -> float:
        return round(moment - self.start, 3)


@dataclass
class Figures:
    """What one client saw in one phase."""

    statuses: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    max_latency_ms: float | None = None
    p50_latency_ms: float | None = None


def attempts_by_phase(attempts: list[Attempt], timeline: Timeline) -> dict[str, Figures]:
    grouped: dict[str, list[Attempt]] = {phase: [] for phase in PHASES}
    for attempt in attempts:
        grouped[timeline.phase(attempt.received)].append(attempt)
    figures = {}
    for phase, chosen in grouped.items():
        latencies = sorted(a.seconds * 1000 for a in chosen)
        figures[phase] = Figures(
            statuses=dict(sorted(Counter(str(a.status) for a in chosen).items())),
            requests=len(chosen),
            max_latency_ms=round(latencies[-1], 1) if latencies else None,
            p50_latency_ms=round(latencies[len(latencies) // 2], 1) if latencies else None,
        )
    return figures


def wrk_by_phase(report: dict[str, Any], timeline: Timeline) -> dict[str, Figures]:
    """wrk's per-second counts by phase. A second is in the phase of its middle; the seconds that hold a boundary
    of the outage count as outage (their statuses may mix), those of the end of the recovery as recovering."""
    counts: dict[str, Counter[str]] = {phase: Counter() for phase in PHASES}
    for second, statuses in report["seconds"].items():
        start = int(second)
        if start <= timeline.fault < start + 1 or start <= timeline.back < start + 1:
            phase = "outage"
        elif start <= timeline.back + timeline.settle < start + 1:
            phase = "recovering"
        else:
            phase = timeline.phase(start + 0.5)
        counts[phase].update({str(code): int(n) for code, n in statuses.items()})
    return {phase: Figures(statuses=dict(sorted(c.items())), requests=sum(c.values())) for phase, c in counts.items()}


def outage_latency(attempts: list[Attempt], timeline: Timeline) -> dict[str, Any]:
    """Latencies of the requests sent after the fault and answered before the service was back: how fast a request
    fails while the service is down (a request sent before the fault that ends during it is not counted)."""
    chosen = sorted(a.seconds * 1000 for a in attempts if a.sent >= timeline.fault and a.received < timeline.back)
    if not chosen:
        return {"requests": 0, "p50_ms": None, "max_ms": None}
    return {"requests": len(chosen), "p50_ms": round(chosen[len(chosen) // 2], 1), "max_ms": round(chosen[-1], 1)}


def elapsed_until(attempts: list[Attempt], *, since: float, status: int) -> float | None:
    """Seconds from ``since`` to the first response with ``status`` that arrived after it (None: there was none)."""
    first = next((a.received for a in attempts if a.received >= since and a.status == status), None)
    return None if first is None else round(first - since, 2)


@dataclass
class RunConfig:
    name: str  # "postgres" or "redis": the result file is bench/results/fault-<name>.json
    title: str
    python: str
    duration: int
    fault_at: float
    down: float
    settle: float
    interval: float
    workers: int
    threads: int
    connections: int
    partnerships: int
    fail_fast_seconds: float
    output: Path
    keep: bool
    writes_log: Path | None


def arguments(description: str, *, name: str) -> RunConfig:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="Seconds of load (default 60).")
    parser.add_argument("--fault-at", type=float, default=20, help="Seconds into the load to break it (20).")
    parser.add_argument("--down", type=float, default=5, help="Seconds it stays down before the restart (5).")
    parser.add_argument("--settle", type=float, default=10, help="Seconds after it is back before 0 errors (10).")
    parser.add_argument("--interval", type=float, default=0.05, help="Pause between probe/writer requests (0.05).")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2).")
    parser.add_argument("--connections", type=int, default=6, help="wrk connections (6).")
    parser.add_argument("--partnerships", type=int, default=2000, help="Synthetic partnerships loaded (2000).")
    parser.add_argument(
        "--fail-fast-seconds", type=float, default=1.0, help="Longest acceptable response during the outage (1.0)."
    )
    parser.add_argument("--time-limit", type=int, default=900, help="Abort the whole run after this many s (900).")
    parser.add_argument("--python", default=default_python(), help="The project's Python (default .venv).")
    parser.add_argument("--output", type=Path, default=RESULTS / f"fault-{name}.json", help="The JSON result.")
    parser.add_argument("--writes-log", type=Path, help="Keep the writer's acknowledgement log (JSON lines) here.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (logs, cluster).")
    args = parser.parse_args()
    if not 0 < args.fault_at < args.fault_at + args.down + args.settle < args.duration:
        parser.error("need 0 < --fault-at and --fault-at + --down + --settle < --duration")
    # The whole run is bounded: SIGALRM interrupts it, and the cleanup still runs.
    signal.signal(signal.SIGALRM, _time_limit_reached)
    signal.alarm(args.time_limit)
    return RunConfig(
        name=name,
        title=description.strip().splitlines()[0],
        python=args.python,
        duration=args.duration,
        fault_at=args.fault_at,
        down=args.down,
        settle=args.settle,
        interval=args.interval,
        workers=args.workers,
        threads=args.threads,
        connections=args.connections,
        partnerships=args.partnerships,
        fail_fast_seconds=args.fail_fast_seconds,
        output=args.output,
        keep=args.keep,
        writes_log=args.writes_log,
    )


def _time_limit_reached(signum: int, frame: Any) -> None:
    raise FaultTestError("the time limit (--time-limit) was reached")


@contextlib.contextmanager
def workspace(config: RunConfig) -> Iterator[Path]:
    """A temporary directory for the cluster and the logs, deleted afterwards unless --keep."""
    directory = Path(tempfile.mkdtemp(prefix=f"registry-fault-{config.name}-"))
    directory.chmod(0o711)  # the postgres system user must reach its cluster directory inside
    try:
        yield directory
    finally:
        if config.keep:
            log(f"Kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def tools_check() -> None:
    if shutil.which("wrk") is None:
        raise FaultTestError("wrk is not installed. On Debian/Ubuntu: apt-get install -y wrk")


def load_run(
    config: RunConfig, *, base: str, fault: Fault, setup: dict[str, Any], prefix: str, workdir: Path
) -> tuple[Timeline, dict[str, Any], ReadProbe, Writer]:
    """The measured part: wrk, the probe and the writer for ``duration`` s, the fault injected and restored."""
    ack_log = config.writes_log or workdir / "acknowledged.jsonl"
    ack_log.parent.mkdir(parents=True, exist_ok=True)
    ack_log.write_text("")
    probe = ReadProbe(base, config.interval)
    writer = Writer(base, config.interval, setup=setup, prefix=prefix, ack_log=ack_log)
    timeline = Timeline(settle=config.settle)
    log(f"Load for {config.duration} s: wrk -c{config.connections} on {READ_PATH}, a read probe and a writer")
    wrk = Wrk(base + READ_PATH, seconds=config.duration, threads=config.threads, connections=config.connections)
    timeline.start = time.time()
    probe.start()
    writer.start()
    try:
        time.sleep(max(0.0, timeline.start + config.fault_at - time.time()))
        timeline.fault = time.time()
        timeline.fault_detail = fault.inject()
        log(f"{fault.name}: {timeline.fault_detail}")
        time.sleep(max(0.0, timeline.fault + config.down - time.time()))
        timeline.restart = time.time()
        log(f"{fault.name}: restarting")
        fault.restore()
        timeline.back = time.time()
        log(f"{fault.name}: back after {timeline.back - timeline.restart:.2f} s")
        report = wrk.result(timeout=config.duration + 60)
        timeline.end = time.time()
    finally:
        wrk.stop()
        for client in (probe, writer):
            client.halt.set()
        for client in (probe, writer):
            client.join(timeout=15)
    return timeline, report, probe, writer


@dataclass
class Requirement:
    text: str
    met: bool
    detail: str = ""


def summarise(
    config: RunConfig,
    *,
    timeline: Timeline,
    report: dict[str, Any],
    probe: ReadProbe,
    writer: Writer,
    writes: dict[str, Any],
    acknowledged: list[str],
    gunicorn_log: dict[str, int],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Every figure of the run, by phase, as a JSON-ready document (without the requirements)."""
    wrk_phases = wrk_by_phase(report, timeline)
    probe_phases = attempts_by_phase(probe.attempts, timeline)
    writer_phases = attempts_by_phase(writer.attempts, timeline)
    stored = set(writes["stored_with_prefix"])
    unacknowledged_stored = sorted(stored - set(acknowledged))
    recover = {
        "service_back_after_restart_s": round(timeline.back - timeline.restart, 2),
        "read_after_restart_s": elapsed_until(probe.attempts, since=timeline.restart, status=200),
        "write_after_restart_s": elapsed_until(writer.attempts, since=timeline.restart, status=201),
        "read_after_back_s": elapsed_until(probe.attempts, since=timeline.back, status=200),
        "write_after_back_s": elapsed_until(writer.attempts, since=timeline.back, status=201),
    }
    socket_errors = {k: int(v) for k, v in report["errors"].items() if k != "status"}
    seconds = {
        str(int(second) - int(timeline.start)): statuses
        for second, statuses in sorted(report["seconds"].items(), key=lambda item: int(item[0]))
    }
    return {
        "test": config.name,
        "title": config.title,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "duration_s": config.duration,
            "fault_at_s": config.fault_at,
            "down_s": config.down,
            "settle_s": config.settle,
            "client_interval_s": config.interval,
            "gunicorn_workers": config.workers,
            "wrk": {"threads": config.threads, "connections": config.connections, "path": READ_PATH},
            "synthetic_partnerships": config.partnerships,
            "fail_fast_s": config.fail_fast_seconds,
        },
        "timeline_s": {
            "fault": timeline.relative(timeline.fault),
            "restart": timeline.relative(timeline.restart),
            "back": timeline.relative(timeline.back),
            "end": timeline.relative(timeline.end),
            "fault_detail": timeline.fault_detail,
        },
        "requests_served": {
            "wrk": int(report["requests"]),
            "read_probe": len(probe.attempts),
            "writer": len(writer.attempts),
            "total": int(report["requests"]) + len(probe.attempts) + len(writer.attempts),
            "wrk_requests_per_second": round(report["requests"] / (report["duration_us"] / 1e6), 1),
        },
        "wrk_socket_errors": socket_errors,
        "wrk_latency_ms": {k: round(v / 1000, 1) for k, v in report["latency_us"].items()},
        "phases": {
            phase: {
                "wrk": asdict(wrk_phases[phase]),
                "read_probe": asdict(probe_phases[phase]),
                "writer": asdict(writer_phases[phase]),
            }
            for phase in PHASES
        },
        "outage_latency": {
            "read_probe": outage_latency(probe.attempts, timeline),
            "writer": outage_latency(writer.attempts, timeline),
        },
        "outage_retry_after": sorted(
            {a.retry_after for a in probe.attempts + writer.attempts if a.status == 503 and a.retry_after}
        ),
        "writes": {
            "attempted": len(writer.attempts),
            "acknowledged": len(acknowledged),
            "acknowledged_lost": len(writes["missing"]),
            "lost_slugs": writes["missing"][:20],
            "unacknowledged_but_stored": len(unacknowledged_stored),
        },
        "time_to_recover": recover,
        "gunicorn_log": gunicorn_log,
        "wrk_per_second": seconds,
        "client_errors": sorted({a.error for a in probe.attempts + writer.attempts if a.error})[:10],
        **extra,
    }


def errors_in(figures: dict[str, Any], *, ok: set[str]) -> int:
    return sum(n for status, n in figures["statuses"].items() if status not in ok)


def phase_errors(document: dict[str, Any], phase: str) -> int:
    """Responses of the phase that are not a success (wrk and probe: 200; writer: 201), no response included."""
    figures = document["phases"][phase]
    return (
        errors_in(figures["wrk"], ok={"200"})
        + errors_in(figures["read_probe"], ok={"200"})
        + errors_in(figures["writer"], ok={"201"})
    )


def statuses_line(figures: dict[str, Any]) -> str:
    return ", ".join(f"{status}:{n}" for status, n in figures["statuses"].items()) or "-"


def latencies(figures: dict[str, Any]) -> str:
    if figures["p50_latency_ms"] is None:
        return "-"
    return f"{figures['p50_latency_ms']:.0f}/{figures['max_latency_ms']:.0f}"


def report_print(document: dict[str, Any], requirements: list[Requirement]) -> None:
    timeline = document["timeline_s"]
    served = document["requests_served"]
    print()
    print(f"{document['title']}")
    print(
        f"{document['settings']['duration_s']} s of load; fault at {timeline['fault']} s ({timeline['fault_detail']}), "
        f"restart at {timeline['restart']} s, back at {timeline['back']} s"
    )
    print()
    header = (
        f"{'phase':<12}{'from-to (s)':<14}{'wrk statuses':<24}{'read probe':<20}{'writes':<20}"
        f"{'read p50/max ms':>16}{'write p50/max ms':>18}"
    )
    print(header)
    print("-" * len(header))
    bounds = {
        "before": (0.0, timeline["fault"]),
        "outage": (timeline["fault"], timeline["back"]),
        "recovering": (timeline["back"], timeline["back"] + document["settings"]["settle_s"]),
        "after": (timeline["back"] + document["settings"]["settle_s"], timeline["end"]),
    }
    for phase, figures in document["phases"].items():
        start, stop = bounds[phase]
        print(
            f"{phase:<12}{f'{start:.1f}-{stop:.1f}':<14}{statuses_line(figures['wrk']):<24}"
            f"{statuses_line(figures['read_probe']):<20}{statuses_line(figures['writer']):<20}"
            f"{latencies(figures['read_probe']):>16}{latencies(figures['writer']):>18}"
        )
    print()
    writes = document["writes"]
    recover = document["time_to_recover"]
    print(
        f"requests served: {served['total']:,} (wrk {served['wrk']:,} at {served['wrk_requests_per_second']} req/s, "
        f"probe {served['read_probe']:,}, writer {served['writer']:,}); wrk socket errors: "
        f"{sum(document['wrk_socket_errors'].values())}"
    )
    outage = document["outage_latency"]
    print(
        f"requests sent during the outage: {outage['read_probe']['requests']} reads, p50/max "
        f"{outage['read_probe']['p50_ms']}/{outage['read_probe']['max_ms']} ms; {outage['writer']['requests']} "
        f"writes, p50/max {outage['writer']['p50_ms']}/{outage['writer']['max_ms']} ms"
    )
    print(
        f"errors (not 200/201): outage {phase_errors(document, 'outage')}, recovering "
        f"{phase_errors(document, 'recovering')}, after {phase_errors(document, 'after')}"
    )
    print(
        f"writes: {writes['attempted']} attempted, {writes['acknowledged']} acknowledged, "
        f"{writes['acknowledged_lost']} acknowledged lost, {writes['unacknowledged_but_stored']} stored unacknowledged"
    )
    print(
        f"time to recover from the restart: service {recover['service_back_after_restart_s']} s, "
        f"first 200 read {recover['read_after_restart_s']} s, first 201 write {recover['write_after_restart_s']} s "
        f"(from the service being back: {recover['read_after_back_s']} s and {recover['write_after_back_s']} s)"
    )
    for key, value in document.get("notes", {}).items():
        print(f"{key}: {value}")
    print(f"gunicorn: {document['gunicorn_log']}")
    print()
    for requirement in requirements:
        mark = "PASS" if requirement.met else "FAIL"
        print(f"  [{mark}] {requirement.text}{f'  ({requirement.detail})' if requirement.detail else ''}")
    print()


def machine() -> dict[str, Any]:
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0].strip(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def finish(config: RunConfig, document: dict[str, Any], requirements: list[Requirement]) -> int:
    document["requirements"] = [asdict(r) for r in requirements]
    document["passed"] = all(r.met for r in requirements)
    report_print(document, requirements)
    config.output.parent.mkdir(parents=True, exist_ok=True)
    config.output.write_text(json.dumps(document, indent=2) + "\n")
    shown = config.output.relative_to(ROOT) if config.output.is_relative_to(ROOT) else config.output
    log(f"Wrote {shown}")
    if not document["passed"]:
        log("FAILED: " + "; ".join(r.text for r in requirements if not r.met))
        return 1
    return 0


def main_guarded(body: Callable[[], int]) -> None:
    """Run a fault test; an error that stopped the run is printed and exits 2 (a failed requirement exits 1)."""
    try:
        status = body()
    except FaultTestError as error:
        print(f"fault test: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    except KeyboardInterrupt:
        print("fault test: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(status)
