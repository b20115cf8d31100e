"""Plain SQL where Peewee's query builder says less: a statement is a string with `%s` placeholders
and a tuple of values, run on the calling thread's connection, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import peewee

Statement = tuple[str, tuple[Any, ...]]


def insert(table: str, values: Mapping[str, Any]) -> Statement:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())


def update(table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> Statement:
    """`UPDATE table SET values WHERE where` (columns equal to the given values)."""
    assignments = ", ".join(f"{column} = %s" for column in values)
    condition = " AND ".join(f"{column} = %s" for column in where)
    return f"UPDATE {table} SET {assignments} WHERE {condition}", (*values.values(), *where.values())


def run(database: peewee.Database, statements: Sequence[Statement]) -> int:
    """Executes `statements` in order, in one round trip on PostgreSQL (the event log's writes hold
    its lock from their first statement to COMMIT: one round trip there, not one per event);
    returns the last one's row count."""
    if not statements:
        return 0
    text = ";\n".join(text for text, _ in statements)
    return int(_execute(database, text, tuple(p for _, params in statements for p in params)).rowcount)


def fetch_one(database: peewee.Database, text: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    row = _execute(database, text, params).fetchone()
    return tuple(row) if row is not None else None


def fetch_all(database: peewee.Database, text: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in _execute(database, text, params).fetchall()]


def columns(model: type[peewee.Model], alias: str = "") -> list[str]:
    """The column names of `model` in field order (what `from_row` expects), optionally qualified."""
    prefix = f"{alias}." if alias else ""
    return [prefix + f.column_name for f in model._meta.sorted_fields]


def from_row(model: type[peewee.Model], row: Sequence[Any]) -> Any:
    """A `model` instance from a row selected with `columns(model)`, values converted by its fields."""
    fields = model._meta.sorted_fields
    return model(**{f.name: f.python_value(v) for f, v in zip(fields, row, strict=True)})


def _execute(database: peewee.Database, text: str, params: tuple[Any, ...]) -> Any:
    return database.execute_sql(text, params)


def insert_many(table: str, rows: Sequence[Mapping[str, Any]]) -> list[Statement]:
    """One multi-row `INSERT` of `rows` (all with the same columns), or none without rows."""
    if not rows:
        return []
    columns = list(rows[0])
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    text = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([marks] * len(rows))
    return [(text, tuple(row[c] for row in rows for c in columns))]
