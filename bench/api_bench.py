"""Benchmark of the public JSON API and the HTML pages: synthetic data, gunicorn with production settings, wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench .venv/bin/python bench/api_bench.py \\
        --partnerships 10000

Steps: create the database if it is missing, ``migrate``, ``createcachetable``, ``generate_synthetic
--partnerships N --seed S --replace`` (skipped with ``--skip-load``), ``VACUUM ANALYZE``; serve the app with
gunicorn (DEBUG off, no throttle, sync workers, 127.0.0.1 on a free port), and beside it the raw baseline
(``bench/baseline_app.py``: bare WSGI, psycopg and orjson, same workers) unless ``--no-baseline``, after checking
that both serve the same JSON; count the SQL queries of one request to each endpoint in-process; drive each
endpoint with wrk (``bench/wrk_report.lua`` adds p95 and per-status counts), each right followed by its baseline;
time one full CSV export (and the baseline's COPY); print a table with each Django figure's ratio to its baseline
and write ``bench/results/api-<N>.json``. See bench/README.md. Standard library only (plus subprocess): it runs
the project's own Python (``--python``, default ``.venv/bin/python``) for Django commands.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import zip_longest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA_REPORT = BENCH / "wrk_report.lua"
API = "/api/v1"
REPLACE = ["--replace"]  # synthetic data of an earlier run is deleted first
DJANGO_APP = "registry.wsgi:application"
BASELINE_APP = "baseline_app:application"  # bench/baseline_app.py, served from bench/
BENCH_DATABASE = "registry_bench"  # on the embedded server when DATABASE_URL is not set
EXPORT_ROWS = 100_000  # the size of the big CSV export (issue 6: "CSV export of 100k rows")
HELLO = f"{API}/"  # Django's cheapest response: the API root (links to the resources, no database)


@dataclass
class Endpoint:
    name: str
    path: str
    expected_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    baseline: str | None = None  # the same request to bench/baseline_app.py, if it serves one


@dataclass
class Result:
    name: str
    path: str
    requests: int
    requests_per_second: float
    latency_ms: dict[str, float]
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    unexpected: int
    mb_per_second: float
    queries_per_request: int | None = None  # SQL statements of one request in-process (Django only)
    peak_worker_rss_mb: float | None = None  # the largest resident memory of one worker during the run
    ratio: float | None = None  # requests_per_second / baseline.requests_per_second
    baseline: Result | None = None  # the raw baseline on the same request, run right after


def size_parse(text: str) -> int:
    """A number of partnerships: 10000, 10k, 100k, 1m."""
    value = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    number = value[:-1] if factor > 1 else value
    try:
        parsed = int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 10000, 10k, 100k, 1m)") from None
    if parsed < 1:
        raise argparse.ArgumentTypeError("the size must be at least 1")
    return parsed


def size_label(number: int) -> str:
    """10000 -> 10k, 1000000 -> 1m (the names of the result files)."""
    if number % 1_000_000 == 0:
        return f"{number // 1_000_000}m"
    if number % 1_000 == 0:
        return f"{number // 1_000}k"
    return str(number)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def fail(message: str) -> None:
    print(f"api_bench: {message}", file=sys.stderr)
    raise SystemExit(1)


def default_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def embedded_database_url(python: str) -> str:
    """Without DATABASE_URL: the database ``registry_bench`` on the project's embedded PostgreSQL server (.pgdata),
    started if needed, next to (never in place of) the development database."""
    output = run([python, "-m", "registry.devdb", "start", "--name", BENCH_DATABASE], dict(os.environ), capture=True)
    match = re.search(r"socket directory (\S+), port (\d+)", output)
    if match is None:
        fail(f"could not start the embedded PostgreSQL server: {output.strip()}")
        raise AssertionError  # unreachable
    socket_dir, port = match.groups()
    return f"postgres://postgres@:{port}/{BENCH_DATABASE}?host={urllib.parse.quote(socket_dir)}"


def local_redis_url() -> str:
    """Without REDIS_URL: Redis on 127.0.0.1:6379 if one answers (database 13, emptied first), else nothing (the
    database cache table)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"*2\r\n$6\r\nSELECT\r\n$2\r\n13\r\n*1\r\n$7\r\nFLUSHDB\r\n")
            reply = sock.recv(64)
    except OSError:
        return ""
    return "redis://127.0.0.1:6379/13" if reply.startswith(b"+OK") else ""


def redacted(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.password:
        parsed = parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@"))
    return urllib.parse.urlunsplit(parsed)


def server_env(database_url: str, *, redis_url: str = "", response_cache: bool = True) -> dict[str, str]:
    """Production settings: DEBUG off, HTTP on loopback, no anonymous throttle (wrk would measure 429s)."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REGISTRY_API_CACHE_SECONDS": "300" if response_cache else "0",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "bench-" + os.urandom(24).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "REGISTRY_API_ANON_RATE": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run(command: list[str], env: dict[str, str], *, capture: bool = False) -> str:
    """Run a command in the project root; its output goes to the terminal unless captured."""
    completed = subprocess.run(  # noqa: S603 (commands built by this script)
        command, cwd=ROOT, env=env, text=True, capture_output=capture, check=False
    )
    if completed.returncode != 0:
        detail = (completed.stderr or "").strip() if capture else ""
        fail(f"command failed ({completed.returncode}): {' '.join(command)}\n{detail}")
    return completed.stdout if capture else ""


def django_eval(python: str, env: dict[str, str], code: str) -> str:
    """Run ``code`` in ``manage.py shell`` and return what it prints."""
    return run([python, "manage.py", "shell", "--no-imports", "-c", code], env, capture=True).strip()


def database_create_if_missing(python: str, env: dict[str, str], database_url: str) -> None:
    """CREATE DATABASE when the one named in DATABASE_URL does not exist (connecting to ``postgres``)."""
    parsed = urllib.parse.urlsplit(database_url)
    name = parsed.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parsed._replace(path="/postgres"))
    code = (
        "import sys, psycopg\n"
        "from psycopg import sql\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
        "    if not conn.execute('SELECT 1 FROM pg_database WHERE datname = %s', [sys.argv[2]]).fetchone():\n"
        "        conn.execute(sql.SQL('CREATE DATABASE {}').format(sql.Identifier(sys.argv[2])))\n"
        "        print('created')\n"
    )
    if run([python, "-c", code, maintenance, name], env, capture=True).strip() == "created":
        log(f"Created database {name}")


def data_load(python: str, env: dict[str, str], *, partnerships: int, seed: int) -> None:
    log("migrate")
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    run([python, "manage.py", "createcachetable"], env)
    log(f"generate_synthetic --partnerships {partnerships} --seed {seed} --replace")
    started = time.monotonic()
    run(
        [python, "manage.py", "generate_synthetic", "--partnerships", str(partnerships), "--seed", str(seed), *REPLACE],
        env,
    )
    log(f"Generated in {time.monotonic() - started:.1f} s")


def vacuum_analyze(python: str, env: dict[str, str]) -> None:
    log("VACUUM ANALYZE")
    started = time.monotonic()
    django_eval(python, env, "from django.db import connection\nconnection.cursor().execute('VACUUM ANALYZE')")
    log(f"VACUUM ANALYZE in {time.monotonic() - started:.1f} s")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback URL we built)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback URL we built)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def gunicorn_start(
    python: str,
    env: dict[str, str],
    *,
    port: int,
    workers: int,
    app: str = DJANGO_APP,
    cwd: Path = ROOT,
    probe: str = f"{API}/partnerships/?page_size=1",
) -> subprocess.Popen[bytes]:
    """``app`` under gunicorn (sync workers) on 127.0.0.1:``port``, once it answers 200 to ``probe``."""
    gunicorn = str(Path(python).parent / "gunicorn")
    if not Path(gunicorn).exists():
        fail(f"gunicorn not found next to {python}: install requirements.txt (make install)")
    command = [gunicorn]
    if app == DJANGO_APP:
        command += ["--config", str(ROOT / "gunicorn.conf.py")]  # the configuration shipped with the project
    command += [app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync"]
    # A long timeout: a 100k-row export takes longer than the shipped 30 s; no recycling mid-measurement.
    command += ["--timeout", "600", "--max-requests", "0", "--log-level", "warning"]
    log(f"gunicorn {app}: {workers} sync workers on 127.0.0.1:{port}")
    # The server's output (one JSON log line per request, as in production) goes to a file, not the terminal.
    log_file = Path(tempfile.gettempdir()) / f"registry-bench-{port}.log"
    log(f"  its log: {log_file}")
    with log_file.open("w") as output:
        server = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"gunicorn exited with status {server.returncode}")
        try:
            status, _, _ = http_get(f"http://127.0.0.1:{port}{probe}", timeout=10)
        except OSError:
            time.sleep(0.3)
            continue
        if status != 200:
            server.terminate()
            fail(f"{app} answered {status} to a first request ({probe})")
        return server
    server.terminate()
    fail("gunicorn did not answer within 60 s")
    raise AssertionError  # unreachable


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the children of the master process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return pids


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """The peak resident memory of any one gunicorn worker while a measurement runs (sampled every 50 ms), and the
    most any one worker grew from its size when the measurement began."""

    def __init__(self, server: subprocess.Popen[bytes] | None) -> None:
        self.master = server.pid if server is not None else None
        self.peak = 0.0
        self.start: dict[int, float] = {}
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            if self.master is not None:
                for pid in worker_pids(self.master):
                    size = rss_mb(pid)
                    self.start.setdefault(pid, size)
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), size)
                    self.peak = max(self.peak, size)
            self._stop.wait(0.05)

    def __enter__(self) -> MemorySampler:
        if self.master is not None:
            self.start = {pid: rss_mb(pid) for pid in worker_pids(self.master)}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        grown = [self.peaks[pid] - self.start.get(pid, self.peaks[pid]) for pid in self.peaks]
        return round(max(grown, default=0.0), 1)


def server_stop(server: subprocess.Popen[bytes] | None) -> None:
    if server is None:
        return
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def api_json(base: str, path: str) -> dict[str, Any]:
    status, _, body = http_get(base + path)
    if status != 200:
        fail(f"GET {path} answered {status}: {body[:300]!r}")
    data: dict[str, Any] = json.loads(body)
    return data


def count_of(base: str, path: str) -> int:
    separator = "&" if "?" in path else "?"
    return int(api_json(base, f"{path}{separator}count=true&page_size=1").get("count") or 0)


def cursor_after(slug: str) -> str:
    """A keyset cursor that starts after the row with ``slug`` (the API's cursor for the default slug order, as
    DRF encodes it: base64 of ``p=<position>``)."""
    return urllib.parse.quote(base64.b64encode(urllib.parse.urlencode({"p": slug}).encode("ascii")).decode("ascii"))


def endpoints_choose(
    base: str, only: str = "all", *, deep_slug: str = "", skip: Sequence[str] = ()
) -> tuple[list[Endpoint], dict[str, Any]]:
    """The endpoints to drive, with parameters taken from the loaded data (so that every one finds rows)."""
    partnerships = f"{API}/partnerships/"
    first_page = api_json(base, f"{partnerships}?page_size=50")["results"]
    first = first_page[0]
    # The detail: the record of median size on the first page (by its JSON in the list), not simply the first
    # one: records differ a lot in sources and claims, and the first one of a bigger data set is another record,
    # so a median-size record keeps the detail and page figures comparable across sizes.
    slug = sorted(first_page, key=lambda row: (len(json.dumps(row)), row["slug"]))[len(first_page) // 2]["slug"]
    total = count_of(base, partnerships)
    # The region with the most partnerships, then the filters narrowed to keep a realistic, non-empty result.
    regions = [row["slug"] for row in api_json(base, f"{API}/regions/?page_size=100")["results"]]
    region_counts = {r: count_of(base, f"{partnerships}?region={r}") for r in regions}
    region = max(regions, key=region_counts.__getitem__)
    # The big export: every partnership up to ~120k of them, else the region whose count is nearest 100k.
    if total <= EXPORT_ROWS * 1.2:
        export_query = ""
    else:
        export_query = "region=" + min(regions, key=lambda r: abs(region_counts[r] - EXPORT_ROWS))
    filtered = f"region={region}&year_min=2010&data_sharing=case_level"
    # Common: a word of most synthetic names and objectives. Selective: the first partnership's NGO side of its
    # name ("Alpenhaven Anti-Trafficking Alliance" of "... & ERDC Safeguarding Hub"), which matches well under 1%.
    common = "support"
    selective = first["name"].split(" & ")[0]
    _, headers, _ = http_get(f"{base}{partnerships}{slug}/")
    etag = headers.get("ETag") or headers.get("Etag") or ""
    if not etag:
        fail(f"no ETag on {partnerships}{slug}/")
    chosen = {
        "detail_slug": slug,
        "region": region,
        "filtered_query": filtered,
        "filtered_count": count_of(base, f"{partnerships}?{filtered}"),
        "search_selective": selective,
        "search_selective_count": count_of(base, f"{partnerships}?q={urllib.parse.quote(selective)}"),
        "search_common": common,
        # Not counted when that endpoint is skipped: the count alone outlasts the statement timeout at 1m.
        "search_common_count": None if "search common" in skip else count_of(base, f"{partnerships}?q={common}"),
        "total_partnerships": total,
        "export_query": export_query,
        "export_count": total if not export_query else count_of(base, f"{partnerships}?{export_query}"),
        "deep_page_after": deep_slug,
        "etag": etag,
    }
    quoted = urllib.parse.quote(selective)
    endpoints = [
        Endpoint("hello (no database)", HELLO, baseline="/hello"),
        Endpoint("list", f"{partnerships}?page_size=50", baseline="/list"),
        Endpoint(
            "list, a deep page (cursor)",
            f"{partnerships}?page_size=50&cursor={cursor_after(deep_slug or slug)}",
            baseline=f"/list?after={urllib.parse.quote(deep_slug or slug)}",
        ),
        Endpoint(
            "filtered list (3 filters)",
            f"{partnerships}?page_size=50&{filtered}",
            baseline=f"/list-filtered?{filtered}",
        ),
        Endpoint("search selective", f"{partnerships}?page_size=50&q={quoted}", baseline=f"/search?q={quoted}"),
        Endpoint("search common", f"{partnerships}?page_size=50&q={common}", baseline=f"/search?q={common}"),
        Endpoint("detail", f"{partnerships}{slug}/", baseline=f"/detail/{slug}"),
        Endpoint("CSV export (filtered)", f"{partnerships}?format=csv&{filtered}", baseline=f"/export.csv?{filtered}"),
        Endpoint("conditional detail (304)", f"{partnerships}{slug}/", 304, {"If-None-Match": etag}),
        # The public website (HTML): the same data through the pages a reader opens.
        Endpoint("page: home", "/"),
        Endpoint("page: partnership list", "/partnerships/"),
        Endpoint("page: filtered list (3 filters)", f"/partnerships/?{filtered}"),
        Endpoint("page: partnership", f"/partnerships/{slug}/"),
        Endpoint("page: map", "/map/"),
    ]
    if only == "api":
        endpoints = [e for e in endpoints if not e.name.startswith("page:")]
    elif only == "pages":
        endpoints = [e for e in endpoints if e.name.startswith("page:")]
    return endpoints, chosen


def wrk_run(
    base: str,
    endpoint: Endpoint,
    *,
    threads: int,
    connections: int,
    duration: str,
    drain: tuple[str, ...] = (),
    server: subprocess.Popen[bytes] | None = None,
) -> Result:
    """wrk on ``endpoint``; first one GET of each ``drain`` URL, then one of the endpoint, each waited for."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "--timeout", "60s"]
    command += ["-s", str(LUA_REPORT)]
    for name, value in endpoint.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base + endpoint.path)
    log(f"wrk {endpoint.name}: {endpoint.path}")
    # One request first, waited for: gunicorn's sync workers still answer the requests that the previous wrk run
    # left queued when it closed its connections, so this drains that backlog (and warms this endpoint). The
    # other server of the pair (Django or the baseline) is drained the same way through ``drain``.
    for url in drain:
        http_get(url, timeout=600)
    http_get(base + endpoint.path, endpoint.headers, timeout=600)
    with MemorySampler(server) as memory:
        output = subprocess.run(command, cwd=ROOT, text=True, capture_output=True, check=False)  # noqa: S603
    if output.returncode != 0:
        fail(f"wrk failed: {output.stderr.strip()}")
    line = next((ln for ln in output.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        fail(f"no WRK_JSON line in wrk's output:\n{output.stdout}")
        raise AssertionError  # unreachable
    report: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    seconds = report["duration_us"] / 1e6
    statuses = {str(code): int(n) for code, n in sorted(report["statuses"].items())}
    socket_errors = {key: int(n) for key, n in report["errors"].items() if key != "status"}
    unexpected = sum(n for code, n in statuses.items() if int(code) != endpoint.expected_status)
    unexpected += sum(socket_errors.values())
    latency = {key: round(value / 1000, 2) for key, value in report["latency_us"].items()}
    return Result(
        name=endpoint.name,
        path=endpoint.path,
        requests=int(report["requests"]),
        requests_per_second=round(report["requests"] / seconds, 1) if seconds else 0.0,
        latency_ms=latency,
        statuses=statuses,
        socket_errors=socket_errors,
        unexpected=unexpected,
        mb_per_second=round(report["bytes"] / seconds / 1e6, 2) if seconds else 0.0,
        peak_worker_rss_mb=round(memory.peak, 1) if server is not None else None,
    )


def export_time(base: str, path: str, server: subprocess.Popen[bytes] | None = None) -> dict[str, Any]:
    """One full CSV download, timed by curl: rows (without the header), rows and bytes per second, the time to the
    first byte, and how much the serving worker's memory grew while it streamed."""
    url = base + path
    curl = shutil.which("curl")
    if curl is None:
        fail("curl is not installed (apt-get install -y curl)")
        raise AssertionError  # unreachable
    with tempfile.NamedTemporaryFile(suffix=".csv") as body_file, MemorySampler(server) as memory:
        command = [curl, "-sS", "--fail", "-o", body_file.name, "-w", "%{time_starttransfer} %{time_total}", url]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            fail(f"curl {path} failed: {completed.stderr}")
        first_byte, seconds = (float(value) for value in completed.stdout.split())
        body = Path(body_file.name).read_bytes()
    rows = max(len(csv_rows(body)) - 1, 0)  # Django ends lines with CRLF, COPY with LF
    return {
        "path": path,
        "client": "curl",
        "rows": rows,
        "bytes": len(body),
        "seconds": round(seconds, 3),
        "time_to_first_byte_ms": round(first_byte * 1000, 1),
        "rows_per_second": round(rows / seconds, 1) if seconds else 0.0,
        "mb_per_second": round(len(body) / seconds / 1e6, 2) if seconds else 0.0,
        "worker_memory_growth_mb": memory.growth_mb if server is not None else None,
        "peak_worker_rss_mb": round(memory.peak, 1) if server is not None else None,
    }


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def json_differences(django: Any, baseline: Any, where: str = "") -> list[str]:
    """Where two parsed JSON values differ (key order included), as "path: django != baseline" lines."""
    if type(django) is not type(baseline):
        return [f"{where or '.'}: {django!r:.80} != {baseline!r:.80}"]
    if isinstance(django, dict):
        found = [] if list(django) == list(baseline) else [f"{where or '.'}: keys {list(django)} != {list(baseline)}"]
        for key in django.keys() & baseline.keys():
            found += json_differences(django[key], baseline[key], f"{where}.{key}")
        return found
    if isinstance(django, list):
        found = [] if len(django) == len(baseline) else [f"{where}: {len(django)} items != {len(baseline)}"]
        for index, (one, other) in enumerate(zip(django, baseline, strict=False)):
            found += json_differences(one, other, f"{where}[{index}]")
        return found
    return [] if django == baseline else [f"{where or '.'}: {django!r:.80} != {baseline!r:.80}"]


def same_time(one: str, other: str) -> bool:
    try:
        return datetime.fromisoformat(one) == datetime.fromisoformat(other)
    except ValueError:
        return False


def csv_differences(django: bytes, baseline: bytes) -> list[str]:
    """Cell by cell, but for the known differences of format: the timestamp is written differently (compared as
    a time), the permalink points to each app's own address (compared by slug), and the baseline does not
    neutralise formulas (a cell starting with = + - @ is prefixed with ' by Django only)."""
    found: list[str] = []
    ours, theirs = csv_rows(django), csv_rows(baseline)
    if len(ours) != len(theirs):
        found.append(f"CSV: {len(ours) - 1} rows != {len(theirs) - 1}")
    header = ours[0] if ours else []
    empty: list[str] = []
    for number, (one, other) in enumerate(zip_longest(ours, theirs, fillvalue=empty), start=1):
        slug = one[0] if one and other and one[0] == other[0] else None
        for column, mine, its in zip_longest(header, one, other, fillvalue=""):
            same = mine == its or (mine.startswith("'") and mine[1:] == its and its.startswith(("=", "+", "-", "@")))
            if number > 1 and column == "updated_at":
                same = same_time(mine, its)
            elif number > 1 and column == "permalink":
                same = slug is not None and mine.endswith(f"/{slug}/") and its.endswith(f"/{slug}/")
            if not same:
                found.append(f"CSV row {number} {column}: {mine!r:.60} != {its!r:.60}")
    return found


def baseline_check(base: str, baseline_base: str, endpoints: list[Endpoint]) -> dict[str, list[str]]:
    """Both apps' answers to each request that has a baseline, compared parsed: the whole detail, the results of a
    list (not the next link), the cells of the CSV export. The hello endpoints differ by design."""
    differences: dict[str, list[str]] = {}
    for endpoint in endpoints:
        if endpoint.baseline is None or endpoint.path == HELLO:
            continue
        django_status, _, django = http_get(base + endpoint.path, timeout=600)
        baseline_status, _, baseline = http_get(baseline_base + endpoint.baseline, timeout=600)
        if (django_status, baseline_status) != (200, 200):
            differences[endpoint.name] = [f"status {django_status} != {baseline_status}"]
        elif endpoint.baseline.startswith("/export.csv"):
            differences[endpoint.name] = csv_differences(django, baseline)
        else:
            ours, theirs = json.loads(django), json.loads(baseline)
            if "results" in ours and isinstance(theirs, dict):
                ours, theirs = ours["results"], theirs.get("results")
            differences[endpoint.name] = json_differences(ours, theirs)
    return differences


DEEP_SLUG_CODE = """
from partnerships.models import Partnership
slugs = Partnership.objects.public().order_by("slug").values_list("slug", flat=True)
total = slugs.count()
print(slugs[total // 2] if total else "")
"""

ADMIN_SESSION_CODE = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import get_user_model
from geography.models import Region

user, _ = get_user_model().objects.get_or_create(
    username="bench-editor", defaults={"is_staff": True, "is_superuser": True}
)
session = import_module(settings.SESSION_ENGINE).SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
regions = dict(Region.objects.values_list("slug", "id"))
print(json.dumps({"cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "regions": regions}))
"""


def admin_session(python: str, env: dict[str, str]) -> dict[str, Any]:
    """A logged-in editor's session cookie (a superuser made for the benchmark) and the regions' ids."""
    data: dict[str, Any] = json.loads(django_eval(python, env, ADMIN_SESSION_CODE).splitlines()[-1])
    return data


def admin_time(
    base: str, admin: dict[str, Any], *, search: str, region: str, requests: int = 20
) -> list[dict[str, Any]]:
    """The admin changelist of partnerships as an editor opens it: plain, with a search, with a search and a
    filter. Sequential requests (one at a time): the time an editor waits, p50 and p95."""
    changelist = "/admin/partnerships/partnership/"
    region_id = admin["regions"][region]
    cases = [
        ("changelist", changelist),
        ("changelist, search", f"{changelist}?q={urllib.parse.quote(search)}"),
        ("changelist, search and filter", f"{changelist}?q={urllib.parse.quote(search)}&region__id__exact={region_id}"),
        ("changelist, filter", f"{changelist}?region__id__exact={region_id}&status__exact=active"),
    ]
    results = []
    for name, path in cases:
        times = []
        for _ in range(requests + 1):
            started = time.perf_counter()
            status, _, body = http_get(base + path, {"Cookie": admin["cookie"]}, timeout=600)
            times.append((time.perf_counter() - started) * 1000)
            if status != 200 or b'id="changelist"' not in body:
                fail(f"admin {path} answered {status}, not the changelist")
        times = sorted(times[1:])  # the first request warms the worker
        results.append(
            {
                "name": name,
                "path": path,
                "requests": requests,
                "p50_ms": round(times[len(times) // 2], 1),
                "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
                "max_ms": round(times[-1], 1),
            }
        )
    return results


QUERIES_CODE = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
client = Client(HTTP_HOST="127.0.0.1")


def fetch(path, headers):
    response = client.get(path, headers=headers)
    if response.streaming:
        b"".join(response.streaming_content)  # an export queries while it streams
    return response.status_code


counts = {}
for name, path, headers, expected in json.loads(SPEC):
    fetch(path, headers)  # warm: caches filled, first-use work done, as under load
    with CaptureQueriesContext(connection) as queries:
        status = fetch(path, headers)
    statements = [query["sql"] for query in queries.captured_queries]
    counts[name] = sum(1 for sql in statements if not sql.startswith(CONTROL)) if status == expected else None
print(json.dumps(counts))
"""


def queries_count(python: str, env: dict[str, str], endpoints: list[Endpoint]) -> dict[str, int | None]:
    """SQL statements of one request to each endpoint (after one warm-up request), in-process with Django's test
    client and the server's settings; transaction control (BEGIN, COMMIT, savepoints) is not counted."""
    spec = json.dumps([[e.name, e.path, e.headers, e.expected_status] for e in endpoints])
    output = django_eval(python, env, f"SPEC = {spec!r}\n{QUERIES_CODE}")
    counts: dict[str, int | None] = json.loads(output.splitlines()[-1])
    return counts


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_describe(python: str, env: dict[str, str]) -> dict[str, Any]:
    versions = json.loads(
        django_eval(
            python,
            env,
            "import json, platform, django, rest_framework, gunicorn\n"
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SHOW server_version')\n"
            "    pg = c.fetchone()[0]\n"
            "print(json.dumps({'python': platform.python_version(), 'django': django.get_version(), "
            "'djangorestframework': rest_framework.VERSION, 'gunicorn': gunicorn.__version__, 'postgresql': pg}))",
        )
    )
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0].strip(),
        **versions,
    }


def table_row(name: str, r: Result) -> str:
    statuses = ", ".join(f"{code}:{n}" for code, n in r.statuses.items())
    lat = r.latency_ms
    queries = "" if r.queries_per_request is None else str(r.queries_per_request)
    ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
    memory = "" if r.peak_worker_rss_mb is None else f"{r.peak_worker_rss_mb:.0f}"
    return (
        f"{name:<34}{r.requests_per_second:>9.1f}{lat['p50']:>9.1f}{lat['p95']:>9.1f}{lat['p99']:>9.1f}"
        f"{r.mb_per_second:>8.2f}{queries:>9}{memory:>8}{ratio:>7}  {r.unexpected} ({statuses})"
    )


def table_format(results: list[Result]) -> str:
    """One row per Django endpoint, each followed by its raw baseline's row when it has one."""
    header = (
        f"{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'MB/s':>8}{'queries':>9}{'RSS MB':>8}"
        f"{'ratio':>7}"
        "  errors/unexpected"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(table_row(r.name, r))
        if r.baseline is not None:
            lines.append(table_row("  raw baseline", r.baseline))
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--partnerships",
        "--size",
        type=size_parse,
        default=10000,
        help="Synthetic partnerships: 10000, 10k, 100k or 1m (default 10k).",
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic data (default 1).")
    parser.add_argument("--skip-load", action="store_true", help="Use the data already in the database.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2).")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16).")
    parser.add_argument("--duration", default="10s", help="wrk duration per endpoint (default 10s).")
    parser.add_argument("--python", default=default_python(), help="The project's Python (default .venv).")
    parser.add_argument(
        "--only", choices=["all", "api", "pages"], default="all", help="Drive the API, the HTML pages, or both."
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="Do not serve or drive the raw baseline (bench/baseline_app.py)."
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help='Leave out an endpoint by its name in the table (repeatable), e.g. --skip "search common" at 1m, where '
        "one ranked search of 900k matches outlasts the statement timeout.",
    )
    parser.add_argument(
        "--no-response-cache",
        action="store_true",
        help="Serve every API request uncached (REGISTRY_API_CACHE_SECONDS=0): the cost of a cache miss.",
    )
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/api-<partnerships>.json).")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        fail("wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk")
    python = args.python
    database_url = os.environ.get("DATABASE_URL", "") or embedded_database_url(python)
    redis_url = os.environ.get("REDIS_URL", "") or local_redis_url()
    env = server_env(database_url, redis_url=redis_url, response_cache=not args.no_response_cache)
    log(f"Database {redacted(database_url)}; cache {redis_url or 'the database cache table (no Redis found)'}")
    database_create_if_missing(python, env, database_url)
    if not args.skip_load:
        data_load(python, env, partnerships=args.partnerships, seed=args.seed)
    vacuum_analyze(python, env)
    # Production settings serve static files from the collected, hashed copies (whitenoise's manifest).
    run([python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env)
    machine = machine_describe(python, env)
    deep_slug = django_eval(python, env, DEEP_SLUG_CODE).splitlines()[-1].strip()
    admin = admin_session(python, env)
    load_before = os.getloadavg()
    port = free_port()
    server = gunicorn_start(python, env, port=port, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    baseline_server: subprocess.Popen[bytes] | None = None
    baseline_base = ""
    try:
        endpoints, chosen = endpoints_choose(base, args.only, deep_slug=deep_slug, skip=args.skip)
        unknown = set(args.skip) - {e.name for e in endpoints}
        if unknown:
            fail(f"--skip: no endpoint named {', '.join(sorted(unknown))}")
        endpoints = [e for e in endpoints if e.name not in args.skip]
        log(
            f"{chosen['total_partnerships']:,} partnerships; filtered list: {chosen['filtered_count']:,}; "
            f"search {chosen['search_selective']!r}: {chosen['search_selective_count']:,}, "
            f"{chosen['search_common']!r}: {chosen['search_common_count'] or 'not counted'}"
        )
        if not args.no_baseline and any(e.baseline for e in endpoints):
            baseline_port = free_port()
            baseline_server = gunicorn_start(
                python, env, port=baseline_port, workers=args.workers, app=BASELINE_APP, cwd=BENCH, probe="/hello"
            )
            baseline_base = f"http://127.0.0.1:{baseline_port}"
            differences = baseline_check(base, baseline_base, endpoints)
            if any(differences.values()):
                listing = "\n".join(f"  {name}: {line}" for name, lines in differences.items() for line in lines[:10])
                fail(f"the raw baseline does not serve the same data as the API:\n{listing}")
            log(f"Baseline check: same data as the API for {', '.join(differences)}")
        else:
            differences = {}
        log("SQL queries per request (in-process, one warm request each)")
        queries = queries_count(python, env, endpoints)
        results: list[Result] = []
        load = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
        drive = partial(wrk_run, threads=args.threads, connections=args.connections, duration=args.duration)
        partner: dict[str, subprocess.Popen[bytes] | None] = {base: server, baseline_base: baseline_server}
        for endpoint in endpoints:
            # Each Django run then its baseline's, interleaved, so that a change in the machine's load hits both.
            # Before a run, the other server is drained too (a cheap request waits behind its backlog).
            drain_baseline = (f"{baseline_base}/hello",) if baseline_base else ()
            result = drive(base, endpoint, drain=drain_baseline, server=server)
            result.queries_per_request = queries.get(endpoint.name)
            if baseline_base and endpoint.baseline:
                twin = Endpoint(f"{endpoint.name} (raw baseline)", endpoint.baseline)
                result.baseline = drive(baseline_base, twin, drain=(base + HELLO,), server=partner[baseline_base])
                if result.baseline.requests_per_second:
                    result.ratio = round(result.requests_per_second / result.baseline.requests_per_second, 3)
            results.append(result)
        export_query = chosen["export_query"]
        log(f"Timed CSV export (one request): {chosen['export_count']:,} rows")
        export = export_time(
            base, f"{API}/partnerships/?format=csv" + (f"&{export_query}" if export_query else ""), server
        )
        if baseline_base:
            export["baseline"] = export_time(baseline_base, f"/export.csv?{export_query}", baseline_server)
            if export["baseline"]["rows_per_second"]:
                export["rows_per_second_ratio"] = round(
                    export["rows_per_second"] / export["baseline"]["rows_per_second"], 3
                )
        log("Admin changelist of partnerships (an editor's session), 20 requests each")
        admin_results = admin_time(base, admin, search=chosen["search_selective"], region=chosen["region"])
    finally:
        server_stop(server)
        server_stop(baseline_server)
    load_after = os.getloadavg()
    print()
    print(f"API benchmark: {chosen['total_partnerships']:,} partnerships, {args.workers} gunicorn sync workers, ")
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration} over loopback")
    print()
    print(table_format(results))
    print()
    print(
        "queries: SQL statements of one request, in-process (transaction control not counted). ratio: Django req/s "
        "/ raw baseline req/s."
        if baseline_base
        else "queries: SQL statements of one request, in-process (transaction control not counted). No baseline."
    )
    print(
        "RSS MB: the largest resident memory of one gunicorn worker during the run. "
        f"Response cache: {'off' if args.no_response_cache else 'on'} (REGISTRY_API_CACHE_SECONDS)."
    )
    print()
    print(
        f"CSV export, one request: {export['rows']:,} rows, {export['bytes'] / 1e6:.2f} MB in {export['seconds']} s "
        f"= {export['rows_per_second']:,.0f} rows/s, {export['mb_per_second']} MB/s; first byte after "
        f"{export['time_to_first_byte_ms']:.0f} ms; worker memory grew {export['worker_memory_growth_mb']} MB"
    )
    if "baseline" in export:
        copy = export["baseline"]
        print(
            f"COPY baseline, one request: {copy['rows']:,} rows, {copy['bytes'] / 1e6:.2f} MB in {copy['seconds']} s "
            f"= {copy['rows_per_second']:,.0f} rows/s, {copy['mb_per_second']} MB/s; first byte after "
            f"{copy['time_to_first_byte_ms']:.0f} ms; ratio {export.get('rows_per_second_ratio', 0):.2f}"
        )
    print()
    print(f"Admin changelist of partnerships (logged-in editor, {admin_results[0]['requests']} requests one by one):")
    for row in admin_results:
        print(
            f"  {row['name']:<32} p50 {row['p50_ms']:>7.1f} ms  p95 {row['p95_ms']:>7.1f} ms"
            f"  max {row['max_ms']:>7.1f} ms"
        )
    print(f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    suffix = "-uncached" if args.no_response_cache else ""
    output = args.output or BENCH / "results" / f"bench-{size_label(args.partnerships)}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "partnerships": args.partnerships,
        "seed": args.seed,
        "server": {
            "gunicorn_workers": args.workers,
            "worker_class": "sync",
            "config": "gunicorn.conf.py",
            "debug": False,
            "throttle": None,
            "response_cache": not args.no_response_cache,
            "cache": "redis" if env.get("REDIS_URL") else "database",
        },
        "baseline": {
            "app": "bench/baseline_app.py",
            "gunicorn_workers": args.workers,
            "worker_class": "sync",
            "hello": {"django": HELLO, "baseline": "/hello"},
            "checked_same_data": sorted(differences),
        }
        if baseline_base
        else None,
        "wrk": load,
        "machine": machine,
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "parameters": {key: value for key, value in chosen.items() if key != "etag"},
        "skipped": args.skip,
        "results": [asdict(r) for r in results],
        "csv_export": export,
        "admin_changelist": admin_results,
    }
    output.write_text(json.dumps(document, indent=2) + "\n")
    log(f"Wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
