"""`sql.Transaction` and `sql.guard`: a write transaction whose BEGIN and COMMIT travel with its own
statements. What it commits is seen by another connection; what it
does not commit (an error, a guard that touched no row, leaving without `commit`) leaves no trace."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from decimal import Decimal

import peewee
import psycopg2
import pytest

from server.store import sql
from server.store.db import open_database


@pytest.fixture
def db(pg_db: peewee.Database) -> Iterator[peewee.Database]:
    with pg_db.connection_context():
        yield pg_db


@pytest.fixture
def committed_total(db: peewee.Database, pg_url: str) -> Callable[[], Decimal]:
    """The total as another connection sees it: only what was committed."""

    def read() -> Decimal:
        other = psycopg2.connect(pg_url)
        try:
            cur = other.cursor()
            cur.execute("SELECT unhedged_exposure FROM risk_totals WHERE id = 1")
            return Decimal(str(cur.fetchone()[0]))
        finally:
            other.close()

    return read


def _total(db: peewee.Database) -> Decimal:
    row = sql.fetch_one(db, "SELECT unhedged_exposure FROM risk_totals WHERE id = 1", ())
    assert row is not None
    return Decimal(str(row[0]))


def _set_total(value: str) -> sql.Statement:
    return ("UPDATE risk_totals SET unhedged_exposure = %s WHERE id = 1", (Decimal(value),))


def _config_rows(db: peewee.Database) -> int:
    row = sql.fetch_one(db, "SELECT count(*) FROM hedge_config", ())
    assert row is not None
    return int(row[0])


def _config(key: str) -> sql.Statement:
    return sql.insert(
        "hedge_config",
        {
            "key": key,
            "value": "1",
            "value_type": "text",
            "version": 1,
            "updated_by": "test",
            "updated_at": "2026-11-25T00:00:00+00:00",
        },
    )


def test_commit_makes_the_writes_durable(db: peewee.Database, committed_total: Callable[[], Decimal]) -> None:
    with sql.Transaction(db) as tx:
        assert tx.fetch_one("SELECT unhedged_exposure FROM risk_totals WHERE id = 1", ()) is not None
        tx.run([_set_total("1")])
        assert committed_total() == 0
        tx.commit([_set_total("12.5")])
    assert committed_total() == Decimal("12.5")


def test_a_guard_that_touches_no_row_fails_the_whole_batch(db: peewee.Database) -> None:
    before = _config_rows(db)
    with pytest.raises(sql.GuardFailed), sql.Transaction(db) as tx:
        tx.fetch_one("SELECT 1", ())
        tx.commit(
            [
                _config("written-before-the-guard"),
                _set_total("7"),
                sql.guard(("UPDATE risk_totals SET updated_at = updated_at WHERE id = -1", ())),
                _config("written-after-the-guard"),
            ]
        )
    assert _config_rows(db) == before
    assert _total(db) == 0
    # The connection is usable afterwards, outside any transaction.
    with sql.Transaction(db) as tx:
        tx.commit([_set_total("3")])
    assert _total(db) == Decimal("3")


def test_a_guard_that_touches_a_row_lets_the_batch_commit(db: peewee.Database) -> None:
    before = _config_rows(db)
    with sql.Transaction(db) as tx:
        tx.commit([sql.guard(_set_total("4")), _config("after")])
    assert _total(db) == Decimal("4")
    assert _config_rows(db) == before + 1


def test_leaving_without_commit_or_on_an_error_rolls_back(db: peewee.Database) -> None:
    with sql.Transaction(db) as tx:
        tx.run([_set_total("9")])  # written, never committed
    assert _total(db) == 0
    with pytest.raises(ZeroDivisionError), sql.Transaction(db) as tx:
        tx.run([_set_total("9")])
        _ = 1 / 0
    assert _total(db) == 0


def test_a_failed_statement_in_the_commit_batch_commits_nothing(db: peewee.Database) -> None:
    before = _config_rows(db)
    with pytest.raises(peewee.IntegrityError), sql.Transaction(db) as tx:
        tx.commit([_set_total("5"), _config("twice"), _config("twice")])
    assert _total(db) == 0
    assert _config_rows(db) == before


def test_a_peewee_atomic_inside_refuses_instead_of_committing_early(db: peewee.Database) -> None:
    with pytest.raises(ValueError, match="manual commit"), sql.Transaction(db) as tx:
        tx.fetch_one("SELECT 1", ())
        with db.atomic():
            tx.run([_set_total("8")])
    assert _total(db) == 0


def test_on_postgres_the_transaction_takes_two_round_trips(pg_db: peewee.Database, pg_url: str) -> None:
    """BEGIN rides with the first read and COMMIT with the writes: the lock taken by the read is
    released by the same round trip that writes, and another connection sees the write at once. (The
    first time a connection sends a write it PREPAREs it in a round trip of its own.)"""
    sent: list[str] = []
    with pg_db.connection_context():
        connection = pg_db.connection()

        class Counting(psycopg2.extensions.cursor):  # type: ignore[misc]
            def execute(self, query: str, vars: object = None) -> None:
                sent.append(query)
                super().execute(query, vars)

        connection.cursor_factory = Counting
        try:
            for total in ("5", "6"):
                sent.clear()
                with sql.Transaction(pg_db) as tx:
                    tx.fetch_one("SELECT unhedged_exposure FROM risk_totals WHERE id = 1 FOR UPDATE", ())
                    tx.commit([_set_total(total)])
                if total == "5":
                    assert [q for q in sent if q.startswith("PREPARE ")] == [sent[1]]
        finally:
            connection.cursor_factory = psycopg2.extensions.cursor
    assert len(sent) == 2
    assert sent[0].startswith("BEGIN;") and sent[1].rstrip().endswith("COMMIT")
    other = psycopg2.connect(pg_url)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT unhedged_exposure FROM risk_totals WHERE id = 1")
            assert cur.fetchone()[0] == Decimal("6")
    finally:
        other.close()


def _terminate(pg_url: str, pid: int) -> None:
    """Ends the backend `pid` as a restart would, and returns once it is gone (the timeout makes
    `pg_terminate_backend` wait for that)."""
    other = psycopg2.connect(pg_url)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
            assert cur.fetchone()[0] is True
    finally:
        other.close()


def test_a_transaction_after_the_server_closed_the_idle_connection_runs_on_a_new_one(
    pg_db: peewee.Database, pg_url: str
) -> None:
    with pg_db.connection_context():
        (pid,) = sql.fetch_one(pg_db, "SELECT pg_backend_pid()", ()) or ()
        _terminate(pg_url, pid)
        with sql.Transaction(pg_db) as tx:
            row = tx.fetch_one("SELECT pg_backend_pid()", ())
            tx.commit([_set_total("2")])
        assert row is not None and row[0] != pid
        assert _total(pg_db) == Decimal("2")


def test_a_transaction_that_cannot_connect_raises_the_connection_error_and_leaves_no_transaction() -> None:
    """What a restart's refused connections did: an IndexError from Peewee's transaction stack (which
    its autoconnect had emptied) hid the OperationalError, and the caller got INTERNAL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = open_database(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    for _ in range(2):
        with pytest.raises(peewee.OperationalError, match="refused"), sql.Transaction(unreachable) as tx:
            tx.fetch_one("SELECT 1", ())
        assert not unreachable.in_transaction()


def test_leaving_a_block_whose_transaction_stack_was_emptied_raises_the_blocks_own_error(
    pg_db: peewee.Database,
) -> None:
    with pytest.raises(RuntimeError, match="the block's own"), sql.Transaction(pg_db):
        connection = pg_db.connection()
        pg_db.dispose()  # what Peewee's `connect` does to the thread's transaction stack
        raise RuntimeError("the block's own error")
    connection.close()
    assert not pg_db.in_transaction()


def test_a_statement_on_a_connection_the_driver_saw_fail_raises_peewees_error(pg_db: peewee.Database) -> None:
    """So the database threads see a connection error (UNAVAILABLE), not the driver's own (INTERNAL)."""
    with pg_db.connection_context():
        pg_db.connection().close()
        with pytest.raises(peewee.InterfaceError):
            sql.fetch_one(pg_db, "SELECT 1", ())
        with pytest.raises(peewee.InterfaceError):
            sql.fetch_all(pg_db, "SELECT 1", ())
        with pytest.raises(peewee.InterfaceError):
            sql.run(pg_db, [_set_total("1")])
