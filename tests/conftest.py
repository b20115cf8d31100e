"""Suite-wide fixtures: a fresh PostgreSQL database per run, migrated once and emptied per test."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from server.store.db import bind, open_database
from server.store.local_postgres import NoPostgres
from server.store.migrate import migrate
from tests.pgserver import postgres_admin_url, scratch_database

KEEP_TABLES = {"schema_migrations"}


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    try:
        with postgres_admin_url() as url:
            yield url
    except NoPostgres as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A migrated database of its own for this test run."""
    with scratch_database(pg_admin_url, "hedging_test") as url:
        database = open_database(url)
        migrate(database)
        database.close()
        yield url


def _empty(database: peewee.Database) -> None:
    tables = [t for t in database.get_tables() if t not in KEEP_TABLES]
    with database.atomic():
        database.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        database.execute_sql(
            "INSERT INTO risk_totals (id, unhedged_exposure, updated_at) VALUES (1, 0, now())"
        )


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[peewee.Database]:
    """The run's PostgreSQL database, bound to the models and emptied before the test."""
    database = bind(open_database(pg_url))
    with database.connection_context():
        _empty(database)
    yield database
    database.close()
