"""Benchmark of the public JSON API and the HTML pages: synthetic data, gunicorn with production settings, wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench .venv/bin/python bench/api_bench.py \\
        --partnerships 10000

Steps: create the database if it is missing, ``migrate``, ``createcachetable``, ``generate_synthetic
--partnerships N --seed S --replace`` (skipped with ``--skip-load``), ``VACUUM ANALYZE``; serve the app with
gunicorn (DEBUG off, no throttle, sync workers, 127.0.0.1 on a free port); drive each endpoint with wrk
(``bench/wrk_report.lua`` adds p95 and per-status counts); time one full CSV export; print a table and write
``bench/results/api-<N>.json``. See bench/README.md. Standard library only (plus subprocess): it runs the
project's own Python (``--python``, default ``.venv/bin/python``) for Django commands.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA_REPORT = BENCH / "wrk_report.lua"
API = "/api/v1"
REPLACE = ["--replace"]  # synthetic data of an earlier run is deleted first


@dataclass
class Endpoint:
    name: str
    path: str
    expected_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


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


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def fail(message: str) -> None:
    print(f"api_bench: {message}", file=sys.stderr)
    raise SystemExit(1)


def default_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def server_env(database_url: str) -> dict[str, str]:
    """Production-ish settings: DEBUG off, HTTP on loopback, no anonymous throttle."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
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


def gunicorn_start(python: str, env: dict[str, str], *, port: int, workers: int) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(python).parent / "gunicorn")
    if not Path(gunicorn).exists():
        fail(f"gunicorn not found next to {python}: install requirements.txt (make install)")
    command = [gunicorn, "registry.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "sync", "--timeout", "120", "--log-level", "warning"]
    log(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}")
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (the venv's gunicorn, fixed arguments)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"gunicorn exited with status {server.returncode}")
        try:
            status, _, _ = http_get(f"http://127.0.0.1:{port}{API}/partnerships/?page_size=1", timeout=10)
        except OSError:
            time.sleep(0.3)
            continue
        if status != 200:
            server.terminate()
            fail(f"the API answered {status} to a first request")
        return server
    server.terminate()
    fail("gunicorn did not answer within 60 s")
    raise AssertionError  # unreachable


def api_json(base: str, path: str) -> dict[str, Any]:
    status, _, body = http_get(base + path)
    if status != 200:
        fail(f"GET {path} answered {status}: {body[:300]!r}")
    data: dict[str, Any] = json.loads(body)
    return data


def count_of(base: str, path: str) -> int:
    separator = "&" if "?" in path else "?"
    return int(api_json(base, f"{path}{separator}count=true&page_size=1").get("count") or 0)


def endpoints_choose(base: str, only: str = "all") -> tuple[list[Endpoint], dict[str, Any]]:
    """The endpoints to drive, with parameters taken from the loaded data (so that every one finds rows)."""
    partnerships = f"{API}/partnerships/"
    first = api_json(base, f"{partnerships}?page_size=1")["results"][0]
    slug = first["slug"]
    # The region with the most partnerships, then the filters narrowed to keep a realistic, non-empty result.
    regions = [row["slug"] for row in api_json(base, f"{API}/regions/?page_size=100")["results"]]
    region = max(regions, key=lambda r: count_of(base, f"{partnerships}?region={r}"))
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
        "search_common_count": count_of(base, f"{partnerships}?q={common}"),
        "total_partnerships": count_of(base, partnerships),
        "etag": etag,
    }
    endpoints = [
        Endpoint("list", f"{partnerships}?page_size=50"),
        Endpoint("filtered list (3 filters)", f"{partnerships}?page_size=50&{filtered}"),
        Endpoint("search selective", f"{partnerships}?page_size=50&q={urllib.parse.quote(selective)}"),
        Endpoint("search common", f"{partnerships}?page_size=50&q={common}"),
        Endpoint("detail", f"{partnerships}{slug}/"),
        Endpoint("CSV export (filtered)", f"{partnerships}?format=csv&{filtered}"),
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


def wrk_run(base: str, endpoint: Endpoint, *, threads: int, connections: int, duration: str) -> Result:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "--timeout", "60s"]
    command += ["-s", str(LUA_REPORT)]
    for name, value in endpoint.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base + endpoint.path)
    log(f"wrk {endpoint.name}: {endpoint.path}")
    # One request first, waited for: gunicorn's sync workers still answer the requests that the previous wrk run
    # left queued when it closed its connections, so this drains that backlog (and warms this endpoint).
    http_get(base + endpoint.path, endpoint.headers, timeout=600)
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
    )


def export_time(base: str, path: str) -> dict[str, Any]:
    """One full CSV download, timed: rows (without the header) and bytes per second."""
    url = base + path
    curl = shutil.which("curl")
    started = time.monotonic()
    if curl:
        completed = subprocess.run([curl, "-sS", "--fail", url], capture_output=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            fail(f"curl {path} failed: {completed.stderr.decode(errors='replace')}")
        body = completed.stdout
    else:
        status, _, body = http_get(url, timeout=600)
        if status != 200:
            fail(f"GET {path} answered {status}")
    seconds = time.monotonic() - started
    rows = max(body.count(b"\r\n") - 1, 0)
    return {
        "path": path,
        "client": "curl" if curl else "urllib",
        "rows": rows,
        "bytes": len(body),
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1),
        "mb_per_second": round(len(body) / seconds / 1e6, 2),
    }


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


def table_format(results: list[Result]) -> str:
    header = f"{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'MB/s':>8}  errors/unexpected"
    lines = [header, "-" * len(header)]
    for r in results:
        statuses = ", ".join(f"{code}:{n}" for code, n in r.statuses.items())
        lat = r.latency_ms
        lines.append(
            f"{r.name:<34}{r.requests_per_second:>9.1f}{lat['p50']:>9.1f}{lat['p95']:>9.1f}{lat['p99']:>9.1f}"
            f"{r.mb_per_second:>8.2f}  {r.unexpected} ({statuses})"
        )
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partnerships", type=int, default=10000, help="Synthetic partnerships (default 10000).")
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
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/api-<partnerships>.json).")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        fail("wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        fail("set DATABASE_URL to a database of its own, e.g. postgres://postgres@127.0.0.1:5432/registry_bench")
    env = server_env(database_url)
    python = args.python
    database_create_if_missing(python, env, database_url)
    if not args.skip_load:
        data_load(python, env, partnerships=args.partnerships, seed=args.seed)
    vacuum_analyze(python, env)
    machine = machine_describe(python, env)
    load_before = os.getloadavg()
    port = free_port()
    server = gunicorn_start(python, env, port=port, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        endpoints, chosen = endpoints_choose(base, args.only)
        log(
            f"{chosen['total_partnerships']:,} partnerships; filtered list: {chosen['filtered_count']:,}; "
            f"search {chosen['search_selective']!r}: {chosen['search_selective_count']:,}, "
            f"{chosen['search_common']!r}: {chosen['search_common_count']:,}"
        )
        results = [
            wrk_run(base, e, threads=args.threads, connections=args.connections, duration=args.duration)
            for e in endpoints
        ]
        log("Timed CSV export (one request)")
        export = export_time(base, f"{API}/partnerships/?format=csv&{chosen['filtered_query']}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    load_after = os.getloadavg()
    print()
    print(f"API benchmark: {chosen['total_partnerships']:,} partnerships, {args.workers} gunicorn sync workers, ")
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration} over loopback")
    print()
    print(table_format(results))
    print()
    print(
        f"CSV export, one request: {export['rows']:,} rows, {export['bytes'] / 1e6:.2f} MB in {export['seconds']} s "
        f"= {export['rows_per_second']:,.0f} rows/s, {export['mb_per_second']} MB/s"
    )
    print(f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    output = args.output or BENCH / "results" / f"api-{args.partnerships}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "partnerships": args.partnerships,
        "seed": args.seed,
        "server": {"gunicorn_workers": args.workers, "worker_class": "sync", "debug": False, "throttle": None},
        "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.duration},
        "machine": machine,
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "parameters": {key: value for key, value in chosen.items() if key != "etag"},
        "results": [asdict(r) for r in results],
        "csv_export": export,
    }
    output.write_text(json.dumps(document, indent=2) + "\n")
    log(f"Wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
