"""The statements a batch of writes shares (`server.store.positions`, `sql`, `outcome_seconds`): each
gives what one statement per write would have, worked out here by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from server.store import outcome_seconds, positions, sql
from server.store.models import RiskTotals


def test_each_delta_is_floored_at_zero_in_turn_not_their_sum(pg_db):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with pg_db.atomic():
        sql.run(pg_db, [("UPDATE risk_totals SET unhedged_exposure = 5 WHERE id = 1", ())])
        # 5 - 10 -> 0 (floored), + 3 -> 3; the sum's floor would give max(5 - 7, 0) = 0.
        sql.run(pg_db, [positions.add_each_to_total([Decimal(-10), Decimal(3)], now)])
    assert RiskTotals.get().unhedged_exposure == Decimal(3)


def test_the_total_locked_with_the_requests_already_booked(pg_db):
    with pg_db.atomic():
        total, booked = positions.lock_total_with_requests(pg_db, [("alice", "r1")])
    assert (total, booked) == (Decimal(0), {})


def test_ended_hedges_are_counted_once_per_second_they_were_created_in(pg_db):
    first = datetime(2026, 12, 3, 12, 0, 0, 100_000, tzinfo=UTC)
    same_second = first.replace(microsecond=900_000)
    next_second = first.replace(second=1)
    moves = [
        (first, "", "paper"),
        (same_second, "pending", "failed"),
        (next_second, "", "paper"),
        (first, "", "pending"),
    ]
    statements = outcome_seconds.add_many(moves)
    # Second 0: two final, one of them failed; second 1: one final; a pending hedge counts nothing.
    assert [s[1] for s in statements] == [
        (first.replace(microsecond=0), 2, 1),
        (next_second.replace(microsecond=0), 1, 0),
    ]
    with pg_db.atomic():
        sql.run(pg_db, statements)
    assert outcome_seconds.read(pg_db) == {
        first.replace(microsecond=0): (2, 1),
        next_second.replace(microsecond=0): (1, 0),
    }


def test_many_rows_in_one_insert(pg_db):
    now = datetime.now(UTC)
    rows = [
        {
            "key": f"k{i}",
            "value": str(i),
            "value_type": "text",
            "version": 1,
            "updated_by": "t",
            "updated_at": now,
        }
        for i in range(3)
    ]
    (statement,) = sql.insert_many("hedge_config", rows)
    assert statement[0].count("(%s, %s, %s, %s, %s, %s)") == 3
    with pg_db.atomic():
        sql.run(pg_db, [statement])
    found = pg_db.execute_sql(
        "SELECT key, value FROM hedge_config WHERE key LIKE 'k_' ORDER BY key"
    ).fetchall()
    assert found == [("k0", "0"), ("k1", "1"), ("k2", "2")]
    assert sql.insert_many("hedge_config", []) == []
