"""Fault test: PostgreSQL is killed with SIGKILL under load, then restarted.

    .venv/bin/python bench/fault_postgres.py        # about 3 minutes; writes bench/results/fault-postgres.json

A PostgreSQL 15 cluster of its own (temporary directory, free loopback port), the shipped data plus 2000 synthetic
partnerships, the registry under gunicorn with production settings. For 60 s: wrk reads the partnership list,
a probe reads it once every 50 ms, and a writer creates a partnership through the API every 50 ms, logging each
acknowledged (201) slug. At 20 s the postmaster and every server process get SIGKILL (no shutdown, no checkpoint:
a crash); 5 s later ``pg_ctl start`` restarts it (crash recovery from the WAL). See bench/fault_common.py.

Requirements (the exit status is 1 when one fails):
- every acknowledged write is in the database after the restart (acknowledged writes lost: 0);
- during the outage, every response that is not a success is a 503, and no probe or write sent during the outage
  takes longer than --fail-fast-seconds (1 s);
- no other error status (no 500) and no socket error at any time;
- 0 errors from --settle (10) s after PostgreSQL is back until the end;
- reads and writes succeed again after the restart (time to recover: restart to first 200 read and 201 write).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_common import (  # the bench folder is not a package: imported from the path above
    PHASES,
    Fault,
    Gunicorn,
    PostgresCluster,
    Requirement,
    arguments,
    finish,
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

OUTAGE_OK = {"200", "201", "503"}


class PostgresKill(Fault):
    name = "PostgreSQL"

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster

    def inject(self) -> str:
        pids = self.cluster.kill()
        return f"SIGKILL to the postmaster (pid {pids[0]}) and its {len(pids) - 1} processes"

    def restore(self) -> None:
        self.cluster.start()  # pg_ctl start -w: returns once crash recovery is over and it accepts connections


def requirements_check(document: dict, *, fail_fast_ms: float) -> list[Requirement]:
    phases = document["phases"]
    outage = phases["outage"]
    writes = document["writes"]
    recover = document["time_to_recover"]
    outage_statuses = {s for client in outage.values() for s in client["statuses"]}
    outage_503 = sum(client["statuses"].get("503", 0) for client in outage.values())
    sent_in_outage = document["outage_latency"]
    slowest = max((sent_in_outage[c]["max_ms"] or 0.0) for c in ("read_probe", "writer"))
    every_status = {s for phase in PHASES for client in phases[phase].values() for s in client["statuses"]}
    socket_errors = sum(document["wrk_socket_errors"].values())
    after_requests = sum(client["requests"] for client in phases["after"].values())
    return [
        Requirement(
            "every acknowledged write is in the database (acknowledged writes lost: 0)",
            writes["acknowledged_lost"] == 0 and writes["acknowledged"] > 0,
            f"{writes['acknowledged']} acknowledged, {writes['acknowledged_lost']} lost",
        ),
        Requirement(
            "requests during the outage fail with 503",
            outage_statuses <= OUTAGE_OK and outage_503 > 0,
            f"statuses {sorted(outage_statuses)}, {outage_503} responses 503",
        ),
        Requirement(
            f"requests during the outage fail fast (at most {fail_fast_ms:.0f} ms)",
            slowest <= fail_fast_ms,
            f"slowest probe or write sent during the outage {slowest:.1f} ms",
        ),
        Requirement(
            "no other error status and no socket error at any time",
            every_status <= OUTAGE_OK and socket_errors == 0,
            f"statuses {sorted(every_status)}, {socket_errors} socket errors",
        ),
        Requirement(
            f"0 errors from {document['settings']['settle_s']:.0f} s after PostgreSQL is back",
            phase_errors(document, "after") == 0 and after_requests > 0,
            f"{phase_errors(document, 'after')} errors in {after_requests} requests",
        ),
        Requirement(
            "reads and writes succeed again after the restart",
            recover["read_after_restart_s"] is not None and recover["write_after_restart_s"] is not None,
            f"first 200 read {recover['read_after_restart_s']} s, first 201 write {recover['write_after_restart_s']} s",
        ),
    ]


def main() -> int:
    config = arguments(__doc__ or "", name="postgres")
    tools_check()
    with workspace(config) as workdir:
        cluster = PostgresCluster(workdir / "postgres")
        server: Gunicorn | None = None
        try:
            cluster.create()
            env = server_env(cluster.url)
            setup = registry_prepare(config.python, env, partnerships=config.partnerships)
            cluster.checkpoint()
            server = Gunicorn(config.python, env, workers=config.workers, logfile=workdir / "gunicorn.log")
            prefix = f"fault-pg-{os.urandom(3).hex()}-"
            timeline, report, probe, writer = load_run(
                config, base=server.base, fault=PostgresKill(cluster), setup=setup, prefix=prefix, workdir=workdir
            )
            acknowledged = writer.acknowledged()
            log(f"Looking up the {len(acknowledged)} acknowledged writes")
            writes = writes_check(config.python, env, acknowledged=acknowledged, prefix=prefix, workdir=workdir)
            gunicorn_log = server.log_counts()
            postgres_version = cluster.server_version()
        finally:
            if server is not None:
                server.stop()
            cluster.destroy()
    document = summarise(
        config,
        timeline=timeline,
        report=report,
        probe=probe,
        writer=writer,
        writes=writes,
        acknowledged=acknowledged,
        gunicorn_log=gunicorn_log,
        extra={"machine": {**machine(), "postgresql": postgres_version}},
    )
    return finish(config, document, requirements_check(document, fail_fast_ms=config.fail_fast_seconds * 1000))


if __name__ == "__main__":
    main_guarded(main)
