"""Opening the PostgreSQL database named by DATABASE_URL."""

from __future__ import annotations

import select
import threading
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from psycopg2.extensions import TRANSACTION_STATUS_IDLE as _PG_IDLE

from server.errors import ConfigurationError

# Models bind to this proxy; `open_database` points it at the real database once, at start.
database_proxy = peewee.DatabaseProxy()

_PG_TYPES = {"MONEY": "NUMERIC", "INSTANT": "TIMESTAMPTZ"}


_opened: dict[str, peewee.Database] = {}
_opened_lock = threading.Lock()


def open_database(url: str) -> peewee.Database:
    """The process's one database object for the URL, unconnected (each thread opens its own
    connection on use). One object per URL matters: the models reach the database through a shared
    proxy, so a second object bound later (the gateway beside the service in `hedging up`) would send
    the service's model queries over another connection than its transaction's, outside it."""
    with _opened_lock:
        database = _opened.get(url)
        if database is None:
            database = _opened[url] = _new_database(url)
        return database


def _new_database(url: str) -> peewee.Database:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        # The URL may carry a password: name the scheme only.
        raise ConfigurationError(
            f"DATABASE_URL must be a PostgreSQL URL (postgresql://user@host:5432/dbname), not {parts.scheme}:"
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
        contexts = list(database._state.ctx)  # type: ignore[attr-defined]  # private, not in peewee-stubs
        database.close()
        try:
            database.connect()
        finally:
            database._state.ctx.extend(contexts)  # type: ignore[attr-defined]  # private, not in peewee-stubs


def _usable(conn: Any) -> bool:
    if getattr(conn, "closed", 0):  # psycopg2: nonzero once it has seen the connection fail
        return False
    # Anything readable on an idle connection is the server's goodbye (nothing here LISTENs on these
    # connections); at worst a healthy one is replaced.
    idle = conn.get_transaction_status() == _PG_IDLE
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return idle and not poller.poll(0)


def write_transaction(database: peewee.Database) -> Any:
    """A transaction that will write (`database.atomic()`); nested, a savepoint of the outer one."""
    return database.atomic()
