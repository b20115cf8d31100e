"""A rebalancer's hedge of a netted market (a "book hedge"): one venue order covering the market's gap,
not one user order, with the same state machine as an order's hedge (`server.domain.hedge`): PENDING
(signed, stored, sent or about to be) and UNKNOWN (the answer was lost) are open and count in the
market's in-flight bounds at their worst; it settles once, to HEDGED, PARTIAL or FAILED. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from server.domain.book import Book
from server.domain.hedge import SignedIntent
from server.domain.hedge_result import HedgeResult
from server.domain.in_flight import CountedWhileOpen
from server.domain.pricing import MarketTerms
from server.domain.rebalance import LimitPrices, RebalanceOrder
from server.domain.types import HedgeStatus, Leg, Side
from server.errors import TransitionRefused

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)


@dataclass(frozen=True)
class BookHedge(CountedWhileOpen):
    """One book hedge as stored."""

    id: str
    mapping_id: int
    token_id: str
    leg: Leg
    side: Side
    size: Decimal
    limit_price: Decimal
    order_type: str
    status: HedgeStatus
    venue_order_id: str
    signed_order: str
    filled_size: Decimal
    fill_cost: Decimal
    fee: Decimal
    failure_reason: str | None
    attempt_count: int
    next_check_at: datetime | None
    worst_loss_if_yes: Decimal
    worst_loss_if_no: Decimal
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @property
    def covers(self) -> Side:
        """The side of the user orders its fill covers: a hedge adding YES-equivalent shares covers
        user BUYs (which owe YES shares), one removing them covers user SELLs."""
        return Side.BUY if self.in_flight.delta > 0 else Side.SELL

    @classmethod
    def pending(
        cls,
        *,
        id: str,
        mapping_id: int,
        token_id: str,
        order: RebalanceOrder,
        order_type: str,
        signed: SignedIntent,
        now: datetime,
    ) -> BookHedge:
        """The hedge of `order` just decided, signed and about to be posted."""
        return cls(
            id=id,
            mapping_id=mapping_id,
            token_id=token_id,
            leg=order.leg,
            side=order.side,
            size=order.size,
            limit_price=order.limit_price,
            order_type=order_type,
            status=HedgeStatus.PENDING,
            venue_order_id=signed.venue_order_id,
            signed_order=signed.body,
            filled_size=ZERO,
            fill_cost=ZERO,
            fee=ZERO,
            failure_reason=None,
            attempt_count=1,
            next_check_at=None,
            worst_loss_if_yes=order.bound.loss_if_yes,
            worst_loss_if_no=order.bound.loss_if_no,
            created_at=now,
            updated_at=now,
            resolved_at=None,
        )

    def settled(self, result: HedgeResult, now: datetime) -> BookHedge:
        """The hedge once the venue's final answer is known."""
        if not self.is_open:
            raise TransitionRefused(f"book hedge {self.id} is already {self.status.value}")
        if result.status not in (HedgeStatus.HEDGED, HedgeStatus.PARTIAL, HedgeStatus.FAILED):
            raise TransitionRefused(f"a book hedge cannot settle as {result.status.value}")
        return replace(
            self,
            status=result.status,
            filled_size=result.filled,
            fill_cost=result.cost,
            fee=result.fee,
            failure_reason=result.failure_reason,
            next_check_at=None,
            updated_at=now,
            resolved_at=now,
        )

    def unknown(self, message: str, next_check_at: datetime, now: datetime) -> BookHedge:
        """The venue's answer was lost: still open, looked up by its hash at `next_check_at`."""
        if not self.is_open:
            raise TransitionRefused(f"book hedge {self.id} is already {self.status.value}")
        return replace(
            self,
            status=HedgeStatus.UNKNOWN,
            failure_reason=message,
            next_check_at=next_check_at,
            updated_at=now,
        )


@dataclass(frozen=True)
class OrderAllocation:
    """What one book hedge (None: opposite user orders, netted) gave one user order."""

    book_hedge_id: str | None
    venue_order_id: str | None
    shares: Decimal
    cost: Decimal
    fee: Decimal


def limit_prices(yes_book: Book, terms: MarketTerms, max_slippage_bps: int) -> LimitPrices:
    """The worst price each possible rebalancing order may fill at: the best price of the side it takes,
    moved by the slippage allowed, on the tick, within [tick, 1 - tick]. A side with nothing on it
    gives the far end of that range (the order then fills what arrives within it, or nothing)."""
    no_book = yes_book.complement(terms.no_token_id)
    slip = Decimal(max_slippage_bps) / BPS
    tick = terms.tick_size

    def buy(book: Book) -> Decimal:
        if not book.asks:
            return ONE - tick
        return _clamp(_to_tick(book.asks[0][0] * (ONE + slip), tick, up=False), tick)

    def sell(book: Book) -> Decimal:
        if not book.bids:
            return tick
        return _clamp(_to_tick(book.bids[0][0] * (ONE - slip), tick, up=True), tick)

    return LimitPrices(buy(yes_book), buy(no_book), sell(yes_book), sell(no_book))


def _to_tick(value: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    steps = (value / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (steps * tick).quantize(tick)


def _clamp(price: Decimal, tick: Decimal) -> Decimal:
    return min(max(price, tick), ONE - tick)
