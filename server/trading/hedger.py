"""Sends signed hedges to the venue and turns every answer into a recorded outcome, exactly once.

A hedge is posted with the bytes stored when it was booked, so a retry can never create a second venue
order: the venue identifies an order by its hash. An answer that does not settle the hedge's fate makes
it UNKNOWN; `resolve` then looks the hash up at the venue and only re-posts the same bytes when the
venue has never seen them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from server.domain.book import Fill
from server.domain.fees import taker_fee
from server.domain.hedge import Hedge
from server.domain.hedge_result import HedgeResult, status_for_fill
from server.domain.order import OrderWithHedges
from server.domain.types import HedgeStatus, Leg, Side
from server.errors import Unavailable
from server.store.hedge_outcomes import Outcome
from server.store.models import PolymarketMarketMapping
from server.store.orders import OrderStore
from server.trading.batch_writer import BatchWriter
from server.trading.books import BookCache
from server.trading.order_gate import OrderGate, refused_for
from server.venue.client import PostKind, PostOutcome, VenueClient

log = logging.getLogger(__name__)
T = TypeVar("T")


class RunInDb(Protocol):
    """Runs blocking database work off the event loop (`server.runtime.DatabaseRunner`)."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...


FINAL_VENUE_STATUSES = frozenset({"MATCHED", "CANCELED", "CANCELLED", "INVALID", "CANCELED_MARKET_RESOLVED"})
UNKNOWN_RETRY = timedelta(seconds=1)


class Hedger:
    def __init__(
        self,
        store: OrderStore,
        venue: VenueClient,
        run_in_db: RunInDb,
        mapping_of: Callable[[int], Awaitable[PolymarketMarketMapping]],
        on_outcome: Callable[[PostOutcome], None] | None = None,
        on_result: Callable[[Hedge, HedgeResult], None] | None = None,
        books: BookCache | None = None,
        gate: OrderGate | None = None,
        patience: timedelta = timedelta(0),
    ) -> None:
        """With a `gate`, every post first takes its token from the signer's order budget, and a 429
        is honoured by every process before the same bytes go again: by `submit` itself while that
        is within `patience` of its start (keep it well inside the resolver's grace), else by the
        resolver once the Retry-After has passed."""
        self._store = store
        self._gate = gate
        self._patience = patience
        self._posting: set[str] = set()  # hedges `submit` is posting
        self._books = books
        self._venue = venue
        self._run = run_in_db
        self._mapping_of = mapping_of
        self._on_outcome = on_outcome or (lambda _: None)
        self._on_result = on_result or (lambda _h, _r: None)
        # The process's one writer of hedge results (tests watch it).
        self.results: BatchWriter[Outcome, OrderWithHedges] = BatchWriter(
            run_in_db, lambda batch: store.outcomes.record_results(batch), "hedge-result-writer"
        )

    async def admit(self) -> None:
        """Takes one post's token from the signer's order budget, for a `submit(admitted=True)` next."""
        if self._gate is not None:
            await self._gate.admit()

    async def submit(self, hedge: Hedge, *, admitted: bool = False) -> OrderWithHedges | None:
        """Posts a freshly booked hedge and records what the venue said; returns its order as stored
        after that, or None when the outcome is UNKNOWN. `admitted`: its first post's token is taken."""
        self._posting.add(hedge.id)
        try:
            outcome = await self._post_until_answered(hedge, admitted)
        finally:
            self._posting.discard(hedge.id)
        return await self._apply(hedge, outcome, resolved=False)

    async def _post_until_answered(self, hedge: Hedge, admitted: bool) -> PostOutcome:
        """Posts the hedge, and its same bytes again after each 429 whose Retry-After ends within the
        patience (the gate holds the post until then). A 429 refuses the attempt, not the hedge: the
        venue's budget admits a request whole or not at all, and even a post that did land would be
        refused as a duplicate when the same bytes come again."""
        patience_ends = time.monotonic() + self._patience.total_seconds()
        while True:
            outcome = await self._post(hedge, admitted=admitted)
            admitted = False
            wait = refused_for(outcome)
            if wait is None or time.monotonic() + wait.total_seconds() > patience_ends:
                return outcome
            await self._run(lambda: self._store.outcomes.note_attempt(hedge.id))

    async def resolve(self, hedge: Hedge) -> None:
        """Settles a PENDING or UNKNOWN hedge by looking its hash up at the venue (not one this process
        is posting: it may wait its turn in the order budget for longer than the resolver's grace)."""
        assert hedge.venue_order_id is not None and hedge.signed_order is not None
        if hedge.id in self._posting:
            return
        try:
            found = await self._venue.get_order(hedge.venue_order_id)
        except Unavailable as exc:
            message = str(exc)
            await self._run(lambda: self._store.outcomes.mark_unknown(hedge.id, message, UNKNOWN_RETRY))
            return
        if found is None:
            # The venue never took these bytes (or killed them unfilled): posting them again is safe,
            # since the same hash can only ever execute once.
            await self._run(lambda: self._store.outcomes.note_attempt(hedge.id))
            outcome = await self._post(hedge)
            await self._apply(hedge, outcome, resolved=True)
            return
        if found.status not in FINAL_VENUE_STATUSES:
            await self._run(
                lambda: self._store.outcomes.mark_unknown(
                    hedge.id, f"venue order {found.status}", UNKNOWN_RETRY
                )
            )
            return
        filled = found.size_matched
        cost, fee = await self._cost_and_fee(hedge, filled, found.price, found.trade_ids)
        status = status_for_fill(hedge.size, filled)
        reason = None if status is HedgeStatus.HEDGED else f"venue order {found.status.lower()}"
        result = HedgeResult(status, filled, cost, fee, reason, found.trade_ids)
        self._announce(hedge, result)
        await self.results.write(Outcome(hedge, result, resolved=True))

    async def _post(self, hedge: Hedge, *, admitted: bool = False) -> PostOutcome:
        assert hedge.signed_order is not None
        if not admitted:
            await self.admit()
        # Quotes are priced off the YES book: what this hedge takes comes out of it before the next.
        yes_token = (await self._mapping_of(hedge.mapping_id)).yes_token_id if self._books is not None else ""
        ticket = self._books.posting(yes_token) if self._books is not None else 0
        outcome = await self._venue.post_order(hedge.signed_order.encode())
        wait = refused_for(outcome)
        if wait is not None and self._gate is not None:
            await self._gate.refused_by_venue(wait)
        if self._books is not None:
            leg, side = Leg(hedge.leg), Side(hedge.side)
            takes_asks = (leg is Leg.YES) == (side is Side.BUY)  # buying NO takes YES bids
            self._books.took(yes_token, takes_asks, _shares_taken(side, outcome), ticket)
        self._on_outcome(outcome)
        return outcome

    async def _apply(
        self,
        hedge: Hedge,
        outcome: PostOutcome,
        *,
        resolved: bool,
    ) -> OrderWithHedges | None:
        if outcome.kind is PostKind.UNKNOWN:
            log.warning(
                "hedge %s of order %s is UNKNOWN (venue order %s): %s; it will be looked up by its hash",
                hedge.id,
                hedge.order_id,
                hedge.venue_order_id,
                outcome.message,
            )
            # A 429 refused this post only: the lookup (and the same bytes again) waits its Retry-After.
            retry = max(refused_for(outcome) or UNKNOWN_RETRY, UNKNOWN_RETRY)
            await self._run(lambda: self._store.outcomes.mark_unknown(hedge.id, outcome.message, retry))
            return None
        if outcome.kind is PostKind.REJECTED:
            result = HedgeResult(HedgeStatus.FAILED, Decimal(0), Decimal(0), Decimal(0), outcome.message)
        else:
            side = Side(hedge.side)
            filled = outcome.taking if side is Side.BUY else outcome.making
            paid = outcome.making if side is Side.BUY else outcome.taking
            price = paid / filled if filled else hedge.limit_price
            cost, fee = await self._cost_and_fee(hedge, filled, price, outcome.trade_ids, paid)
            status = status_for_fill(hedge.size, filled)
            reason = None if status is HedgeStatus.HEDGED else outcome.message or "not fully filled"
            result = HedgeResult(status, filled, cost, fee, reason, outcome.trade_ids)
        self._announce(hedge, result)
        return await self.results.write(Outcome(hedge, result, resolved=resolved))

    def _announce(self, hedge: Hedge, result: HedgeResult) -> None:
        """Hands a settled outcome to the listeners; a failed hedge leaves its order unhedged, so an
        operator must see it in the log with the ids to look it up by."""
        if result.status is HedgeStatus.FAILED:
            log.warning(
                "hedge %s of order %s FAILED (venue order %s): %s",
                hedge.id,
                hedge.order_id,
                hedge.venue_order_id,
                result.failure_reason,
            )
        self._on_result(hedge, result)

    async def _cost_and_fee(
        self,
        hedge: Hedge,
        filled: Decimal,
        price: Decimal,
        trade_ids: tuple[str, ...],
        cost: Decimal | None = None,
    ) -> tuple[Decimal, Decimal]:
        """The fill's USDC cost and taker fee. Fees are not linear in price, so a fill over several
        trades is priced trade by trade from the venue's records when they can be read."""
        if filled == 0:
            return Decimal(0), Decimal(0)
        mapping = await self._mapping_of(hedge.mapping_id)
        return await fill_cost_and_fee(self._venue, mapping, hedge.id, filled, price, trade_ids, cost)


async def fill_cost_and_fee(
    venue: VenueClient,
    mapping: PolymarketMarketMapping,
    hedge_id: str,
    filled: Decimal,
    price: Decimal,
    trade_ids: tuple[str, ...],
    cost: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """A fill's USDC cost and taker fee (of any hedge: an order's or a book hedge). Fees are not linear
    in price, so a fill over several trades is priced trade by trade from the venue's records when
    they can be read."""
    if filled == 0:
        return Decimal(0), Decimal(0)
    levels: tuple[tuple[Decimal, Decimal], ...] = ((price, filled),)
    fee_free = mapping.fee_rate == 0  # then the answer's own amounts are the whole truth
    if (len(trade_ids) > 1 and not fee_free) or cost is None:
        try:
            trades = await asyncio.gather(*(venue.get_trade(t) for t in trade_ids))
            from_trades = tuple(
                (Decimal(str(t["price"])), Decimal(str(t["size"]))) for t in trades if t is not None
            )
            if from_trades and sum(s for _, s in from_trades) == filled:
                levels = from_trades
        except (Unavailable, KeyError, ArithmeticError):
            log.warning("could not read the trades of hedge %s; fee estimated at the average price", hedge_id)
    fill = Fill(levels)
    return (cost if cost is not None else fill.cost), taker_fee(fill, mapping.fee_rate, mapping.fee_exponent)


def _shares_taken(side: Side, outcome: PostOutcome) -> Decimal | None:
    """The shares a posted hedge took from the book, or None when the answer does not say."""
    if outcome.kind is PostKind.REJECTED:
        return Decimal(0)
    if outcome.kind is PostKind.UNKNOWN:
        return None
    return outcome.taking if side is Side.BUY else outcome.making
