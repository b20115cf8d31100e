"""Precompiled SQL for the hot transactions, the same text on PostgreSQL and SQLite.

Peewee builds every query anew, which cost more CPU than the database work on the order path. Here a
statement is a string written once with `%s` placeholders and a tuple of values. `run` sends a list of
them as ONE round trip on PostgreSQL (psycopg2 executes `;`-joined statements in one call) and one by
one on SQLite, returning the row count of the last statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import peewee

from server.store.db import is_sqlite

Statement = tuple[str, tuple[Any, ...]]

# Driver exceptions become Peewee's (IntegrityError, OperationalError, ...), as on Peewee's own path.
_driver_errors = peewee.__exception_wrapper__  # type: ignore[attr-defined]


def adapt(value: Any, sqlite: bool) -> Any:
    """A Python value as the driver should receive it (money exact, instants in UTC)."""
    if not sqlite:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def insert(table: str, values: Mapping[str, Any]) -> Statement:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())


def run(database: peewee.Database, statements: Sequence[Statement]) -> int:
    """Executes `statements` in the caller's transaction; returns the last statement's row count."""
    sqlite = is_sqlite(database)
    cursor = database.cursor()
    with _driver_errors:
        if sqlite:
            rowcount = 0
            for text, params in statements:
                cursor.execute(text.replace("%s", "?"), tuple(adapt(p, True) for p in params))
                rowcount = cursor.rowcount
            return rowcount
        text = ";\n".join(s for s, _ in statements)
        params = tuple(p for _, ps in statements for p in ps)
        cursor.execute(text, params)
        return int(cursor.rowcount)


def fetch_one(database: peewee.Database, text: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    sqlite = is_sqlite(database)
    cursor = database.cursor()
    with _driver_errors:
        cursor.execute(text.replace("%s", "?") if sqlite else text, tuple(adapt(p, sqlite) for p in params))
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(database: peewee.Database, text: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    sqlite = is_sqlite(database)
    cursor = database.cursor()
    with _driver_errors:
        cursor.execute(text.replace("%s", "?") if sqlite else text, tuple(adapt(p, sqlite) for p in params))
        return [tuple(r) for r in cursor.fetchall()]


def columns(model: type[peewee.Model], alias: str = "") -> list[str]:
    """The column names of `model` in field order (what `from_row` expects), optionally qualified."""
    prefix = f"{alias}." if alias else ""
    return [prefix + f.column_name for f in model._meta.sorted_fields]


def from_row(model: type[peewee.Model], row: Sequence[Any]) -> Any:
    """A `model` instance from a row selected with `columns(model)`, values converted by its fields."""
    fields = model._meta.sorted_fields
    return model(**{f.name: f.python_value(v) for f, v in zip(fields, row, strict=True)})
