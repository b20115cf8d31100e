"""A market's position (its `market_exposure` row) and the platform's total unhedged exposure (the
`risk_totals` row), as the write transactions of orders, hedge outcomes and re-hedges use them.

Lock order, in every writer: the market's exposure row (`lock`), then hedge rows, then the totals
row (`move_total`), then the counts of ended hedges (`count_outcome`), then the event lock. Each
function here runs inside the caller's `db.atomic()`."""

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
    row = locked(MarketExposure.select().where(MarketExposure.mapping == mapping_id)).get_or_none()
    if row is None:
        raise FailedPrecondition(f"market mapping {mapping_id} has no exposure row")
    return position_of(row)


def total() -> Decimal:
    """The total unhedged exposure as committed (not locked: `move_total` guards what it writes)."""
    found: Decimal = RiskTotals.select(RiskTotals.unhedged_exposure).where(RiskTotals.id == 1).scalar()
    return found


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


def move_total(delta: Decimal, limit: Decimal | None, now: datetime) -> bool:
    """Adds `delta` to the total. With a `limit`, a reservation: one conditional update that adds it
    only while the total stays within the limit, so processes reserving at once cannot overshoot it
    together; returns False when it did not fit (nothing written). Without one the total is floored
    at zero."""
    current = RiskTotals.unhedged_exposure
    if limit is None:
        floored = peewee.Case(None, [(current + delta < 0, Decimal(0))], current + delta)
        RiskTotals.update(unhedged_exposure=floored, updated_at=now).where(RiskTotals.id == 1).execute()
        return True
    changed: int = (
        RiskTotals.update(unhedged_exposure=current + delta, updated_at=now)
        .where((RiskTotals.id == 1) & (current + delta <= limit))
        .execute()
    )
    return changed == 1


def add_totals(database: peewee.Database, mapping_id: int, change: MarketTotals) -> None:
    """Adds `change` to the market's running totals (hold its lock)."""
    statement = market_totals.add(database, mapping_id, change)
    if statement is not None:
        sql.run(database, [statement])


def outcome_count(created_at: datetime, before: str, after: str) -> list[sql.Statement]:
    """The statement counting a hedge's move from `before` to `after` in `hedge_outcome_second`, if
    any (run it after `move_total`, which orders its writers)."""
    statement = outcome_seconds.add(created_at, before, after)
    return [] if statement is None else [statement]
