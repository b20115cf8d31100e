"""What became of hedges at the venue: each outcome recorded exactly once, lost answers marked
UNKNOWN, re-posts counted, and the open hedges the resolver must look up.

Each write is one transaction in the lock order of every writer (`server.store.positions`): the
market's exposure row with those of its neg-risk group (`server.store.groups`), then the hedge rows, then the totals row, then the event lock. The hedge's
state change itself is `server.domain.hedge.Hedge`'s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import peewee

from server.domain.exposure import Position
from server.domain.hedge import Hedge
from server.domain.hedge_result import HedgeResult
from server.domain.order import Order, OrderWithHedges
from server.domain.types import HedgeStatus, OrderHedgeStatus
from server.errors import NotFound
from server.risk.market_totals import MarketTotals, of_hedge, of_order
from server.store import events, groups, hedge_trades, outcome_seconds, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import HedgePosition, UserOrder
from server.store.rows import hedge_changes, hedge_of, order_of

_EVENT_OF = {
    HedgeStatus.HEDGED: "hedge_filled",
    HedgeStatus.PARTIAL: "hedge_partially_filled",
    HedgeStatus.FAILED: "hedge_failed",
}


class HedgeOutcomes:
    def __init__(self, database: peewee.Database, announce: Callable[[], None] | None = None) -> None:
        """`announce`, when given, is called after each recorded result commits (see `OrderStore`)."""
        self.db = database
        self._announce = announce

    def record_result(self, hedge: Hedge, result: HedgeResult, *, resolved: bool = False) -> OrderWithHedges:
        """Applies a live hedge's final outcome once: `record_results` with a batch of one."""
        (outcome,) = self.record_results([Outcome(hedge, result, resolved)])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def record_results(self, outcomes: list[Outcome]) -> list[OrderWithHedges | Exception]:
        """Applies live hedges' final outcomes, once each, in one transaction and in their order (a
        hedge already final is left as it is). Returns, for each, the hedge's order with all its
        hedges as stored after it, or `NotFound` for a hedge that does not exist. An error of the
        database raises: nothing was written.

        Round trips: BEGIN, the markets' lock, the orders with their hedges in one locking join, one
        batch of writes, COMMIT; whatever the number of outcomes."""
        with write_transaction(self.db):
            held = groups.lock_markets(sorted({o.hedge.mapping_id for o in outcomes}))
            # The orders' hedges with their orders, in one statement (it locks their rows, all of
            # them written under their market's row: lock order).
            order_ids = sorted({o.hedge.order_id for o in outcomes})
            rows = positions.locked(
                HedgePosition.select(HedgePosition, UserOrder)
                .join(UserOrder)
                .where(HedgePosition.order.in_(order_ids))
                .order_by(HedgePosition.order, HedgePosition.created_at)
            )
            orders: dict[str, OrderWithHedges] = {}
            for row in rows:
                found = orders.setdefault(row.order_id, OrderWithHedges(order_of(row.order), []))
                found.hedges.append(hedge_of(row))
            now = utcnow()
            batch = _Batch(held.positions, held)
            answers = [self._apply(batch, orders, o, now) for o in outcomes]
            sql.run(self.db, batch.statements(self.db, now, notify=self._announce is None))
        if self._announce is not None and batch.events:
            self._announce()
        return answers

    def _apply(
        self, batch: _Batch, orders: dict[str, OrderWithHedges], outcome: Outcome, now: datetime
    ) -> OrderWithHedges | Exception:
        """One outcome on the orders and positions the batch's earlier outcomes left."""
        hedge, result = outcome.hedge, outcome.result
        stored = orders.get(hedge.order_id)
        current = next((h for h in stored.hedges if h.id == hedge.id), None) if stored else None
        if stored is None or current is None or hedge.mapping_id not in batch.positions:
            return NotFound(f"no hedge {hedge.id!r}")
        if not current.is_open:
            return stored
        settled = current.settled(result, now)
        after = stored.with_hedge(settled, now)
        order = after.order
        position = batch.positions[hedge.mapping_id]
        moved = position.with_hedge_result(
            current.in_flight, filled=result.filled, cost=result.cost, fee=result.fee
        )
        change = (
            of_hedge(settled.status.value, settled.spread_captured, settled.fee, settled.net_profit)
            + _share(order)
            - of_hedge(current.status.value, current.spread_captured, current.fee, current.net_profit)
            - _share(stored.order)
        )
        batch.writes += [
            sql.update("hedge_position", hedge_changes(current, settled), {"id": settled.id}),
            sql.update(
                "user_order",
                {
                    "hedge_status": order.hedge_status.value,
                    "hedged_size": order.hedged_size,
                    "updated_at": now,
                },
                {"id": order.id},
            ),
        ]
        batch.moved[hedge.mapping_id] = batch.moved.get(hedge.mapping_id, MarketTotals()) + change
        batch.deltas.append(batch.held.move(hedge.mapping_id, moved))  # its group's exposure moves
        batch.ended.append((settled.created_at, current.status.value, settled.status.value))
        batch.events += _result_events(after, settled, result, outcome.resolved)
        if settled.settlement is not None:
            batch.writes += hedge_trades.followed(settled.id, result.trade_ids, now)
        orders[hedge.order_id] = after
        return after

    def mark_unknown(self, hedge_id: str, message: str, retry_in: timedelta) -> None:
        """The venue's answer was lost: keep the exposure reserved and look the order up later."""
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == hedge_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {hedge_id!r}")
        with write_transaction(self.db):
            # The market's exposure row first (the lock order), then the hedge as it is now: every
            # writer of a hedge's status holds that row, so the status read here stays true to commit
            # and the market's hedge counts move once.
            positions.lock(mapping_id)
            hedge = hedge_of(
                positions.locked(HedgePosition.select().where(HedgePosition.id == hedge_id)).get()
            )
            if not hedge.is_open:
                return
            now = utcnow()
            unknown = hedge.unknown(message, now + retry_in, now)
            HedgePosition.update(**hedge_changes(hedge, unknown)).where(
                HedgePosition.id == hedge_id
            ).execute()
            if hedge.status is HedgeStatus.PENDING:
                positions.add_totals(self.db, mapping_id, MarketTotals(pending_hedges=-1, unknown_hedges=1))
                order = order_of(UserOrder.get_by_id(hedge.order_id))
                UserOrder.update(hedge_status=OrderHedgeStatus.UNKNOWN.value, updated_at=now).where(
                    UserOrder.id == order.id
                ).execute()
                event = NewEvent(
                    "hedge_unknown", message, order.event_id, order.outcome, order.id, hedge.id, {}
                )
                events.append(self.db, [event])

    def note_attempt(self, hedge_id: str) -> None:
        """Counts one more post of the hedge's stored bytes."""
        now = utcnow()
        HedgePosition.update(
            attempt_count=HedgePosition.attempt_count + 1, submitted_at=now, updated_at=now
        ).where(HedgePosition.id == hedge_id).execute()

    def open_hedges(self, *, submitted_before: datetime, limit: int = 100) -> list[Hedge]:
        """Live hedges whose outcome is not known: UNKNOWN ones due for a check, and PENDING ones older
        than `submitted_before` (their poster may have crashed)."""
        now = utcnow()
        due = (HedgePosition.status == HedgeStatus.UNKNOWN.value) & (
            HedgePosition.next_check_at.is_null() | (HedgePosition.next_check_at <= now)
        )
        stale = (HedgePosition.status == HedgeStatus.PENDING.value) & (
            HedgePosition.created_at < submitted_before
        )
        query = (
            HedgePosition.select()
            .where((HedgePosition.is_paper == False) & (due | stale))  # noqa: E712 - peewee expression
            .order_by(HedgePosition.created_at)
            .limit(limit)
        )
        return [hedge_of(row) for row in query]


@dataclass(frozen=True)
class Outcome:
    """A live hedge's final outcome to record; `resolved` when it was looked up at the venue."""

    hedge: Hedge
    result: HedgeResult
    resolved: bool = False


@dataclass
class _Batch:
    """What a batch of outcomes writes, gathered in their order."""

    positions: dict[int, Position]  # `held`'s
    held: groups.Held
    writes: list[sql.Statement] = field(default_factory=list)
    moved: dict[int, MarketTotals] = field(default_factory=dict)
    deltas: list[Decimal] = field(default_factory=list)
    ended: list[tuple[datetime, str, str]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)

    def statements(self, database: peewee.Database, now: datetime, *, notify: bool) -> list[sql.Statement]:
        """In lock order: the hedges and orders, each market touched, the total, the counts of ended
        hedges, the events."""
        statements = list(self.writes)
        for mapping_id, change in sorted(self.moved.items()):
            statements += positions.writes(database, mapping_id, self.positions[mapping_id], change, now)
        if self.deltas:
            statements.append(positions.add_each_to_total(self.deltas, now))
        statements += outcome_seconds.add_many(self.ended)
        return statements + events.statements(database, self.events, notify=notify)


def _result_events(
    after: OrderWithHedges, settled: Hedge, result: HedgeResult, resolved: bool
) -> list[NewEvent]:
    order = after.order
    message = result.failure_reason or f"{result.filled} of {settled.size} shares filled"
    data: dict[str, object] = {
        "filled_size": result.filled,
        "fee": result.fee,
        "venue_order_id": settled.venue_order_id or "",
    }
    kind = _EVENT_OF[settled.status]
    new = [NewEvent(kind, message, order.event_id, order.outcome, order.id, settled.id, dict(data))]
    if resolved:
        new.append(
            NewEvent(
                "hedge_resolved",
                "unknown hedge resolved at the venue",
                order.event_id,
                order.outcome,
                order.id,
                settled.id,
                dict(data),
            )
        )
    return new


def _share(order: Order) -> MarketTotals:
    """The running totals' share of an accepted order (the only kind a hedge belongs to)."""
    assert order.price is not None, f"order {order.id} has a hedge but no price"
    return of_order(order.size, order.price, order.hedged_size)
