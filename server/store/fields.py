"""Column types that keep money exact and instants in UTC on both PostgreSQL and SQLite.

PostgreSQL stores money as NUMERIC and instants as timestamptz. SQLite has neither, so there money is
the decimal's text (never REAL) and instants are ISO-8601 text in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import peewee


class MoneyField(peewee.Field):
    """A `Decimal` column: NUMERIC on PostgreSQL, exact decimal text on SQLite."""

    field_type = "MONEY"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"{self.name} takes a Decimal, not {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"{self.name} must be finite")
        return format(value, "f")

    def python_value(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            raise TypeError(f"{self.name} read a float from the database; the column must be exact")
        return Decimal(str(value))


class InstantField(peewee.Field):
    """A timezone-aware UTC instant: timestamptz on PostgreSQL, ISO-8601 text on SQLite."""

    field_type = "INSTANT"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"{self.name} takes a timezone-aware datetime")
        if _is_sqlite(self):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return value.astimezone(UTC)

    def python_value(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _is_sqlite(field: peewee.Field) -> bool:
    database = field.model._meta.database
    target = getattr(database, "obj", database)
    return isinstance(target, peewee.SqliteDatabase)


def utcnow() -> datetime:
    return datetime.now(UTC)
