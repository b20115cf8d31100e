"""A market's position (its `market_exposure` row) and the platform's total unhedged exposure (the
`risk_totals` row), as the write transactions of orders, hedge outcomes and re-hedges use them.

Lock order, in every writer: the markets' exposure rows with those of their neg-risk event groups
(`server.store.groups`, in ascending id order; `lock` for one market when the total does not move),
then hedge rows, then the totals row (`lock_total_with_requests`, or the update of `add_to_total` /
`add_each_to_total` / `set_total`), then the counts of ended hedges (`outcome_count`), then the
event lock. Each function here runs inside the caller's `db.atomic()`.

A writer sends its writes as one batch (`sql.run`: one round trip) in that order, so the rows and
the event lock it takes there are held for that round trip and the COMMIT after it, no longer. A
booking batch locks the totals row before deciding (its orders are checked against the total as it
is); a re-hedge reserves without that lock and ends its batch with `within`, whose row count says
whether the total as the batch left it is within the limit: 0 and the caller raises, rolling
everything back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import peewee

from server.domain.exposure import Position
from server.errors import FailedPrecondition
from server.risk.market_totals import MarketTotals
from server.store import market_totals, outcome_seconds, sql
from server.store.models import MarketExposure, RiskTotals
from server.store.rows import position_columns, position_of

M = TypeVar("M", bound=peewee.Model)


def locked(query: peewee.ModelSelect[M]) -> peewee.ModelSelect[M]:
    """`query ... FOR UPDATE`: its rows locked until the caller's transaction ends."""
    return query.for_update()


def lock(mapping_id: int) -> Position:
    """The market's position, its row locked until the caller's transaction ends."""
    return position_of(_locked_row(MarketExposure.select(), mapping_id))


def committed_total() -> Decimal:
    """The total unhedged exposure as committed, without locking its row (`within` checks what the
    transaction writes to it)."""
    return Decimal(RiskTotals.select(RiskTotals.unhedged_exposure).where(RiskTotals.id == 1).scalar())


def lock_total_with_requests(
    database: peewee.Database, keys: list[tuple[str, str]]
) -> tuple[Decimal, dict[tuple[str, str], str]]:
    """The total unhedged exposure, its row locked until the caller's transaction ends (after the
    markets' rows: lock order), and the ids of orders already booked under any of the (account id,
    request id) `keys`, read in the same statement. That read sees what was committed when the
    statement began: a duplicate committed meanwhile is caught by the unique request id."""
    rows = sql.fetch_all(
        database,
        "SELECT t.unhedged_exposure, u.account_id, u.request_id, u.id FROM risk_totals t "
        "LEFT JOIN user_order u ON (u.account_id, u.request_id) IN %s WHERE t.id = 1 FOR UPDATE OF t",
        (tuple(keys),),
    )
    if not rows:
        raise FailedPrecondition("risk_totals has no row")
    booked = {(str(r[1]), str(r[2])): str(r[3]) for r in rows if r[3] is not None}
    return Decimal(rows[0][0]), booked


def in_flight_cash(database: peewee.Database) -> Decimal:
    """An upper bound on the USDC every market's hedges in flight may still take: both outcomes'
    in-flight losses summed over markets (a BUY's budget and fee is its loss on one of them)."""
    row = sql.fetch_one(
        database,
        "SELECT COALESCE(SUM(in_flight_loss_if_yes + in_flight_loss_if_no), 0) FROM market_exposure",
        (),
    )
    return Decimal(row[0]) if row is not None else Decimal(0)


def no_row(mapping_id: int) -> FailedPrecondition:
    """The error for a market whose exposure row is missing."""
    return FailedPrecondition(f"market mapping {mapping_id} has no exposure row")


def _locked_row(query: peewee.ModelSelect[MarketExposure], mapping_id: int) -> MarketExposure:
    row = locked(query.where(MarketExposure.mapping == mapping_id)).get_or_none()
    if row is None:
        raise no_row(mapping_id)
    return row


def writes(
    database: peewee.Database, mapping_id: int, position: Position, change: MarketTotals, now: datetime
) -> list[sql.Statement]:
    """The statements that store the market's position and add `change` to its running totals (run
    them holding the market's lock)."""
    stored = sql.update(
        "market_exposure", position_columns(position) | {"updated_at": now}, {"mapping_id": mapping_id}
    )
    added = market_totals.add(database, mapping_id, change)
    return [stored] if added is None else [stored, added]


def add_to_total(delta: Decimal, now: datetime) -> sql.Statement:
    """The statement adding `delta` to the total, floored at zero (it locks the totals row)."""
    return (
        "UPDATE risk_totals SET unhedged_exposure = GREATEST(unhedged_exposure + %s, 0), updated_at = %s"
        " WHERE id = 1",
        (delta, now),
    )


def add_each_to_total(deltas: list[Decimal], now: datetime) -> sql.Statement:
    """The statement adding each of `deltas` in turn to the total, floored at zero after each (as
    `add_to_total` once per delta would; it locks the totals row)."""
    value = "unhedged_exposure"
    for _ in deltas:
        value = f"GREATEST({value} + %s, 0)"
    return f"UPDATE risk_totals SET unhedged_exposure = {value}, updated_at = %s WHERE id = 1", (*deltas, now)


def set_total(total: Decimal, now: datetime) -> sql.Statement:
    """The statement storing the total as a writer holding its row worked it out (`lock_total_with_requests`)."""
    return "UPDATE risk_totals SET unhedged_exposure = %s, updated_at = %s WHERE id = 1", (total, now)


def within(limit: Decimal | None) -> sql.Statement:
    """The statement, last in a batch that ran `add_to_total`, whose row count is 1 when the total as
    this transaction left it is within `limit` (always, without one) and 0 when it is not. The
    transaction holds the totals row from `add_to_total` to its end, so processes reserving at once
    cannot overshoot the limit together: each one checks the sum of everyone's committed reservations
    and its own."""
    if limit is None:
        return "SELECT 1", ()
    return "SELECT 1 FROM risk_totals WHERE id = 1 AND unhedged_exposure <= %s", (limit,)


def add_totals(database: peewee.Database, mapping_id: int, change: MarketTotals) -> None:
    """Adds `change` to the market's running totals (hold its lock)."""
    statement = market_totals.add(database, mapping_id, change)
    if statement is not None:
        sql.run(database, [statement])


def outcome_count(created_at: datetime, before: str, after: str) -> list[sql.Statement]:
    """The statement counting a hedge's move from `before` to `after` in `hedge_outcome_second`, if
    any (run it after `add_to_total`, which orders its writers)."""
    statement = outcome_seconds.add(created_at, before, after)
    return [] if statement is None else [statement]
