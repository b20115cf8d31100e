"""Column types that keep money exact (NUMERIC, sent as the decimal's text, never a float) and
instants in UTC (timestamptz)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import peewee


class MoneyField(peewee.Field):
    """A `Decimal` column (NUMERIC)."""

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
    """A timezone-aware UTC instant (timestamptz)."""

    field_type = "INSTANT"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"{self.name} takes a timezone-aware datetime")
        return value.astimezone(UTC)

    def python_value(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
