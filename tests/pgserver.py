"""PostgreSQL for the test suite: the one DATABASE_URL/PGHOST/PGPORT name if it answers, else
127.0.0.1:5432, else a throwaway server started from the local binaries (initdb, pg_ctl) in a
temporary directory on a free port, removed afterwards."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg2

INSTALL_HINT = (
    "No PostgreSQL server answers and no PostgreSQL server binaries (initdb, pg_ctl) were found to start a "
    "throwaway one. Install PostgreSQL 13 or newer, for example:\n"
    "  Debian/Ubuntu: sudo apt-get install postgresql\n"
    "  Fedora/RHEL:   sudo dnf install postgresql-server\n"
    "  macOS:         brew install postgresql@16\n"
    "or point DATABASE_URL at a PostgreSQL server you can create databases on."
)


class NoPostgres(RuntimeError):
    pass


def _answers(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.OperationalError:
        return False
    return True


def _candidates(env: dict[str, str]) -> list[str]:
    urls = []
    given = env.get("DATABASE_URL", "")
    if given.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(given)
        # Admin work (CREATE DATABASE) happens on the server's own "postgres" database.
        urls.append(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, "")))
    elif env.get("PGPORT") or env.get("PGHOST"):
        host = env.get("PGHOST", "127.0.0.1")
        urls.append(
            f"postgresql://{env.get('PGUSER', 'postgres')}@{host}:{env.get('PGPORT', '5432')}/postgres"
        )
    else:
        urls.append("postgresql://postgres@127.0.0.1:5432/postgres")
    return urls


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for path in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return path
    for path in sorted(glob.glob(f"/opt/homebrew/opt/postgresql*/bin/{name}"), reverse=True):
        return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_admin_url(env: dict[str, str] | None = None) -> Iterator[str]:
    """Yields a URL of a PostgreSQL database on which the suite may CREATE DATABASE."""
    env = dict(os.environ if env is None else env)
    for url in _candidates(env):
        if _answers(url):
            yield url
            return
    with local_postgres() as server:
        print(f"\n[tests] started a throwaway PostgreSQL at {server.url} ({server.workdir})")
        yield server.url


class LocalPostgres:
    """A PostgreSQL server of the suite's own in a temporary directory, on a fixed port while it
    lives: it can be stopped, started and restarted (`pg_ctl`) with its data kept, to test outages."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self._pg_ctl = pg_ctl
        self.workdir = tempfile.mkdtemp(prefix="hedging-pg-")
        self._data, sockets = os.path.join(self.workdir, "data"), os.path.join(self.workdir, "run")
        self._log = os.path.join(self.workdir, "log")
        os.makedirs(sockets)
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: hand the directory to an unprivileged account.
            user = "nobody"
            record = pwd.getpwnam(user)
            for path in (self.workdir, sockets):
                os.chown(path, record.pw_uid, record.pw_gid)
            self._as_user = (
                ["runuser", "-u", user, "--"]
                if shutil.which("runuser")
                else ["su", user, "-s", "/bin/sh", "-c"]
            )
        port = _free_port()
        self._options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        )
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self._run([initdb, "-D", self._data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])

    def _run(self, cmd: list[str]) -> None:
        full = self._as_user + ([shlex.join(cmd)] if self._as_user[:1] == ["su"] else cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.workdir)

    def _ctl(self, action: str, *args: str) -> None:
        # -l always: without it the server would inherit pg_ctl's output pipe and hold it open.
        self._run([self._pg_ctl, "-D", self._data, "-l", self._log, "-w", "-t", "60", *args, action])

    def start(self) -> None:
        """Starts the server and returns once it answers queries."""
        self._ctl("start", "-o", self._options)
        self.wait_until_answering()

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m mode` (smart, fast or immediate); returns once the server is down."""
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart -m mode`; returns once the server answers queries again."""
        self._ctl("restart", "-m", mode, "-o", self._options)
        self.wait_until_answering()

    def wait_until_answering(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not _answers(self.url):
            if time.monotonic() > deadline:
                raise NoPostgres(f"the throwaway PostgreSQL does not answer; see {self._log}")
            time.sleep(0.05)

    def remove(self) -> None:
        """Stops the server (if it runs) and deletes its directory."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def local_postgres() -> Iterator[LocalPostgres]:
    """A throwaway PostgreSQL started from the local binaries (initdb, pg_ctl), removed on leaving;
    raises `NoPostgres` when they are not installed."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise NoPostgres(INSTALL_HINT)
    server: LocalPostgres | None = None
    try:
        server = LocalPostgres(initdb, pg_ctl)
        server.start()
        yield server
    finally:
        if server is not None:
            server.remove()


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database named `prefix` plus a random suffix; yields its URL and drops it
    (closing any connection still open to it) on leaving."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(admin_url, name)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
