"""Booking user orders: the transaction that makes hedging exactly-once, and the reads of an order.

`place` is one transaction that records the user order, reserves its exposure against every limit
and records the signed hedge intent (its order hash and the exact bytes to post) before anything goes
to the venue. No network call happens inside it. Lock order as in every writer
(`server.store.positions`): the market's exposure row, then the totals row, then the event lock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import peewee

from server.domain.decision import LIMIT_REASONS, Accepted, Decision, OrderRequest, Rejected
from server.domain.exposure import Position
from server.domain.group_exposure import OutcomeLosses
from server.domain.hedge import Hedge, SignedIntent
from server.domain.hedge_result import HedgeResult
from server.domain.in_flight import InFlight
from server.domain.market_state import market_closed
from server.domain.order import Order, OrderWithHedges
from server.domain.pricing import Quote
from server.domain.types import HedgeStatus, Mode, OrderHedgeStatus, RejectReason
from server.errors import AlreadyExists, NotFound
from server.risk.market_totals import of_hedge, of_order
from server.store import events, groups, market_states, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.hedge_outcomes import HedgeOutcomes
from server.store.hedge_trades import HedgeTrades
from server.store.models import HedgePosition, PolymarketMarketMapping, UserOrder
from server.store.rehedges import Rehedges
from server.store.rows import hedge_columns, hedge_of, order_columns, order_of

__all__ = ["OrderStore", "OrderWithHedges", "SignedIntent"]

# The other markets of the order's neg-risk event group, locked with it (`server.store.groups`).
Group = tuple[OutcomeLosses, ...] | None


class OrderStore:
    def __init__(self, database: peewee.Database, announce: Callable[[], None] | None = None) -> None:
        """`announce`, when given, is called after each order or hedge-result transaction commits
        (its events are then written without a NOTIFY of their own; see `server.store.events`)."""
        self.db = database
        self._announce = announce
        self.outcomes = HedgeOutcomes(database, announce)
        self.trades = HedgeTrades(database, announce)
        self.rehedges = Rehedges(database)

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, order_id: str) -> OrderWithHedges:
        found = self._read(UserOrder.id == order_id)
        if found is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        return found

    def find_by_request(self, account_id: str, request_id: str) -> OrderWithHedges | None:
        return self._read((UserOrder.account_id == account_id) & (UserOrder.request_id == request_id))

    def replay_of(self, request: OrderRequest, request_hash: str) -> OrderWithHedges | None:
        """The order already booked under this request id, if any; `AlreadyExists` when it was
        booked for a different body."""
        found = self.find_by_request(request.account_id, request.request_id)
        return _same_body(found, request_hash) if found is not None else None

    def hedge(self, hedge_id: str) -> Hedge:
        row = HedgePosition.get_or_none(HedgePosition.id == hedge_id)
        if row is None:
            raise NotFound(f"no hedge {hedge_id[:64]!r}")
        return hedge_of(row)

    def _read(self, where: peewee.Expression) -> OrderWithHedges | None:
        row = UserOrder.get_or_none(where)
        if row is None:
            return None
        hedges = (
            HedgePosition.select().where(HedgePosition.order == row.id).order_by(HedgePosition.created_at)
        )
        return OrderWithHedges(order_of(row), [hedge_of(h) for h in hedges])

    # --- the order transaction -----------------------------------------------------------------------
    def place(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decide: Callable[[Position, Decimal, Group], Decision],
        sign: Callable[[Quote], SignedIntent],
    ) -> tuple[OrderWithHedges, bool]:
        """Books the order (or its rejection) once. Returns the stored order and whether this call
        created it; a replay of the same request returns the stored order, a different body under the
        same request id raises `AlreadyExists`.

        One transaction: find any order under this request id, lock the market's exposure row (reading
        the total in the same statement), decide on the position and the total, then write the order,
        its hedge, the position, the market's running totals, the total and the events in one batch
        that ends by checking the total against its limit (`positions.within`). When another process
        took the total's last headroom meanwhile, that transaction rolls back and the order is booked
        rejected (TOTAL_EXPOSURE_LIMIT) in a second one. An accepted order costs five round trips:
        BEGIN, the replay check, the lock, the batch and COMMIT; the market's row is held over the
        last two, the totals row and the event lock over the last one."""
        try:
            try:
                booked = self._book(request, request_hash, mapping, decide, sign)
            except _NoRoom:
                rejected = Rejected(
                    RejectReason.TOTAL_EXPOSURE_LIMIT, "unhedged exposure would exceed maxUnhedgedExposure"
                )
                booked = self._book(request, request_hash, mapping, lambda _p, _t, _g: rejected, sign)
        except _Replay as replay:
            return _same_body(self.get(replay.order_id), request_hash), False
        except peewee.IntegrityError:
            # A concurrent duplicate of this request committed first (the unique request id).
            again = self.replay_of(request, request_hash)
            if again is None:
                raise
            return again, False
        if self._announce is not None:
            self._announce()
        return booked, True

    def _book(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decide: Callable[[Position, Decimal, Group], Decision],
        sign: Callable[[Quote], SignedIntent],
    ) -> OrderWithHedges:
        with write_transaction(self.db):
            # Before the market's lock, so as not to hold it for this read: a duplicate that commits
            # meanwhile is found by the unique request id (`place`).
            _raise_if_booked(request)
            if mapping is None or not mapping.active:
                return self._write_rejected(request, request_hash, mapping, _inactive())
            closed = market_closed(market_states.state_of(mapping))
            if closed is not None:
                return self._write_rejected(request, request_hash, mapping, closed)
            group = groups.lock_group(mapping)  # the group's rows before the market's own: id order
            position, total = positions.lock_with_total(mapping.id)
            decision = decide(position, total, group)
            if isinstance(decision, Rejected):
                return self._write_rejected(request, request_hash, mapping, decision)
            return self._write_accepted(request, request_hash, mapping, decision, sign)

    def _write_rejected(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decision: Rejected,
    ) -> OrderWithHedges:
        order = _order(request, request_hash, mapping, utcnow(), decision)
        data: dict[str, object] = {"reason": decision.reason.value}
        new = [_order_event(order, "order_rejected", decision.message, data)]
        if decision.reason in LIMIT_REASONS:
            new.append(_order_event(order, "limit_reached", decision.message, data))
        sql.run(self.db, [sql.insert("user_order", order_columns(order)), *self._events(new)])
        return OrderWithHedges(order, [])

    def _write_accepted(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping,
        decision: Accepted,
        sign: Callable[[Quote], SignedIntent],
    ) -> OrderWithHedges:
        now = utcnow()
        order = _order(request, request_hash, mapping, now, decision)
        rows = [sql.insert("user_order", order_columns(order))]
        q = decision.quote
        new = [_order_event(order, "order_accepted", order.message, {"price": q.price, "size": q.size})]
        change = of_order(order.size, q.price, order.hedged_size)
        hedges = []
        if decision.hedge is not None:
            hedge = _hedge(order.id, mapping.id, decision, decision.hedge, sign, now)
            rows.append(sql.insert("hedge_position", hedge_columns(hedge)))
            hedges.append(hedge)
            change += of_hedge(hedge.status.value, hedge.spread_captured, hedge.fee, hedge.net_profit)
            if hedge.is_paper:
                new.append(
                    _order_event(
                        order, "hedge_paper_filled", "paper hedge filled in simulation", {}, hedge.id
                    )
                )
            else:
                new.append(
                    _order_event(
                        order, "hedge_submitted", "hedge signed and sent to Polymarket", {}, hedge.id
                    )
                )
        delta = decision.total_after - decision.total_before
        counted = positions.outcome_count(now, "", hedges[0].status.value) if hedges else []
        batch = [
            *rows,
            *positions.writes(self.db, mapping.id, decision.after, change, now),
            positions.add_to_total(delta, now),
            *counted,
            *self._events(new),
            positions.within(decision.total_limit if delta > 0 else None),
        ]
        if sql.run(self.db, batch) == 0:
            raise _NoRoom
        return OrderWithHedges(order, hedges)

    def _events(self, new: list[NewEvent]) -> list[sql.Statement]:
        return events.statements(self.db, new, notify=self._announce is None)


class _Replay(Exception):
    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


class _NoRoom(Exception):
    """The total's reservation did not fit: another process took the last headroom."""


def _raise_if_booked(request: OrderRequest) -> None:
    found = (
        UserOrder.select(UserOrder.id)
        .where((UserOrder.account_id == request.account_id) & (UserOrder.request_id == request.request_id))
        .scalar()
    )
    if found is not None:
        raise _Replay(str(found))


def _same_body(existing: OrderWithHedges, request_hash: str) -> OrderWithHedges:
    if existing.order.request_hash != request_hash:
        raise AlreadyExists("request_id was already used for a different order")
    return existing


def _order(
    request: OrderRequest,
    request_hash: str,
    mapping: PolymarketMarketMapping | None,
    now: datetime,
    decision: Accepted | Rejected,
) -> Order:
    if isinstance(decision, Rejected):
        quoted = decision.quote
        status, reason, message, price, notional = "rejected", decision.reason, decision.message, None, None
        hedge_status, hedged = OrderHedgeStatus.NOT_ATTEMPTED, Decimal(0)
        reference = quoted.reference_price if quoted else None
        fee = quoted.hedge_fee if quoted else None
    else:
        q, paper = decision.quote, decision.paper_fill
        status, reason, message, price, notional = (
            "accepted",
            None,
            _accepted_message(decision),
            q.price,
            q.notional,
        )
        reference, fee = q.reference_price, q.hedge_fee
        hedged = paper.filled if paper is not None else Decimal(0)
        if decision.hedge is None:
            hedge_status = OrderHedgeStatus.NOT_ATTEMPTED
        else:
            hedge_status = OrderHedgeStatus.PAPER if paper is not None else OrderHedgeStatus.PENDING
    return Order(
        id=str(uuid.uuid4()),
        account_id=request.account_id,
        request_id=request.request_id,
        request_hash=request_hash,
        mapping_id=mapping.id if mapping is not None else None,
        event_id=request.event_id,
        outcome=request.outcome,
        side=request.side,
        size=request.size,
        limit_price=request.limit_price,
        status=status,
        reject_reason=reason,
        message=message,
        price=price,
        notional=notional,
        reference_price=reference,
        hedge_fee_estimate=fee,
        hedge_status=hedge_status,
        hedged_size=hedged,
        created_at=now,
        updated_at=now,
    )


def _hedge(
    order_id: str,
    mapping_id: int,
    decision: Accepted,
    flight: InFlight,
    sign: Callable[[Quote], SignedIntent],
    now: datetime,
) -> Hedge:
    q, paper = decision.quote, decision.paper_fill
    booked = Hedge.pending(
        id=str(uuid.uuid4()),
        order_id=order_id,
        mapping_id=mapping_id,
        parent_hedge_id=None,
        token_id=q.hedge.token_id,
        leg=q.hedge.leg,
        side=q.hedge.side,
        user_price=q.price,
        quoted_price=q.reference_price,
        limit_price=q.hedge_limit_price,
        order_type=decision.order_type,
        flight=flight,
        signed=sign(q) if paper is None else None,
        now=now,
    )
    if paper is None:
        return booked
    reason = None if paper.filled else "no paper fill within the hedge's limit"
    filled = HedgeResult(HedgeStatus.PAPER, paper.filled, paper.cost, paper.fee, reason)
    return booked.paper_filled(filled, now)


def _order_event(
    order: Order, kind: str, message: str, data: dict[str, object], hedge_id: str | None = None
) -> NewEvent:
    return NewEvent(kind, message, order.event_id, order.outcome, order.id, hedge_id, dict(data))


def _inactive() -> Rejected:
    return Rejected(RejectReason.MARKET_INACTIVE, "the market has no active Polymarket mapping")


def _accepted_message(decision: Accepted) -> str:
    if decision.mode is Mode.OFF:
        return "accepted unhedged: hedging is off"
    if decision.queued:
        return "accepted; hedge queued: the market's rebalancer hedges its net exposure"
    if decision.hedge is None:
        return "accepted; no hedge needed: the order brings the market's unhedged position towards flat"
    if decision.paper_fill is not None:
        return "accepted; paper hedge filled in simulation"
    return "accepted; hedge sent to Polymarket"
