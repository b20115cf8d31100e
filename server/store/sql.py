"""Precompiled SQL for the hot transactions, the same text on PostgreSQL and SQLite.

Peewee builds every query anew, which cost more CPU than the database work on the order path. Here a
statement is a string written once with `%s` placeholders and a tuple of values. `run` sends a list of
them as ONE round trip on PostgreSQL (psycopg2 executes `;`-joined statements in one call; each one
that carries values as `EXECUTE` of its prepared form, see `server.store.prepared`) and one by one on
SQLite, returning the row count of the last statement.

`Transaction` runs a write transaction in two round trips on PostgreSQL: BEGIN travels with the first
read and COMMIT with the last batch of writes, so a lock taken inside is never held while Python
decides whether to commit. A `guard`ed statement makes the transaction fail (`GuardFailed`) when it
touches no row, which is how a conditional write can still be sent in the same batch as COMMIT."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import peewee
import psycopg2.errors

from server.store import prepared
from server.store.db import is_sqlite, open_connection

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


class GuardFailed(Exception):
    """A `guard`ed statement touched no row; the transaction it ran in was not committed."""


class _Guarded(tuple):
    """A statement that must touch at least one row (see `guard`)."""


def guard(statement: Statement) -> Statement:
    """`statement`, an UPDATE, made to fail its batch with `GuardFailed` when it touches no row. On
    PostgreSQL it becomes `WITH g AS (UPDATE ... RETURNING 1) SELECT 1 / count`: a division by zero
    when nothing was updated, which aborts the statements after it (COMMIT included). That is the
    only division in this module's statements, so the error cannot mean anything else."""
    return _Guarded(statement)


def _postgres_text(statement: Statement) -> str:
    text = statement[0]
    if isinstance(statement, _Guarded):
        return f"WITH guarded AS ({text} RETURNING 1) SELECT 1 / (SELECT count(*)::int FROM guarded)"
    return text


def run(database: peewee.Database, statements: Sequence[Statement]) -> int:
    """Executes `statements` in the caller's transaction; returns the last statement's row count."""
    sqlite = is_sqlite(database)
    with _driver_errors:  # `cursor()` too: on a connection psycopg2 saw fail, it raises its own error
        cursor = database.cursor()
        if sqlite:
            rowcount = 0
            for statement in statements:
                text, params = statement
                cursor.execute(text.replace("%s", "?"), tuple(adapt(p, True) for p in params))
                rowcount = cursor.rowcount
                if isinstance(statement, _Guarded) and rowcount == 0:
                    raise GuardFailed(text.split(" WHERE ", 1)[0])
            return rowcount
        text = ";\n".join(
            prepared.statements.executable(cursor, _postgres_text(s), len(s[1])) for s in statements
        )
        params = tuple(p for _, ps in statements for p in ps)
        try:
            cursor.execute(text, params)
        except psycopg2.errors.DivisionByZero:
            if any(isinstance(s, _Guarded) for s in statements):
                raise GuardFailed("a guarded update touched no row") from None
            raise
        return int(cursor.rowcount)


class Transaction:
    """A write transaction on the calling thread's connection, in as few round trips as the database
    allows: on PostgreSQL BEGIN is sent with the first statement and COMMIT with `commit`'s batch; on
    SQLite (no network) it is BEGIN IMMEDIATE, so the write lock is taken at once. Leaving the block
    without `commit`, or on any error, rolls back. A Peewee `atomic()` inside raises rather than
    committing this transaction early."""

    def __init__(self, database: peewee.Database) -> None:
        self._db = database
        self._sqlite = is_sqlite(database)
        self._manual = database.manual_commit()
        self._begun = False
        self._done = False

    def __enter__(self) -> Transaction:
        # Connected before the block is entered: were Peewee to connect inside it (its autoconnect, on
        # a connection that was dropped), it would empty the thread's transaction stack, and leaving
        # the block would raise IndexError in place of the connection's error.
        open_connection(self._db)
        self._manual.__enter__()
        if self._sqlite:
            try:
                self._begin_now()
            except BaseException:  # `__exit__` will not run: leave the stack as it was found
                self._manual.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if self._begun and not self._done:
                try:
                    with _driver_errors:
                        self._db.cursor().execute("ROLLBACK")
                except (peewee.OperationalError, peewee.InterfaceError):
                    if exc_type is None:
                        raise
        finally:
            # Not when a reconnect inside the block emptied the stack (see `__enter__`): an IndexError
            # here would hide the error that ended the block.
            if self._db.in_transaction():
                self._manual.__exit__(exc_type, exc, tb)

    def _begin_now(self) -> None:
        with _driver_errors:
            self._db.cursor().execute("BEGIN IMMEDIATE" if self._sqlite else "BEGIN")
        self._begun = True

    def _with_begin(self, text: str) -> str:
        if self._begun or self._sqlite:
            return text
        self._begun = True
        return "BEGIN;\n" + text

    def fetch_one(self, text: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return fetch_one(self._db, self._with_begin(text), params)

    def fetch_all(self, text: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return fetch_all(self._db, self._with_begin(text), params)

    def run(self, statements: Sequence[Statement]) -> int:
        """Runs `statements` in the transaction (beginning it if nothing has yet); returns the last
        one's row count. Inside a `Transaction`, send every statement through it: on PostgreSQL a
        statement sent straight to the connection before the first one here runs outside it."""
        batch = list(statements)
        if not self._begun:
            batch.insert(0, ("BEGIN", ()))
            self._begun = True
        return run(self._db, batch)

    def commit(self, statements: Sequence[Statement]) -> None:
        """Runs `statements` and commits, in one round trip on PostgreSQL. Raises `GuardFailed`, with
        nothing committed, when a guarded statement touched no row."""
        self.run([*statements, ("COMMIT", ())])
        self._done = True


def fetch_one(database: peewee.Database, text: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    sqlite = is_sqlite(database)
    with _driver_errors:
        cursor = database.cursor()
        cursor.execute(text.replace("%s", "?") if sqlite else text, tuple(adapt(p, sqlite) for p in params))
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(database: peewee.Database, text: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    sqlite = is_sqlite(database)
    with _driver_errors:
        cursor = database.cursor()
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
