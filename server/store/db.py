"""Opening the database named by DATABASE_URL: PostgreSQL in production and tests, SQLite by default."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee

# Models bind to this proxy; `open_database` points it at the real database once, at start.
database_proxy = peewee.DatabaseProxy()

_PG_TYPES = {"MONEY": "NUMERIC", "INSTANT": "TIMESTAMPTZ"}
_SQLITE_TYPES = {"MONEY": "TEXT", "INSTANT": "TEXT"}


def open_database(url: str) -> peewee.Database:
    """Returns an unconnected database for the URL (connections are opened per thread, on use)."""
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
