"""Booking user orders: one transaction books every order handed to it (a batch, often of one),
the transaction that makes hedging exactly-once.

For each order it records the user order, reserves its exposure against every limit and records the
signed hedge intent (its order hash and the exact bytes to post) before anything goes to the venue.
No network call happens inside it. Lock order as in every writer (`server.store.positions`): the
markets' exposure rows (sorted by id), then the totals row, then the event lock.

Why a batch: every order changes the one totals row and appends to the event log, whose locks a
writer holds through COMMIT (the WAL flush included), so orders booked one per transaction serialise
on that hold time, whatever the number of processes. Booked together, the orders that arrived
meanwhile share one hold and one flush (`server.trading.booking_writer` hands them over). The
orders of a batch are decided one after another, in arrival order, each on the position and total
the previous one left: the same decisions as booking them one by one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
from server.risk.market_totals import MarketTotals, of_hedge, of_order
from server.store import events, groups, market_states, outcome_seconds, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import PolymarketMarketMapping
from server.store.rows import hedge_columns, order_columns

__all__ = ["Booking", "Duplicate", "Group", "Replay", "Written", "write"]

# The other markets of the order's neg-risk event group, as the batch left them (`server.store.groups`).
Group = tuple[OutcomeLosses, ...] | None


@dataclass(frozen=True)
class Booking:
    """One order to book: the request, the market it names (None: unknown), how to decide it on the
    market's position and the total, and how to sign its hedge."""

    request: OrderRequest
    request_hash: str
    mapping: PolymarketMarketMapping | None
    decide: Callable[[Position, Decimal, Group], Decision]
    sign: Callable[[Quote], SignedIntent]
    policy: str | None = None  # the market's effective hedgePolicy, recorded on the order

    @property
    def key(self) -> tuple[str, str]:
        return self.request.account_id, self.request.request_id


@dataclass(frozen=True)
class Written:
    """An order this batch booked."""

    order: OrderWithHedges


@dataclass(frozen=True)
class Replay:
    """An order already booked under the booking's request id (in an earlier transaction)."""

    order_id: str


@dataclass(frozen=True)
class Duplicate:
    """The booking repeats the request id of an earlier booking of the same batch (its index)."""

    first: int


Outcome = Written | Replay | Duplicate | Exception


@dataclass
class _Batch:
    """What the batch's bookings write, gathered in arrival order."""

    now: datetime
    positions: dict[int, Position]  # `held`'s
    held: groups.Held
    total: Decimal
    orders: list[dict[str, object]] = field(default_factory=list)
    hedges: list[dict[str, object]] = field(default_factory=list)
    moved: dict[int, MarketTotals] = field(default_factory=dict)
    ended: list[tuple[datetime, str, str]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)


def write(database: peewee.Database, bookings: list[Booking], *, notify: bool) -> list[Outcome]:
    """Books `bookings` in one transaction and returns each one's outcome, in their order. A booking
    whose decision or signing raises gets that error and writes nothing (the others are booked); an
    error of the database fails the whole transaction (it raises, nothing is written). A request id
    already booked is a `Replay`, one repeated inside the batch a `Duplicate` (the caller checks
    their bodies). With `notify` False the caller announces the events once committed.

    Round trips: BEGIN, the markets' lock, the totals row's lock with the request ids already booked,
    one batch of writes, COMMIT; whatever the number of bookings."""
    with write_transaction(database):
        active = [b.mapping for b in bookings if b.mapping is not None and b.mapping.active]
        # A market of a neg-risk event group is decided on the whole group: every market row of the
        # group is locked with it, all in mapping id order (lock order).
        held = groups.lock_with_groups(sorted({m.id for m in active}))
        total, booked = positions.lock_total_with_requests(database, [b.key for b in bookings])
        batch = _Batch(utcnow(), held.positions, held, total)
        outcomes: list[Outcome] = []
        first: dict[tuple[str, str], int] = {}
        for booking in bookings:
            if booking.key in booked:
                outcomes.append(Replay(booked[booking.key]))
            elif booking.key in first:
                outcomes.append(Duplicate(first[booking.key]))
            else:
                first[booking.key] = len(outcomes)
                outcomes.append(_book_one(batch, booking))
        sql.run(database, _statements(database, batch, total, notify))
    return outcomes


def _book_one(batch: _Batch, booking: Booking) -> Written | Exception:
    """Decides one booking on the position and total the batch left, adding its rows to the batch
    only once all of them are built (an error leaves the batch as it was)."""
    mapping = booking.mapping
    if mapping is None or not mapping.active:
        return Written(_rejected(batch, booking, _inactive()))
    # The state as the lock found it: a market settled since the mapping was cached takes no order.
    closed = market_closed(batch.held.states.get(mapping.id, market_states.state_of(mapping)))
    if closed is not None:
        return Written(_rejected(batch, booking, closed))
    try:
        if mapping.id not in batch.positions:
            raise positions.no_row(mapping.id)
        decision = booking.decide(batch.positions[mapping.id], batch.total, _siblings(batch, mapping))
        if isinstance(decision, Rejected):
            return Written(_rejected(batch, booking, decision))
        return Written(_accepted(batch, booking, mapping, decision))
    except Exception as error:  # this booking's error is its caller's answer
        return error


def _siblings(batch: _Batch, mapping: PolymarketMarketMapping) -> Group:
    """The losses of the other markets of `mapping`'s group as the batch left them; None when the
    market is in no group (as its row was locked: a cached mapping may be behind)."""
    return batch.held.siblings(mapping.id)


def _rejected(batch: _Batch, booking: Booking, decision: Rejected) -> OrderWithHedges:
    order = _order(booking, batch.now, decision)
    data: dict[str, object] = {"reason": decision.reason.value}
    new = [_order_event(order, "order_rejected", decision.message, data)]
    if decision.reason in LIMIT_REASONS:
        new.append(_order_event(order, "limit_reached", decision.message, data))
    batch.orders.append(order_columns(order))
    batch.events.extend(new)
    return OrderWithHedges(order, [])


def _accepted(
    batch: _Batch, booking: Booking, mapping: PolymarketMarketMapping, decision: Accepted
) -> OrderWithHedges:
    order = _order(booking, batch.now, decision)
    q = decision.quote
    new = [_order_event(order, "order_accepted", order.message, {"price": q.price, "size": q.size})]
    change = of_order(order.size, q.price, order.hedged_size)
    short = decision.unaffordable
    if short is not None:
        data: dict[str, object] = {"needed": short.needed, "available": short.available}
        new.append(_order_event(order, "hedge_unaffordable", order.message, data))
    hedges = []
    if decision.hedge is not None:
        hedge = _hedge(order.id, mapping.id, decision, decision.hedge, booking.sign, batch.now)
        hedges.append(hedge)
        change += of_hedge(hedge.status.value, hedge.spread_captured, hedge.fee, hedge.net_profit)
        if hedge.is_paper:
            new.append(
                _order_event(order, "hedge_paper_filled", "paper hedge filled in simulation", {}, hedge.id)
            )
        else:
            new.append(
                _order_event(order, "hedge_submitted", "hedge signed and sent to Polymarket", {}, hedge.id)
            )
    # Everything built: now the batch takes it.
    batch.orders.append(order_columns(order))
    batch.hedges.extend(hedge_columns(h) for h in hedges)
    batch.ended.extend((h.created_at, "", h.status.value) for h in hedges)
    batch.events.extend(new)
    batch.positions[mapping.id] = decision.after
    batch.moved[mapping.id] = batch.moved.get(mapping.id, MarketTotals()) + change
    # As the total's update floors it at zero, order by order.
    batch.total = max(batch.total + (decision.total_after - decision.total_before), Decimal(0))
    return OrderWithHedges(order, hedges)


def _statements(
    database: peewee.Database, batch: _Batch, total_before: Decimal, notify: bool
) -> list[sql.Statement]:
    """The batch's writes in lock order: rows of orders and hedges, each market touched, the total,
    the counts of ended hedges, the events."""
    statements = [
        *sql.insert_many("user_order", batch.orders),
        *sql.insert_many("hedge_position", batch.hedges),
    ]
    for mapping_id, change in sorted(batch.moved.items()):
        statements += positions.writes(database, mapping_id, batch.positions[mapping_id], change, batch.now)
    if batch.total != total_before:
        statements.append(positions.set_total(batch.total, batch.now))
    statements += outcome_seconds.add_many(batch.ended)
    statements += events.statements(database, batch.events, notify=notify)
    return statements


def _order(booking: Booking, now: datetime, decision: Accepted | Rejected) -> Order:
    request, mapping = booking.request, booking.mapping
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
        request_hash=booking.request_hash,
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
        hedge_policy=booking.policy,
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
    short = decision.unaffordable
    if short is not None:
        return (
            f"accepted unhedged: the wallet's USDC cannot pay for its hedge "
            f"(it needs up to {short.needed}, {short.available} is available)"
        )
    if decision.hedge is None:
        return "accepted; no hedge needed: the order brings the market's unhedged position towards flat"
    if decision.paper_fill is not None:
        return "accepted; paper hedge filled in simulation"
    return "accepted; hedge sent to Polymarket"
