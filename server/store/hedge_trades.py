"""The venue trades of hedges' fills, followed on chain until each is CONFIRMED or FAILED (`hedge_trade`,
migration 0011), and what a FAILED one undoes.

A trade is applied once, whatever the number of processes following it: its writer locks the market's
exposure row, then the hedge rows of its order, then the hedge's trade rows (the lock order of every
writer, `server.store.positions`), and moves a trade to a final status only from a non-final one. A
CONFIRMED trade changes no position, so its writer skips the market's row and starts at the hedge's
own row (the same order, one step in): it never waits behind, nor holds up, the order path. The
hedge's own change is `server.domain.hedge.Hedge`'s (`trade_failed`, `settlement_final`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import peewee

from server.domain.hedge import Hedge, TradeFill
from server.domain.order import Order, OrderWithHedges
from server.domain.types import Leg, Settlement, Side
from server.errors import NotFound
from server.risk.market_totals import MarketTotals, of_hedge, of_order
from server.store import events, groups, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import HedgePosition, HedgeTrade, UserOrder
from server.store.rows import hedge_changes, hedge_of, order_of

# The venue's trade statuses (lower case): the first three are not final.
UNSETTLED = ("matched", "mined", "retrying")
FINAL = ("confirmed", "failed")


@dataclass(frozen=True)
class Settling:
    """A settling hedge and the status, as last recorded, of each of its trades not yet final."""

    hedge: Hedge
    trades: dict[str, str]


@dataclass(frozen=True)
class Confirmed:
    """A trade the venue reports CONFIRMED: the hedge's side of it (`TradeFill`) at `price`."""

    hedge_id: str
    fill: TradeFill
    price: Decimal


def followed(hedge_id: str, trade_ids: tuple[str, ...], now: datetime) -> list[sql.Statement]:
    """The statements that start following `trade_ids` for the hedge, for the transaction recording its
    fill (a trade already followed is left as it is)."""
    return [
        (
            "INSERT INTO hedge_trade (trade_id, hedge_id, status, updated_at) VALUES (%s, %s, 'matched', %s)"
            " ON CONFLICT (trade_id) DO NOTHING",
            (trade_id, hedge_id, now),
        )
        for trade_id in dict.fromkeys(trade_ids)
    ]


class HedgeTrades:
    """Reads and writes of the trades being followed."""

    def __init__(self, database: peewee.Database, announce: Callable[[], None] | None = None) -> None:
        """`announce`, when given, is called after a FAILED trade's correction commits (`OrderStore`)."""
        self.db = database
        self._announce = announce

    def settling(self, limit: int = 200) -> list[Settling]:
        """Settling live hedges, oldest first, each with its trades not yet final."""
        query = (
            HedgeTrade.select(HedgeTrade, HedgePosition)
            .join(HedgePosition)
            .where((HedgePosition.settlement == Settlement.SETTLING.value) & HedgeTrade.status.in_(UNSETTLED))
            .order_by(HedgePosition.created_at, HedgeTrade.trade_id)
            .limit(limit)
        )
        found: dict[str, Settling] = {}
        for row in query:
            entry = found.setdefault(row.hedge_id, Settling(hedge_of(row.hedge), {}))
            entry.trades[row.trade_id] = row.status
        return list(found.values())

    def statuses(self, hedge_id: str) -> dict[str, str]:
        """The status of each trade followed for the hedge, by trade id."""
        query = HedgeTrade.select(HedgeTrade.trade_id, HedgeTrade.status).where(HedgeTrade.hedge == hedge_id)
        return {row.trade_id: row.status for row in query}

    def apply(self, hedge_id: str, fill: TradeFill, price: Decimal, status: str) -> Hedge | None:
        """Records the venue's `status` (lower case) of one trade of the hedge, once: a non-final one
        is noted (and None returned); CONFIRMED makes its shares final; FAILED takes its shares, cost and fee out of the
        hedge's fill, its order, its market's position and totals and the total exposure, with an
        event. The hedge is SETTLED once every trade is final. Returns the hedge as stored after,
        or None when there was nothing to do (the trade already final, or not followed)."""
        if status not in UNSETTLED + FINAL:
            raise ValueError(f"unknown trade status {status!r}")
        if status in UNSETTLED:
            # A note only: one statement, no lock on the market the order path is busy with.
            sql.run(self.db, [_noted(hedge_id, fill, price, status, utcnow())])
            return None
        if status == "confirmed":
            return self.confirm_all([Confirmed(hedge_id, fill, price)]).get(hedge_id)
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == hedge_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {hedge_id!r}")
        with write_transaction(self.db):
            held = groups.lock_market(mapping_id)  # with its neg-risk group's rows: the total counts it
            order_id = HedgePosition.select(HedgePosition.order).where(HedgePosition.id == hedge_id).scalar()
            siblings = list(
                positions.locked(
                    HedgePosition.select(HedgePosition, UserOrder)
                    .join(UserOrder)
                    .where(HedgePosition.order == order_id)
                    .order_by(HedgePosition.created_at)
                )
            )
            trades = _locked_trades([hedge_id]).get(hedge_id, {})
            row = trades.get(fill.trade_id)
            if row is None or row.status in FINAL:
                return None
            now = utcnow()
            writes = [_noted(hedge_id, fill, price, status, now)]
            current = next(hedge_of(r) for r in siblings if r.id == hedge_id)
            after = current
            if status == "failed":
                confirmed = sum((t.shares for t in trades.values() if t.status == "confirmed"), Decimal(0))
                after = current.trade_failed(fill, confirmed, now)
            if _all_final(trades, {fill.trade_id}):
                after = after.settlement_final(now)
            if after == current:
                sql.run(self.db, writes)
                return after
            writes.append(sql.update("hedge_position", hedge_changes(current, after), {"id": hedge_id}))
            stored = OrderWithHedges(order_of(siblings[0].order), [hedge_of(r) for r in siblings])
            if status == "failed":
                writes.extend(self._undo(stored, current, after, fill, held, now))
            sql.run(self.db, writes)
        if status == "failed" and self._announce is not None:
            self._announce()
        return after

    def confirm_all(self, confirmed: list[Confirmed]) -> dict[str, Hedge]:
        """Records every CONFIRMED trade of `confirmed` in one transaction, each once: the hedges' rows
        locked (in the order every writer locks an order's hedges), then their trades (no position
        changes, so not the markets' rows); a hedge SETTLED once every trade of it is final. Returns
        each hedge with a trade newly confirmed, as stored after (a trade already final, or not
        followed, is left as it is)."""
        if not confirmed:
            return {}
        hedge_ids = sorted({c.hedge_id for c in confirmed})
        with write_transaction(self.db):
            rows = positions.locked(
                HedgePosition.select()
                .where(HedgePosition.id.in_(hedge_ids))
                .order_by(HedgePosition.order, HedgePosition.created_at)
            )
            hedges = {row.id: hedge_of(row) for row in rows}
            if missing := [h for h in hedge_ids if h not in hedges]:
                raise NotFound(f"no hedge {missing[0]!r}")
            trades = _locked_trades(hedge_ids)
            news = [
                c
                for c in {c.fill.trade_id: c for c in confirmed}.values()
                if (row := trades.get(c.hedge_id, {}).get(c.fill.trade_id)) is not None
                and row.status not in FINAL
            ]
            now = utcnow()
            after: dict[str, Hedge] = {}
            for hedge_id in dict.fromkeys(c.hedge_id for c in news):
                current = hedges[hedge_id]
                done = {c.fill.trade_id for c in news if c.hedge_id == hedge_id}
                after[hedge_id] = (
                    current.settlement_final(now) if _all_final(trades[hedge_id], done) else current
                )
            writes = [_confirmed(news, now)] if news else []
            writes += [
                sql.update("hedge_position", hedge_changes(hedges[h], a), {"id": h})
                for h, a in after.items()
                if a != hedges[h]
            ]
            sql.run(self.db, writes)
        return after

    def _undo(
        self,
        stored: OrderWithHedges,
        current: Hedge,
        after: Hedge,
        fill: TradeFill,
        held: groups.Held,
        now: datetime,
    ) -> list[sql.Statement]:
        """The writes that take a FAILED trade out of everything its fill was counted in."""
        corrected = stored.with_hedge(after, now)
        order = corrected.order
        # What actually left the fill (a fill left empty drops whatever cost and fee it carried).
        moved = held.positions[current.mapping_id].without_fill(
            Leg(current.leg),
            Side(current.side),
            shares=current.filled_size - after.filled_size,
            cost=current.fill_cost - after.fill_cost,
            fee=current.fee - after.fee,
        )
        change = (
            of_hedge(after.status.value, after.spread_captured, after.fee, after.net_profit)
            + _share(order)
            - of_hedge(current.status.value, current.spread_captured, current.fee, current.net_profit)
            - _share(stored.order)
        )
        data: dict[str, object] = {
            "trade_id": fill.trade_id,
            "shares": fill.shares,
            "filled_size": after.filled_size,
            "venue_order_id": after.venue_order_id or "",
        }
        message = f"trade {fill.trade_id} FAILED at settlement: {fill.shares} shares undone, {after.filled_size} left"
        new = [
            NewEvent("hedge_trade_failed", message, order.event_id, order.outcome, order.id, after.id, data)
        ]
        return [
            sql.update(
                "user_order",
                {
                    "hedge_status": order.hedge_status.value,
                    "hedged_size": order.hedged_size,
                    "updated_at": now,
                },
                {"id": order.id},
            ),
            *positions.writes(self.db, current.mapping_id, moved, change, now),
            positions.add_to_total(held.move(current.mapping_id, moved), now),
            *positions.outcome_count(current.created_at, current.status.value, after.status.value),
            *events.statements(self.db, new, notify=self._announce is None),
        ]


def _noted(hedge_id: str, fill: TradeFill, price: Decimal, status: str, now: datetime) -> sql.Statement:
    """The statement recording a trade's status and our side of it, unless it is already final."""
    return (
        "UPDATE hedge_trade SET status = %s, shares = %s, price = %s, updated_at = %s"
        " WHERE trade_id = %s AND hedge_id = %s AND status NOT IN ('confirmed', 'failed')",
        (status, fill.shares, price, now, fill.trade_id, hedge_id),
    )


def _share(order: Order) -> MarketTotals:
    """The running totals' share of an accepted order (`server.store.hedge_outcomes` counts it alike)."""
    assert order.price is not None, f"order {order.id} has a hedge but no price"
    return of_order(order.size, order.price, order.hedged_size)


def _locked_trades(hedge_ids: list[str]) -> dict[str, dict[str, HedgeTrade]]:
    """The trades of the hedges `hedge_ids` (whose rows the caller has locked), locked, by hedge and
    trade id: how every writer of a final status takes them."""
    query = HedgeTrade.select().where(HedgeTrade.hedge.in_(hedge_ids)).order_by(HedgeTrade.trade_id)
    found: dict[str, dict[str, HedgeTrade]] = {}
    for row in positions.locked(query):
        found.setdefault(row.hedge_id, {})[row.trade_id] = row
    return found


def _all_final(trades: dict[str, HedgeTrade], now_final: set[str]) -> bool:
    """Whether every one of a hedge's `trades` is final once those in `now_final` are."""
    return all(t.status in FINAL for t in trades.values() if t.trade_id not in now_final)


def _confirmed(news: list[Confirmed], now: datetime) -> sql.Statement:
    """One statement moving every trade of `news` to CONFIRMED with our side of it, unless already final."""
    rows = ", ".join(["(%s, %s, %s::numeric, %s::numeric)"] * len(news))
    values = tuple(v for c in news for v in (c.fill.trade_id, c.hedge_id, c.fill.shares, c.price))
    return (
        "UPDATE hedge_trade AS t SET status = 'confirmed', shares = v.shares, price = v.price, updated_at = %s"
        f" FROM (VALUES {rows}) AS v (trade_id, hedge_id, shares, price)"
        " WHERE t.trade_id = v.trade_id AND t.hedge_id = v.hedge_id AND t.status NOT IN ('confirmed', 'failed')",
        (now, *values),
    )
