"""Opening the database named by DATABASE_URL: PostgreSQL in production and tests, SQLite by default."""

from __future__ import annotations

import select
import threading
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from psycopg2.extensions import TRANSACTION_STATUS_IDLE as _PG_IDLE

# Models bind to this proxy; `open_database` points it at the real database once, at start.
database_proxy = peewee.DatabaseProxy()

_PG_TYPES = {"MONEY": "NUMERIC", "INSTANT": "TIMESTAMPTZ"}
_SQLITE_TYPES = {"MONEY": "TEXT", "INSTANT": "TEXT"}


_opened: dict[str, peewee.Database] = {}
_opened_lock = threading.Lock()


def open_database(url: str) -> peewee.Database:
    """The process's one database object for the URL, unconnected (each thread opens its own
    connection on use). One object per URL matters: the models reach the database through a shared
    proxy, so a second object bound later (the gateway beside the service in `hedging up`) would send
    the service's model queries over another connection than its transaction's, outside it (and on
    SQLite, into a lock the same thread holds)."""
    with _opened_lock:
        database = _opened.get(url)
        if database is None:
            database = _opened[url] = _new_database(url)
        return database


def _new_database(url: str) -> peewee.Database:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if parts.netloc:  # sqlite://relative/path
            path = parts.netloc + "/" + path
        return peewee.SqliteDatabase(
            path,
            field_types=_SQLITE_TYPES,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10_000,
                "synchronous": "normal",
            },
            check_same_thread=False,
        )
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    return peewee.PostgresqlDatabase(
        unquote(parts.path.lstrip("/")),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname or options.pop("host", None),
        port=parts.port or 5432,
        field_types=_PG_TYPES,
        options="-c timezone=UTC",
        **options,
    )


def is_sqlite(database: peewee.Database) -> bool:
    target = getattr(database, "obj", database)
    return isinstance(target, peewee.SqliteDatabase)


def bind(database: peewee.Database) -> peewee.Database:
    """Points the models' proxy at `database` and returns it."""
    database_proxy.initialize(database)
    return database


def open_connection(database: peewee.Database) -> None:
    """Opens the calling thread's connection, first dropping one that cannot serve: broken by an
    earlier error, or closed by the server while idle (a restart; its farewell waits unread on the
    socket, where psycopg2 does not look until the next statement fails on it). So a restart costs
    no request on a connection opened before it. Raises `peewee.OperationalError` when the database
    does not answer. Inside a transaction it does nothing: the transaction owns that connection."""
    if database.in_transaction():
        return
    if database.is_closed():
        database.connect()
    elif not _usable(database.connection()):
        # A `connection_context()` open on this thread stays open across the swap (Peewee's
        # `connect` forgets them, and leaving one would then fail).
        contexts = list(database._state.ctx)  # type: ignore[attr-defined]
        database.close()
        try:
            database.connect()
        finally:
            database._state.ctx.extend(contexts)  # type: ignore[attr-defined]


def _usable(conn: Any) -> bool:
    if getattr(conn, "closed", 0):  # psycopg2: nonzero once it has seen the connection fail
        return False
    fileno = getattr(conn, "fileno", None)
    if fileno is None:  # SQLite: no server to go away
        return True
    # Anything readable on an idle connection is the server's goodbye (nothing here LISTENs on these
    # connections); at worst a healthy one is replaced.
    idle = conn.get_transaction_status() == _PG_IDLE
    poller = select.poll()
    poller.register(fileno(), select.POLLIN)
    return idle and not poller.poll(0)


def write_transaction(database: peewee.Database) -> Any:
    """A transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE): a
    deferred one that reads first cannot upgrade while another connection writes, and fails at once
    instead of waiting out the busy timeout. Nested, it is a savepoint of the outer transaction."""
    return database.atomic("IMMEDIATE") if is_sqlite(database) else database.atomic()
