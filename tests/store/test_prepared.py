"""Prepared statements on PostgreSQL: each statement text is PREPAREd once per connection and then
sent as EXECUTE, with the same effect as the text; what cannot or should not be prepared goes as text;
a statement prepared in a transaction that rolled back, or on a connection since replaced, still runs."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import peewee
import psycopg2
import pytest

from server.store import sql
from server.store.prepared import PreparedStatements, numbered

SET_TOTAL = "UPDATE risk_totals SET unhedged_exposure = %s WHERE id = %s"


@pytest.fixture
def conn(pg_db: peewee.Database, pg_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(pg_url)
    connection.autocommit = True
    yield connection
    connection.close()


def _prepared(conn: psycopg2.extensions.connection) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cur.fetchall())


def _total(conn: psycopg2.extensions.connection) -> Decimal:
    with conn.cursor() as cur:
        cur.execute("SELECT unhedged_exposure FROM risk_totals WHERE id = 1")
        return Decimal(str(cur.fetchone()[0]))


def test_a_statement_is_prepared_once_per_connection_and_runs_as_its_text_would(
    conn: psycopg2.extensions.connection, pg_url: str
) -> None:
    prepared = PreparedStatements(prefix="t")
    with conn.cursor() as cur:
        first = prepared.executable(cur, SET_TOTAL, 2)
        again = prepared.executable(cur, SET_TOTAL, 2)
        assert first == again == "EXECUTE t_1(%s, %s)"
        assert _prepared(conn) == {"t_1": "PREPARE t_1 AS " + numbered(SET_TOTAL)}
        cur.execute(first, (Decimal("12.345678"), 1))
        assert cur.rowcount == 1
    assert _total(conn) == Decimal("12.345678")

    other = psycopg2.connect(pg_url)
    try:
        with other.cursor() as cur:
            assert _prepared(other) == {}
            assert prepared.executable(cur, SET_TOTAL, 2) == "EXECUTE t_1(%s, %s)"
            assert set(_prepared(other)) == {"t_1"}
    finally:
        other.close()


def test_statements_without_values_or_that_cannot_be_prepared_go_as_text(
    conn: psycopg2.extensions.connection,
) -> None:
    prepared = PreparedStatements(prefix="t")
    with conn.cursor() as cur:
        for text, values in [("SELECT 1", 0), ("COMMIT", 0), ("NOTIFY hedge_events", 0), ("BEGIN", 0)]:
            assert prepared.executable(cur, text, values) == text
    assert _prepared(conn) == {}


def test_past_its_limit_a_new_text_goes_as_text(conn: psycopg2.extensions.connection) -> None:
    prepared = PreparedStatements(limit=1, prefix="t")
    other = "UPDATE risk_totals SET updated_at = %s WHERE id = 1"
    with conn.cursor() as cur:
        assert prepared.executable(cur, SET_TOTAL, 2) == "EXECUTE t_1(%s, %s)"
        assert prepared.executable(cur, other, 1) == other
    assert set(_prepared(conn)) == {"t_1"}


def test_placeholders_are_numbered_and_escaped_percents_kept() -> None:
    assert numbered("a = %s AND b LIKE 'x%%' AND c = %s") == "a = $1 AND b LIKE 'x%' AND c = $2"


def test_a_statement_prepared_in_a_rolled_back_transaction_or_on_a_lost_connection_still_runs(
    pg_db: peewee.Database, conn: psycopg2.extensions.connection
) -> None:
    raise_total = sql.guard(
        ("UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + %s WHERE id = %s", (Decimal(5), 1))
    )
    no_row = sql.guard(
        ("UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + %s WHERE id = %s", (Decimal(5), 2))
    )
    with pg_db.connection_context():
        with pytest.raises(sql.GuardFailed), sql.Transaction(pg_db) as tx:
            tx.commit([raise_total, no_row])
        assert _total(conn) == Decimal(0)  # nothing of the failed batch was committed
        with sql.Transaction(pg_db) as tx:
            tx.commit([raise_total])
        assert _total(conn) == Decimal(5)
    pg_db.close()  # the next connection has prepared nothing: the statement is prepared again there
    with pg_db.connection_context(), sql.Transaction(pg_db) as tx:
        tx.commit([raise_total])
    assert _total(conn) == Decimal(10)
