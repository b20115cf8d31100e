"""Each market's running totals (`server.risk.market_totals`) in its `market_exposure` row: the
statement a writer adds to its own transaction, the read, and the check that recomputes them from the
order and hedge rows (`hedging check-totals`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import peewee

from server.risk.market_totals import NAMES, MarketTotals, hedges_of
from server.store import sql
from server.store.db import write_transaction

_COLUMNS = ", ".join(NAMES)
_MONEY = 5  # the first five fields are money, the rest hedge counts
_ADD = f"UPDATE market_exposure SET {', '.join(f'{n} = {n} + %s' for n in NAMES)} WHERE mapping_id = %s"
_SET = f"UPDATE market_exposure SET {', '.join(f'{n} = %s' for n in NAMES)} WHERE mapping_id = %s"


def add(database: peewee.Database, mapping_id: int, change: MarketTotals) -> sql.Statement | None:
    """The statement adding `change` to the market's totals, for the transaction that makes the
    change; None when there is none. An increment: increments commute, so it needs no guard and
    reads nothing (the transaction already holds the market's exposure row: lock order)."""
    if change == MarketTotals():
        return None
    return _ADD, (*change.values(), mapping_id)


def read(database: peewee.Database) -> dict[int, MarketTotals]:
    """Every market's stored totals, by mapping id."""
    rows = database.execute_sql(f"SELECT mapping_id, {_COLUMNS} FROM market_exposure").fetchall()
    return {int(r[0]): _totals(r[1:]) for r in rows}


def of_row(row: Any) -> MarketTotals:
    """The totals of a `MarketExposure` row."""
    return _totals([getattr(row, name) for name in NAMES])


def recount(database: peewee.Database) -> dict[int, MarketTotals]:
    """Every market's totals worked out again from its order and hedge rows (a pass over all of them)."""
    found: dict[int, MarketTotals] = {int(r[0]): MarketTotals() for r in database.execute_sql(
        "SELECT mapping_id FROM market_exposure").fetchall()}  # fmt: skip
    orders = database.execute_sql(
        "SELECT mapping_id, SUM(LEAST(hedged_size, size) * price), "
        "SUM((size - LEAST(hedged_size, size)) * price) "
        "FROM user_order WHERE status = 'accepted' GROUP BY mapping_id"
    ).fetchall()
    for mapping_id, hedged, unhedged in orders:
        m = int(mapping_id)
        found[m] = found.get(m, MarketTotals()) + MarketTotals(
            hedged_notional=_money(hedged), unhedged_notional=_money(unhedged)
        )
    by_status = database.execute_sql(
        "SELECT mapping_id, status, COUNT(*), SUM(spread_captured), SUM(fee), SUM(net_profit) "
        "FROM hedge_position GROUP BY mapping_id, status"
    ).fetchall()
    for mapping_id, status, count, spread, fee, net in by_status:
        m = int(mapping_id)
        share = hedges_of(
            str(status), int(count), spread_captured=_money(spread), fees=_money(fee), net_profit=_money(net)
        )
        found[m] = found.get(m, MarketTotals()) + share
    return found


def differences(stored: dict[int, MarketTotals], counted: dict[int, MarketTotals]) -> list[str]:
    """Where stored totals differ from recounted ones, one line per market and field."""
    lines = []
    for mapping_id in sorted(set(stored) | set(counted)):
        a, b = stored.get(mapping_id, MarketTotals()), counted.get(mapping_id, MarketTotals())
        for name, x, y in zip(NAMES, a.values(), b.values(), strict=True):
            if x != y:
                lines.append(f"market {mapping_id} {name}: stored {x}, from the rows {y}")
    return lines


def check(database: peewee.Database) -> list[str]:
    """`differences` between the stored totals and the rows, read in one snapshot."""
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return differences(read(database), recount(database))


def repair(database: peewee.Database) -> list[str]:
    """Writes the recounted totals over the stored ones, under the lock of every market's exposure row
    (no order or hedge of any market changes meanwhile); returns the differences it fixed."""
    with write_transaction(database):
        database.execute_sql("SELECT 1 FROM market_exposure ORDER BY mapping_id FOR UPDATE")
        stored, counted = read(database), recount(database)
        fixed = differences(stored, counted)
        statements = [(_SET, (*t.values(), m)) for m, t in counted.items() if t != stored.get(m)]
        if statements:
            sql.run(database, statements)
        return fixed


def _totals(values: tuple[Any, ...] | list[Any]) -> MarketTotals:
    money = [_money(v) for v in values[:_MONEY]]
    counts = [int(v) for v in values[_MONEY:]]
    return MarketTotals(*money, *counts)  # type: ignore[arg-type]  # money fields first, then counts


def _money(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
