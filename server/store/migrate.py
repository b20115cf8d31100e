"""Applies the numbered SQL files in migrations/ in order, each in its own transaction, and records
each in `schema_migrations`. Re-running applies nothing; concurrent runs take turns under an
advisory lock, so each file is applied once.

The files are templates (they once rendered for two databases): `{money}`,
`{instant}`, `{pk}`, `{bool}`, `{now}`, `num(x)` and `second_of(x)` are rendered to PostgreSQL here.
They stay as they are because each applied file's checksum is recorded and checked."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import peewee

from server.errors import FailedPrecondition
from server.store.fields import utcnow

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_TOKENS = {
    "{money}": "NUMERIC",
    "{instant}": "TIMESTAMPTZ",
    "{pk}": "BIGSERIAL PRIMARY KEY",
    "{bool}": "BOOLEAN",
    "{now}": "now()",
}
_NUM = re.compile(r"num\((\w+)\)")
# The key of the session-level advisory lock that serialises `migrate` runs on one PostgreSQL
# database (any constant works as long as every run uses the same one: "hedging" in ASCII).
MIGRATION_LOCK_KEY = 0x68656467696E67
# second_of(column): an instant truncated to its second.
_SECOND_OF = re.compile(r"second_of\((\w+)\)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise FailedPrecondition(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise FailedPrecondition("two migration files share a number")
    return found


def render(sql: str) -> list[str]:
    """Returns the statements of a migration file."""
    for token, replacement in _TOKENS.items():
        sql = sql.replace(token, replacement)
    sql = _NUM.sub(r"\1", sql)
    sql = _SECOND_OF.sub(r"date_trunc('second', \1)", sql)
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def migrate(database: peewee.Database) -> list[str]:
    """Applies pending migrations; returns the names applied (empty when up to date)."""
    with database.connection_context():
        # Held for the whole run, the table's creation included: `CREATE TABLE IF NOT EXISTS` is not
        # safe against a concurrent one (both pass the check, one fails on pg_type's unique index).
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            return _apply_pending(database)
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def _apply_pending(database: peewee.Database) -> list[str]:
    applied: list[str] = []
    database.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for migration in discover():
        with database.atomic():
            row = database.execute_sql(
                "SELECT checksum FROM schema_migrations WHERE version = %s",
                (migration.version,),
            ).fetchone()
            if row is not None:
                if row[0] != migration.checksum:
                    raise FailedPrecondition(
                        f"migration {migration.name} was changed after it was applied; add a new one instead"
                    )
                continue
            for statement in render(migration.sql):
                database.execute_sql(statement)
            database.execute_sql(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (%s, %s, %s, %s)",
                (migration.version, migration.name, migration.checksum, utcnow().isoformat()),
            )
            applied.append(migration.name)
            log.info("applied migration %s", migration.name)
    return applied
