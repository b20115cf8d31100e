"""Reading the event log after a cursor goes through the primary key's index even when PostgreSQL
has no statistics for the table (new, or autovacuum off): otherwise every read scans and sorts the
whole log, and the order path pays for it as the log grows."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest

from server.events.feed import _READ_AFTER
from server.store.db import open_database
from server.store.migrate import migrate
from tests.pgserver import scratch_database


@pytest.fixture
def unanalyzed(pg_admin_url: str) -> Iterator[str]:
    """A migrated database whose event log holds 3,000 rows and has never been analyzed."""
    with scratch_database(pg_admin_url, "read_plan") as url:
        database = open_database(url)
        migrate(database)
        database.close()
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute("ALTER TABLE hedge_event SET (autovacuum_enabled = false)")
            cur.execute(
                "INSERT INTO hedge_event (event_type, created_at, message, data) "
                "SELECT 'config_changed', now(), 'm', '{}' FROM generate_series(1, 3000)"
            )
            cur.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'hedge_event'")
            assert cur.fetchone() == (0,), "the table must have no statistics for this test to mean anything"
        conn.close()
        yield url


def _plan(url: str, text: str, params: tuple[object, ...]) -> str:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("EXPLAIN " + text, params)
            return "\n".join(row[0] for row in cur.fetchall())
    finally:
        conn.close()


def test_the_feeds_read_uses_the_index_without_statistics(unanalyzed: str) -> None:
    plan = _plan(unanalyzed, _READ_AFTER, (2990, 500))
    assert "on hedge_event_pkey" in plan, plan
    assert "Seq Scan" not in plan, plan
