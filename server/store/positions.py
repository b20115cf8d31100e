"""A market's position (its `market_exposure` row) and the platform's total unhedged exposure (the
`risk_totals` row), as the write transactions of orders, hedge outcomes and re-hedges use them.

Lock order, in every writer: the market's exposure row (`lock`), then hedge rows, then the totals
row (`add_to_total`), then the counts of ended hedges (`outcome_count`), then the event lock. A
booking in a neg-risk event group takes every market row of the group, in mapping id order, in place
of its market's row alone (`server.store.groups`). Each function here runs inside the caller's
`db.atomic()`.

A writer sends its writes as one batch (`sql.run`: one round trip) in that order, so the rows and
the event lock it takes there are held for that round trip and the COMMIT after it, no longer. A
reservation against the total limit ends the batch with `within`, whose row count says whether the
total as the batch left it is within the limit: 0 and the caller raises, rolling everything back."""

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


def lock_with_total(mapping_id: int) -> tuple[Position, Decimal]:
    """The market's position, its row locked until the caller's transaction ends, and the total
    unhedged exposure as committed, read in the same statement (the totals row is not locked:
    `within` checks what the transaction writes to it)."""
    total = RiskTotals.select(RiskTotals.unhedged_exposure).where(RiskTotals.id == 1)
    row = _locked_row(MarketExposure.select(MarketExposure, total.alias("total")), mapping_id)
    return position_of(row), Decimal(row.total)  # type: ignore[attr-defined]  # the alias above


def _locked_row(query: peewee.ModelSelect[MarketExposure], mapping_id: int) -> MarketExposure:
    row = locked(query.where(MarketExposure.mapping == mapping_id)).get_or_none()
    if row is None:
        raise FailedPrecondition(f"market mapping {mapping_id} has no exposure row")
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
