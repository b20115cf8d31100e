"""The rebalancer of `netted` markets: instead of one venue order per user order, it keeps each netted
market's hedge inventory at `hedgeRatio` x what removes the market's directional exposure, working the
gap with one venue order at a time (`server.domain.rebalance` decides; this module does the I/O).

Every server process runs one. Each market is worked by one process at a time (`AdvisoryLocks`); a
process that takes a market over first settles the market's open hedges by their hashes, as the
resolver does for order hedges. Exactly once: a hedge is decided, signed and stored (hash and bytes)
in one transaction before it is posted (`server.store.book_hedges`); an answer that proves nothing
makes it UNKNOWN, and it is looked up by its hash, re-posting the same bytes only when the venue never
saw them. All posts go through `Dispatcher`: batches within the signer's order budget."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from server.domain.book_hedge import BookHedge, limit_prices
from server.domain.decision import NETTED
from server.domain.hedge import SignedIntent
from server.domain.hedge_policy import effective, rebalance_policy
from server.domain.hedge_result import HedgeResult, status_for_fill
from server.domain.rebalance import MarketLimits, Rebalance, RebalanceOrder, rebalance
from server.domain.types import BreakerLevel, HedgeStatus, Mode, Side
from server.errors import Unavailable
from server.periodic import Periodic
from server.store.advisory_locks import AdvisoryLocks
from server.store.book_hedges import BookHedges
from server.store.fields import utcnow
from server.store.mappings import policy_overrides
from server.store.models import PolymarketMarketMapping
from server.store.rows import terms_of
from server.trading.books import BookCache
from server.trading.dispatcher import Dispatcher
from server.trading.hedge_signing import sign_hedge
from server.trading.hedger import FINAL_VENUE_STATUSES, UNKNOWN_RETRY, fill_cost_and_fee
from server.trading.state import StateCache
from server.venue.client import PostKind, PostOutcome, VenueClient
from server.venue.order_signing import OrderSigner

log = logging.getLogger(__name__)
RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]


class Rebalancer:
    def __init__(
        self,
        *,
        store: BookHedges,
        venue: VenueClient,
        run_in_db: RunInDb,
        state: StateCache,
        books: BookCache,
        signer: OrderSigner | None,
        api_key: str,
        locks: AdvisoryLocks,
        dispatcher: Dispatcher,
        pending_grace: timedelta,
        interval: float = 0.1,
        slow_interval: float = 0.5,
    ) -> None:
        self._store = store
        self._venue = venue
        self._run = run_in_db
        self._state = state
        self._books = books
        self._signer = signer
        self._api_key = api_key
        self._locks = locks
        self._dispatcher = dispatcher
        self._grace = pending_grace
        # Taking markets over and looking up open hedges need not run on every pass: seconds are
        # enough for a takeover, and an UNKNOWN hedge is due at most once a second.
        self._slow_interval = slow_interval
        self._slow_due = 0.0
        self._periodic = Periodic(
            "rebalancer", self.run_once, interval, failure="rebalancer pass failed", logger=log
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        await asyncio.get_running_loop().run_in_executor(self._locks.executor, self._locks.close)

    async def run_once(self, *, now_slow: bool = False) -> int:
        """One pass: own what netted markets can be owned and settle their open hedges (every
        `slow_interval`, or now with `now_slow`), book what each owned market needs, and post.
        Returns how many hedges were booked."""
        snapshot = self._state.current
        netted = {
            m.id: m
            for m in snapshot.mappings.values()
            if m.active and effective(snapshot.settings, policy_overrides(m)).hedge_policy == NETTED
        }
        if not netted:
            return 0
        owned = set(self._locks.owned)
        if now_slow or time.monotonic() >= self._slow_due:
            self._slow_due = time.monotonic() + self._slow_interval
            loop = asyncio.get_running_loop()
            owned, taken = await loop.run_in_executor(self._locks.executor, self._locks.take, list(netted))
            for mapping_id in sorted(taken):
                log.info("rebalancer: now working market %s", mapping_id)
                await self._settle(mapping_id, everything=True)
            for mapping_id in sorted(owned - taken):
                await self._settle(mapping_id, everything=False)
        booked = await asyncio.gather(*(self._book(netted[m]) for m in sorted(owned) if m in netted))
        hedges = [h for h in booked if h is not None]
        for hedge in hedges:
            self._dispatcher.queue(hedge)
        await self._dispatcher.dispatch(self.apply)
        return len(hedges)

    async def _book(self, mapping: PolymarketMarketMapping) -> BookHedge | None:
        snapshot = self._state.current
        settings = effective(snapshot.settings, policy_overrides(mapping))
        if Mode(settings.mode) is not Mode.LIVE or self._signer is None:
            return None  # paper and off: nothing goes to the venue
        book = await self._books.get(mapping.yes_token_id, settings.max_book_age_ms)
        if book is None or (utcnow() - book.updated_at).total_seconds() * 1000 > settings.max_book_age_ms:
            return None
        terms = terms_of(mapping)
        prices = limit_prices(book, terms, settings.max_slippage_bps)
        policy = rebalance_policy(settings)
        market_limit = (
            mapping.exposure_limit if mapping.exposure_limit is not None else settings.max_market_exposure
        )
        halted = snapshot.breaker is BreakerLevel.HALTED
        signer, api_key = self._signer, self._api_key

        def decide(position: Any, total: Decimal, oldest: Any) -> Rebalance:
            limits = MarketLimits(market_limit, total, settings.max_unhedged_exposure)
            return rebalance(
                position,
                policy,
                terms,
                prices,
                limits,
                oldest_unhedged_at=oldest,
                now=utcnow(),
                halted=halted,
            )

        def sign(order: RebalanceOrder) -> SignedIntent:
            token = terms.yes_token_id if order.leg.value == "YES" else terms.no_token_id
            return sign_hedge(
                signer,
                api_key,
                token_id=token,
                side=order.side,
                size=order.size,
                limit_price=order.limit_price,
                tick_size=mapping.tick_size,
                neg_risk=mapping.neg_risk,
                order_type=settings.hedge_order_type,
            )

        decided = await self._run(
            lambda: self._store.decide_and_book(
                mapping, decide, sign, settings.hedge_order_type, settings.max_unhedged_exposure
            )
        )
        return decided if isinstance(decided, BookHedge) else None

    # --- outcomes ------------------------------------------------------------------------------------
    async def apply(self, hedge: BookHedge, outcome: PostOutcome, *, resolved: bool = False) -> None:
        """Records what one post of `hedge` proved."""
        if outcome.kind is PostKind.UNKNOWN:
            log.warning("book hedge %s is UNKNOWN (venue order %s): %s; it will be looked up by its hash",
                        hedge.id, hedge.venue_order_id, outcome.message)  # fmt: skip
            await self._run(lambda: self._store.mark_unknown(hedge.id, outcome.message, UNKNOWN_RETRY))
            return
        if outcome.kind is PostKind.REJECTED:
            result = HedgeResult(HedgeStatus.FAILED, Decimal(0), Decimal(0), Decimal(0), outcome.message)
        else:
            filled = outcome.taking if hedge.side is Side.BUY else outcome.making
            paid = outcome.making if hedge.side is Side.BUY else outcome.taking
            price = paid / filled if filled else hedge.limit_price
            mapping = await self._state.mapping_by_id(hedge.mapping_id)
            cost, fee = await fill_cost_and_fee(
                self._venue, mapping, hedge.id, filled, price, outcome.trade_ids, paid
            )
            status = status_for_fill(hedge.size, filled)
            reason = None if status is HedgeStatus.HEDGED else outcome.message or "not fully filled"
            result = HedgeResult(status, filled, cost, fee, reason)
        await self._run(lambda: self._store.record_result(hedge.id, result, resolved=resolved))

    async def _settle(self, mapping_id: int, *, everything: bool) -> None:
        """Looks up the market's open hedges by hash: all of them on taking the market over, else the
        UNKNOWN ones due and the PENDING ones older than the grace (never one this process is posting)."""
        due_before = utcnow() + timedelta(days=1) if everything else utcnow() - self._grace
        hedges = await self._run(lambda: self._store.open_hedges(mapping_id, due_before=due_before))
        for hedge in hedges:
            if self._dispatcher.holds(hedge.id):
                continue
            try:
                await self._resolve(hedge)
            except Exception:
                log.exception("resolving book hedge %s failed; will retry", hedge.id)

    async def _resolve(self, hedge: BookHedge) -> None:
        try:
            found = await self._venue.get_order(hedge.venue_order_id)
        except Unavailable as exc:
            message = str(exc)
            await self._run(lambda: self._store.mark_unknown(hedge.id, message, UNKNOWN_RETRY))
            return
        if found is None:
            # The venue never took these bytes (or killed them unfilled): posting them again is safe,
            # since one hash executes at most once.
            await self._run(lambda: self._store.note_attempt(hedge.id))
            self._dispatcher.queue(hedge, resolved=True)
            return
        if found.status not in FINAL_VENUE_STATUSES:
            status = found.status
            await self._run(
                lambda: self._store.mark_unknown(hedge.id, f"venue order {status}", UNKNOWN_RETRY)
            )
            return
        filled = found.size_matched
        mapping = await self._state.mapping_by_id(hedge.mapping_id)
        cost, fee = await fill_cost_and_fee(
            self._venue, mapping, hedge.id, filled, found.price, found.trade_ids
        )
        status_ = status_for_fill(hedge.size, filled)
        reason = None if status_ is HedgeStatus.HEDGED else f"venue order {found.status.lower()}"
        result = HedgeResult(status_, filled, cost, fee, reason)
        await self._run(lambda: self._store.record_result(hedge.id, result, resolved=True))
