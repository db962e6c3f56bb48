"""Fault test: Redis, the shared cache, is killed with SIGKILL under load, then restarted.

    .venv/bin/python bench/fault_redis.py           # about 3 minutes; writes bench/results/fault-redis.json

The same run as bench/fault_postgres.py (a PostgreSQL 15 cluster of its own, the shipped data plus 2000 synthetic
partnerships, gunicorn with production settings, 60 s of wrk + a read probe + a writer), with REDIS_URL pointing at
a redis-server it starts on a free loopback port (``--save '' --appendonly no``: nothing persisted, as a cache).
The anonymous throttle is on (a rate never reached), so that it counts in Redis too. At 20 s redis-server gets
SIGKILL; 5 s later it is started again, empty. The cache (registry/cache.py) turns every Redis call into a miss
while Redis is unreachable: the registry serves from the database. See bench/fault_common.py.

Requirements (the exit status is 1 when one fails):
- every read answers 200 and every write 201 before, during and after the outage; no socket error;
- every acknowledged write is in the database (acknowledged writes lost: 0);
- the cache was in use before the fault (Redis held keys) and is in use again after the restart (time to recover:
  restart to the first key written again).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_common import (  # the bench folder is not a package: imported from the path above
    PHASES,
    Fault,
    FaultTestError,
    Gunicorn,
    PostgresCluster,
    Requirement,
    arguments,
    finish,
    free_port,
    load_run,
    log,
    machine,
    main_guarded,
    phase_errors,
    registry_prepare,
    server_env,
    summarise,
    tools_check,
    workspace,
    writes_check,
)

# Counted in Redis like the default "600/minute", but never reached: wrk would otherwise measure 429s.
THROTTLE_RATE = "1000000/second"


def redis_command(port: int, *words: str) -> str:
    """One Redis command over RESP; its first reply line ("+PONG", ":12"). Raises OSError when Redis is down."""
    payload = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        connection.sendall(payload.encode())
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode().split("\r\n", 1)[0]


def redis_keys(port: int) -> int:
    reply = redis_command(port, "DBSIZE")
    return int(reply.lstrip(":")) if reply.startswith(":") else -1


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, persisting nothing (a cache)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FaultTestError("redis-server is not installed. On Debian/Ubuntu: apt-get install -y redis-server")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.logfile = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and return once it answers PING."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory), "--logfile", str(self.logfile)]
        self.process = subprocess.Popen(command, cwd=self.directory)  # noqa: S603 (fixed arguments)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FaultTestError(f"redis-server exited ({self.process.returncode}); see {self.logfile}")
            try:
                if redis_command(self.port, "PING") == "+PONG":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise FaultTestError("redis-server did not answer PING within 30 s")

    def kill(self) -> int:
        if self.process is None:
            raise FaultTestError("redis-server is not running")
        pid = self.process.pid
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        return pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class RedisKill(Fault):
    """SIGKILL to redis-server; the restart starts an empty one on the same port. Records how many keys it held
    before the kill and when the registry first wrote a key again after the restart."""

    name = "Redis"

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.keys_before = 0
        self.first_key_at: float | None = None
        self.watching = threading.Event()

    def inject(self) -> str:
        self.keys_before = redis_keys(self.server.port)
        pid = self.server.kill()
        return f"SIGKILL to redis-server (pid {pid}), which held {self.keys_before} keys"

    def restore(self) -> None:
        self.server.start()
        threading.Thread(target=self.watch, name="redis keys", daemon=True).start()

    def watch(self) -> None:
        """Poll DBSIZE until the registry writes a key again (or the run ends)."""
        deadline = time.monotonic() + 120
        while not self.watching.is_set() and time.monotonic() < deadline:
            try:
                if redis_keys(self.server.port) > 0:
                    self.first_key_at = time.time()
                    return
            except OSError:
                pass
            time.sleep(0.05)


def requirements_check(document: dict) -> list[Requirement]:
    phases = document["phases"]
    socket_errors = sum(document["wrk_socket_errors"].values())
    errors = {phase: phase_errors(document, phase) for phase in PHASES}
    statuses = {s for phase in PHASES for client in phases[phase].values() for s in client["statuses"]}
    outage_reads = phases["outage"]["wrk"]["requests"] + phases["outage"]["read_probe"]["requests"]
    writes = document["writes"]
    cache = document["cache"]
    return [
        Requirement(
            "reads answer 200 and writes 201 throughout (before, during and after the outage), no socket error",
            sum(errors.values()) == 0 and socket_errors == 0 and outage_reads > 0,
            f"errors by phase {errors}, statuses {sorted(statuses)}, {socket_errors} socket errors, "
            f"{outage_reads} reads during the outage",
        ),
        Requirement(
            "every acknowledged write is in the database (acknowledged writes lost: 0)",
            writes["acknowledged_lost"] == 0 and writes["acknowledged"] > 0,
            f"{writes['acknowledged']} acknowledged, {writes['acknowledged_lost']} lost",
        ),
        Requirement(
            "the cache was in use before the fault and is in use again after the restart",
            cache["keys_before_fault"] > 0 and cache["first_key_after_restart_s"] is not None,
            f"{cache['keys_before_fault']} keys before; first key again {cache['first_key_after_restart_s']} s "
            "after the restart",
        ),
    ]


def main() -> int:
    config = arguments(__doc__ or "", name="redis")
    tools_check()
    with workspace(config) as workdir:
        cluster = PostgresCluster(workdir / "postgres")
        redis = RedisServer(workdir)
        server: Gunicorn | None = None
        fault = RedisKill(redis)
        try:
            cluster.create()
            redis.start()
            log(f"redis-server on 127.0.0.1:{redis.port}")
            env = server_env(cluster.url, redis_url=redis.url, anon_rate=THROTTLE_RATE)
            setup = registry_prepare(config.python, env, partnerships=config.partnerships)
            cluster.checkpoint()
            server = Gunicorn(config.python, env, workers=config.workers, logfile=workdir / "gunicorn.log")
            prefix = f"fault-redis-{os.urandom(3).hex()}-"
            timeline, report, probe, writer = load_run(
                config, base=server.base, fault=fault, setup=setup, prefix=prefix, workdir=workdir
            )
            fault.watching.set()
            acknowledged = writer.acknowledged()
            log(f"Looking up the {len(acknowledged)} acknowledged writes")
            writes = writes_check(config.python, env, acknowledged=acknowledged, prefix=prefix, workdir=workdir)
            keys_at_end = redis_keys(redis.port)
            gunicorn_log = server.log_counts()
            postgres_version = cluster.server_version()
        finally:
            if server is not None:
                server.stop()
            redis.stop()
            cluster.destroy()
    first_key = None if fault.first_key_at is None else round(fault.first_key_at - timeline.restart, 2)
    cache = {
        "keys_before_fault": fault.keys_before,
        "keys_at_end": keys_at_end,
        "first_key_after_restart_s": first_key,
        "throttle_rate": THROTTLE_RATE,
    }
    document = summarise(
        config,
        timeline=timeline,
        report=report,
        probe=probe,
        writer=writer,
        writes=writes,
        acknowledged=acknowledged,
        gunicorn_log=gunicorn_log,
        extra={"cache": cache, "machine": {**machine(), "postgresql": postgres_version}},
    )
    document["notes"] = {
        "cache": f"{fault.keys_before} keys in Redis before the kill, first key written again {first_key} s after "
        f"the restart, {keys_at_end} keys at the end"
    }
    return finish(config, document, requirements_check(document))


if __name__ == "__main__":
    main_guarded(main)
