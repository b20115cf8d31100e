"""Hedges that ended, counted per second of their creation (`hedge_outcome_second`), so the
failure-rate window is counted from at most one row per second in it, not from every hedge.

A hedge counts once it is final (hedged, partial, failed or paper), in the second it was created, as
the row-level count does (`hedge_position.created_at` inside the window); the count is added in the
transaction that makes it final. The window's first, partial second is counted from the rows (at most
a second of hedges, through the `created_at` index), so any window start is counted exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from server.store import sql
from server.store.db import write_transaction

FINAL = ("hedged", "partial", "failed", "paper")
_ADD = (
    "INSERT INTO hedge_outcome_second (created_second, final_hedges, failed_hedges) VALUES (%s, %s, %s) "
    "ON CONFLICT (created_second) DO UPDATE SET "
    "final_hedges = hedge_outcome_second.final_hedges + excluded.final_hedges, "
    "failed_hedges = hedge_outcome_second.failed_hedges + excluded.failed_hedges"
)
_FINAL_IN = f"status IN ({', '.join(repr(s) for s in FINAL)})"


def second_of(instant: datetime) -> datetime:
    """The second an instant falls in (UTC)."""
    return instant.astimezone(UTC).replace(microsecond=0)


def add(created_at: datetime, before: str, after: str) -> sql.Statement | None:
    """The statement counting a hedge created at `created_at` whose status goes from `before` to
    `after`, for the transaction that changes it; None when its count does not change. Send it after
    the total's update: that row's lock orders every writer of these rows, so they cannot deadlock."""
    final = (after in FINAL) - (before in FINAL)
    failed = (after == "failed") - (before == "failed")
    if not final and not failed:
        return None
    return _ADD, (second_of(created_at), final, failed)


def add_many(moves: list[tuple[datetime, str, str]]) -> list[sql.Statement]:
    """The statements counting several hedges' moves (created at, status before, status after), one
    per second they were created in (a row may be written once per statement)."""
    seconds: dict[datetime, tuple[int, int]] = {}
    for created_at, before, after in moves:
        statement = add(created_at, before, after)
        if statement is not None:
            second, final, failed = statement[1]
            counted = seconds.get(second, (0, 0))
            seconds[second] = (counted[0] + final, counted[1] + failed)
    return [(_ADD, (second, final, failed)) for second, (final, failed) in sorted(seconds.items())]


def window(database: peewee.Database, start: datetime) -> tuple[int, int]:
    """(failed, final) among hedges created at or after `start` that are final."""
    boundary = second_of(start)
    if boundary < start:
        boundary += timedelta(seconds=1)
    failed, final = database.execute_sql(
        "SELECT COALESCE(SUM(failed_hedges), 0), COALESCE(SUM(final_hedges), 0) FROM hedge_outcome_second "
        "WHERE created_second >= %s",
        (boundary,),
    ).fetchone()
    if boundary > start:
        edge_failed, edge_final = database.execute_sql(
            "SELECT COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), COUNT(*) "
            f"FROM hedge_position WHERE created_at >= %s AND created_at < %s AND {_FINAL_IN}",
            (start, boundary),
        ).fetchone()
        failed, final = int(failed) + int(edge_failed), int(final) + int(edge_final)
    return int(failed), int(final)


def read(database: peewee.Database) -> dict[datetime, tuple[int, int]]:
    """Every stored second: (final, failed), seconds with nothing counted left out."""
    rows = database.execute_sql(
        "SELECT created_second, final_hedges, failed_hedges FROM hedge_outcome_second"
    ).fetchall()
    return {_parse(s): (int(f), int(x)) for s, f, x in rows if int(f) or int(x)}


def recount(database: peewee.Database) -> dict[datetime, tuple[int, int]]:
    """`read` worked out again from the hedge rows."""
    found: dict[datetime, tuple[int, int]] = {}
    rows = database.execute_sql(f"SELECT created_at, status FROM hedge_position WHERE {_FINAL_IN}")
    for created_at, status in rows.fetchall():
        second = second_of(_parse(created_at))
        final, failed = found.get(second, (0, 0))
        found[second] = (final + 1, failed + (status == "failed"))
    return found


def differences(
    stored: dict[datetime, tuple[int, int]], counted: dict[datetime, tuple[int, int]]
) -> list[str]:
    """Where the stored seconds differ from the recounted ones, one line each."""
    return [
        f"hedges created in {s.isoformat()}: stored (final, failed) {stored.get(s)}, from the rows {counted.get(s)}"
        for s in sorted(set(stored) | set(counted))
        if stored.get(s) != counted.get(s)
    ]


def check(database: peewee.Database) -> list[str]:
    """`differences` between the stored seconds and the rows, read in one snapshot."""
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return differences(read(database), recount(database))


def repair(database: peewee.Database) -> list[str]:
    """Rewrites the seconds from the rows, under the lock of the totals row (which every writer of a
    final status takes first); returns the differences it fixed."""
    with write_transaction(database):
        database.execute_sql("SELECT 1 FROM risk_totals WHERE id = 1 FOR UPDATE")
        stored, counted = read(database), recount(database)
        fixed = differences(stored, counted)
        if fixed:
            sql.run(
                database,
                [("DELETE FROM hedge_outcome_second", ())]
                + [
                    ("INSERT INTO hedge_outcome_second VALUES (%s, %s, %s)", (s, final, failed))
                    for s, (final, failed) in sorted(counted.items())
                ],
            )
        return fixed


def _parse(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
