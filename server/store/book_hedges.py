"""The rebalancer's hedges of netted markets (migration 0009): deciding and booking one exactly once,
recording what became of it, and the allocation of its fill to the market's user orders.

Each write is one transaction in the lock order of every writer (`server.store.positions`): the
market's exposure row, then hedge and order rows, then the totals row, then the event lock. Deciding
happens under the market's row lock, on the position as committed, with every hedge in flight counted
at its worst: two rebalancers of one market (an owner and one taking over) can never hedge a gap twice."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import peewee

from server.domain.allocation import Allocation, Need, allocate, net_opposite
from server.domain.book_hedge import BookHedge, OrderAllocation
from server.domain.exposure import Position
from server.domain.hedge import SignedIntent
from server.domain.hedge_result import HedgeResult
from server.domain.rebalance import Hold, HoldReason, Rebalance, RebalanceOrder
from server.domain.types import HedgeStatus, Leg, OrderHedgeStatus, Side
from server.errors import NotFound
from server.risk.market_totals import MarketTotals
from server.store import events, groups, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import BookHedge as BookHedgeRow
from server.store.models import (
    HedgeAllocation,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
    UserOrder,
)
from server.store.rows import position_of

# decide(position, total, oldest_unhedged_at) -> the rebalancer's decision
Decide = Callable[[Position, Decimal, datetime | None], Rebalance]
_FIELDS = tuple(f.name for f in dataclasses.fields(BookHedge))
# Orders a netted market's hedges cover: accepted, never given a hedge of their own, not yet covered.
_WAITING = (OrderHedgeStatus.NOT_ATTEMPTED.value, OrderHedgeStatus.PARTIALLY_HEDGED.value)
_ORDER_EVENT_OF = {
    OrderHedgeStatus.HEDGED: "hedge_filled",
    OrderHedgeStatus.PARTIALLY_HEDGED: "hedge_partially_filled",
}
_EVENT_OF = {
    HedgeStatus.HEDGED: "hedge_filled",
    HedgeStatus.PARTIAL: "hedge_partially_filled",
    HedgeStatus.FAILED: "hedge_failed",
}


class _NoRoom(Exception):
    """The total's reservation did not fit: another process took the last headroom."""


class BookHedges:
    def __init__(self, database: peewee.Database) -> None:
        self.db = database

    # --- deciding ------------------------------------------------------------------------------------
    def decide_and_book(
        self,
        mapping: PolymarketMarketMapping,
        decide: Decide,
        sign: Callable[[RebalanceOrder], SignedIntent],
        order_type: str,
        total_limit: Decimal,
    ) -> BookHedge | Hold:
        """One transaction: lock the market's row, decide on the position as committed, and book the
        order decided (signed, its hash and bytes stored, its bounds added to the market's in-flight
        columns) before anything is posted. Returns the booked hedge, or why none.

        The market's row is locked only when a first look without the lock finds something to do: a
        market on target (most passes) costs its orders no lock wait. The look may be stale; the
        locked decision is the one that counts, and a look that missed work sees it next pass."""
        glance = self._glance(mapping.id, decide)
        if glance is not None:
            return glance
        try:
            with write_transaction(self.db):
                held = groups.lock_market(mapping.id)  # with its group's rows: the total counts it
                position, total = held.positions[mapping.id], positions.committed_total()
                netting, netted_events = _netted(mapping, utcnow())
                decision = decide(position, total, _oldest_waiting(mapping.id))
                if isinstance(decision, Hold):
                    sql.run(self.db, [*netting, *events.statements(self.db, netted_events)])
                    return decision
                now = utcnow()
                token = mapping.yes_token_id if decision.leg is Leg.YES else mapping.no_token_id
                hedge = BookHedge.pending(
                    id=str(uuid.uuid4()),
                    mapping_id=mapping.id,
                    token_id=token,
                    order=decision,
                    order_type=order_type,
                    signed=sign(decision),
                    now=now,
                )
                delta = held.move(mapping.id, decision.after)
                new = [
                    *netted_events,
                    NewEvent(
                        "hedge_submitted",
                        f"rebalancer: {hedge.side.value} {hedge.size} {hedge.leg.value} for a gap of"
                        f" {decision.gap} shares",
                        mapping.event_id,
                        mapping.outcome,
                        None,
                        hedge.id,
                        {"size": hedge.size, "limit_price": hedge.limit_price},
                    ),
                ]
                batch = [
                    *netting,
                    sql.insert("book_hedge", _columns(hedge)),
                    *positions.writes(self.db, mapping.id, decision.after, MarketTotals(), now),
                    positions.add_to_total(delta, now),
                    *events.statements(self.db, new),
                    positions.within(total_limit if delta > 0 else None),
                ]
                if sql.run(self.db, batch) == 0:
                    raise _NoRoom
                return hedge
        except _NoRoom:
            return Hold(HoldReason.LIMITS, decision.gap)

    def _glance(self, mapping_id: int, decide: Decide) -> Hold | None:
        """The decision on the committed position without its lock when it holds and no opposite
        orders wait to be netted; None when the locked transaction must run."""
        row = MarketExposure.get_or_none(MarketExposure.mapping == mapping_id)
        total = RiskTotals.select(RiskTotals.unhedged_exposure).where(RiskTotals.id == 1).scalar()
        if row is None or total is None:
            return None
        decision = decide(position_of(row), Decimal(total), _oldest_waiting(mapping_id))
        if not isinstance(decision, Hold):
            return None
        sides = _waiting(mapping_id).select(UserOrder.side).distinct().count()
        return decision if sides < 2 else None

    # --- outcomes ------------------------------------------------------------------------------------
    def record_result(self, hedge_id: str, result: HedgeResult, *, resolved: bool = False) -> BookHedge:
        """Applies an open hedge's final outcome once (a hedge already final is returned as it is): the
        fill replaces its in-flight bound, and the fill is allocated to the market's waiting user
        orders, oldest first, in the same transaction."""
        mapping_id = _mapping_of(hedge_id)
        with write_transaction(self.db):
            held = groups.lock_market(mapping_id)  # with its group's rows: the total counts it
            position = held.positions[mapping_id]
            current = _locked(hedge_id)
            if not current.is_open:
                return current
            now = utcnow()
            settled = current.settled(result, now)
            moved = position.with_hedge_result(
                current.in_flight, filled=result.filled, cost=result.cost, fee=result.fee
            )
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            writes, new = _allocated(settled, mapping, now)
            message = result.failure_reason or f"{result.filled} of {settled.size} shares filled"
            data: dict[str, object] = {"filled_size": result.filled, "fee": result.fee}
            new.insert(
                0,
                NewEvent(_EVENT_OF[settled.status], f"rebalancer: {message}", mapping.event_id,
                         mapping.outcome, None, settled.id, data),
            )  # fmt: skip
            if resolved:
                new.append(
                    NewEvent("hedge_resolved", "unknown book hedge resolved at the venue", mapping.event_id,
                             mapping.outcome, None, settled.id, dict(data))
                )  # fmt: skip
            sql.run(
                self.db,
                [
                    sql.update("book_hedge", _changes(current, settled), {"id": settled.id}),
                    *writes,
                    *positions.writes(self.db, mapping_id, moved, MarketTotals(fees=result.fee), now),
                    positions.add_to_total(held.move(mapping_id, moved), now),
                    *events.statements(self.db, new),
                ],
            )
        return settled

    def mark_unknown(self, hedge_id: str, message: str, retry_in: timedelta) -> None:
        """The venue's answer was lost: the bound stays reserved; look the hash up after `retry_in`."""
        mapping_id = _mapping_of(hedge_id)
        with write_transaction(self.db):
            positions.lock(mapping_id)
            current = _locked(hedge_id)
            if not current.is_open:
                return
            now = utcnow()
            unknown = current.unknown(message, now + retry_in, now)
            sql.run(self.db, [sql.update("book_hedge", _changes(current, unknown), {"id": hedge_id})])

    def note_attempt(self, hedge_id: str) -> None:
        """Counts one more post of the hedge's stored bytes."""
        BookHedgeRow.update(attempt_count=BookHedgeRow.attempt_count + 1, updated_at=utcnow()).where(
            BookHedgeRow.id == hedge_id
        ).execute()

    # --- reads ---------------------------------------------------------------------------------------
    def open_hedges(self, mapping_id: int, *, due_before: datetime) -> list[BookHedge]:
        """The market's open hedges whose outcome must be looked up: UNKNOWN ones due for a check, and
        PENDING ones created before `due_before` (their poster may have died)."""
        unknown_due = (BookHedgeRow.status == HedgeStatus.UNKNOWN.value) & (
            BookHedgeRow.next_check_at.is_null() | (BookHedgeRow.next_check_at <= utcnow())
        )
        stale = (BookHedgeRow.status == HedgeStatus.PENDING.value) & (BookHedgeRow.created_at < due_before)
        query = (
            BookHedgeRow.select()
            .where((BookHedgeRow.mapping == mapping_id) & (unknown_due | stale))
            .order_by(BookHedgeRow.created_at)
        )
        return [book_hedge_of(row) for row in query]

    def hedge(self, hedge_id: str) -> BookHedge:
        row = BookHedgeRow.get_or_none(BookHedgeRow.id == hedge_id)
        if row is None:
            raise NotFound(f"no book hedge {hedge_id[:64]!r}")
        return book_hedge_of(row)


def allocations(order_id: str) -> list[OrderAllocation]:
    """The parts of the market's hedges that covered a user order, oldest first."""
    query = (
        HedgeAllocation.select(
            HedgeAllocation.book_hedge,
            BookHedgeRow.venue_order_id,
            HedgeAllocation.shares,
            HedgeAllocation.cost,
            HedgeAllocation.fee,
        )
        .join(BookHedgeRow, peewee.JOIN.LEFT_OUTER)
        .where(HedgeAllocation.order == order_id)
        .order_by(HedgeAllocation.created_at, HedgeAllocation.id)
        .tuples()
    )
    return [OrderAllocation(*cast(tuple[Any, ...], row)) for row in query]


def book_hedge_of(row: BookHedgeRow) -> BookHedge:
    values = {name: getattr(row, name) for name in _FIELDS if name != "mapping_id"}
    values["mapping_id"] = row.mapping_id
    values["leg"], values["side"], values["status"] = Leg(row.leg), Side(row.side), HedgeStatus(row.status)
    return BookHedge(**values)


def _columns(hedge: BookHedge) -> dict[str, Any]:
    values = dataclasses.asdict(hedge)
    values["leg"], values["side"], values["status"] = hedge.leg.value, hedge.side.value, hedge.status.value
    return values


def _changes(before: BookHedge, after: BookHedge) -> dict[str, Any]:
    old, new = _columns(before), _columns(after)
    return {k: v for k, v in new.items() if old[k] != v}


def _mapping_of(hedge_id: str) -> int:
    mapping_id = BookHedgeRow.select(BookHedgeRow.mapping).where(BookHedgeRow.id == hedge_id).scalar()
    if mapping_id is None:
        raise NotFound(f"no book hedge {hedge_id[:64]!r}")
    return int(mapping_id)


def _locked(hedge_id: str) -> BookHedge:
    return book_hedge_of(positions.locked(BookHedgeRow.select().where(BookHedgeRow.id == hedge_id)).get())


def _waiting(mapping_id: int) -> peewee.ModelSelect[UserOrder]:
    """The market's accepted orders with no hedge of their own that its book hedges do not cover yet."""
    own_hedge = HedgePosition.select(HedgePosition.id).where(HedgePosition.order == UserOrder.id)
    return UserOrder.select().where(
        (UserOrder.mapping == mapping_id)
        & (UserOrder.status == "accepted")
        & UserOrder.hedge_status.in_(_WAITING)
        & (UserOrder.hedged_size < UserOrder.size)
        & ~peewee.fn.EXISTS(own_hedge)
    )


def _oldest_waiting(mapping_id: int) -> datetime | None:
    oldest: datetime | None = _waiting(mapping_id).select(peewee.fn.MIN(UserOrder.created_at)).scalar()
    return oldest


def _netted(mapping: PolymarketMarketMapping, now: datetime) -> tuple[list[sql.Statement], list[NewEvent]]:
    """The writes that mark the market's waiting BUY and SELL orders covered by each other, as far as
    they meet (`allocation.net_opposite`), with their allocation rows (no book hedge), and their events
    (the caller writes those last, after the totals row: the lock order). Its reads lock the orders
    (hold the market's lock)."""
    rows = list(positions.locked(_waiting(mapping.id).order_by(UserOrder.created_at, UserOrder.id)))
    buys = [Need(r.id, r.size - r.hedged_size) for r in rows if r.side == Side.BUY.value]
    sells = [Need(r.id, r.size - r.hedged_size) for r in rows if r.side == Side.SELL.value]
    if not buys or not sells:
        return [], []
    by_id = {r.id: r for r in rows}
    writes: list[sql.Statement] = []
    new: list[NewEvent] = []
    for part in net_opposite(buys, sells):
        assert part.order_id is not None  # netting parts always name their order
        writes.append(sql.insert("hedge_allocation", _allocation_columns(None, part, now)))
        write, event = _covered(by_id[part.order_id], part, None, mapping, now)
        writes.append(write)
        new.append(event)
    return writes, new


def _covered(
    row: UserOrder, part: Allocation, hedge_id: str | None, mapping: PolymarketMarketMapping, now: datetime
) -> tuple[sql.Statement, NewEvent]:
    """The order's update and event for `part` of its need covered (by a book hedge, or netted)."""
    hedged = row.hedged_size + part.shares
    status = OrderHedgeStatus.HEDGED if hedged >= row.size else OrderHedgeStatus.PARTIALLY_HEDGED
    write = sql.update(
        "user_order", {"hedged_size": hedged, "hedge_status": status.value, "updated_at": now}, {"id": row.id}
    )
    data: dict[str, object] = {"shares": part.shares, "cost": part.cost, "fee": part.fee}
    by = f"book hedge {hedge_id}" if hedge_id is not None else "opposite user orders (netted, no venue order)"
    event = NewEvent(_ORDER_EVENT_OF[status], f"{part.shares} shares covered by {by}", mapping.event_id,
                     mapping.outcome, row.id, hedge_id, data)  # fmt: skip
    return write, event


def _allocated(
    hedge: BookHedge, mapping: PolymarketMarketMapping, now: datetime
) -> tuple[list[sql.Statement], list[NewEvent]]:
    """The writes and events that allocate a settled hedge's fill to the waiting orders it covers."""
    if hedge.filled_size <= 0:
        return [], []
    rows = list(
        positions.locked(
            _waiting(hedge.mapping_id)
            .where(UserOrder.side == hedge.covers.value)
            .order_by(UserOrder.created_at, UserOrder.id)
        )
    )
    needs = [Need(r.id, r.size - r.hedged_size) for r in rows]
    parts = allocate(needs, hedge.filled_size, hedge.fill_cost, hedge.fee)
    by_id = {r.id: r for r in rows}
    writes: list[sql.Statement] = []
    new: list[NewEvent] = []
    for part in parts:
        writes.append(sql.insert("hedge_allocation", _allocation_columns(hedge.id, part, now)))
        if part.order_id is None:
            continue
        write, event = _covered(by_id[part.order_id], part, hedge.id, mapping, now)
        writes.append(write)
        new.append(event)
    return writes, new


def _allocation_columns(hedge_id: str | None, part: Allocation, now: datetime) -> dict[str, Any]:
    return {
        "book_hedge_id": hedge_id,
        "order_id": part.order_id,
        "shares": part.shares,
        "cost": part.cost,
        "fee": part.fee,
        "created_at": now,
    }
