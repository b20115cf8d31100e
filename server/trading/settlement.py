"""Follows the trades of hedges recorded at MATCHED until each is CONFIRMED or FAILED on chain, in the
background. Every server process runs a follower; one at a time works, the one holding the settlement
lock (`server.store.advisory_locks`), and another takes over within a pass of its process dying. The
lock saves the venue reads and the writes done twice; it is not what makes a trade's final status
applied once: the store is (`server.store.hedge_trades`), so two followers at once are still safe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from server.domain.fees import fill_fee
from server.domain.hedge import Hedge, TradeFill
from server.errors import Unavailable
from server.periodic import Periodic
from server.store.advisory_locks import SETTLEMENT_KEY, AdvisoryLocks
from server.store.hedge_trades import Confirmed, HedgeTrades
from server.store.models import PolymarketMarketMapping
from server.venue.client import VenueClient
from server.venue.trade_record import OurTrade, our_side

log = logging.getLogger(__name__)
ZERO = Decimal(0)
# Trade reads in flight at once: one at a time, a pass over a hundred settling trades took seconds
# under the realistic profile's latency (tests/service/test_realistic_profile.py).
CONCURRENT_READS = 8


class SettlementFollower:
    """Polls the venue's trade records of settling hedges and hands each status change to the store."""

    def __init__(
        self,
        trades: HedgeTrades,
        venue: VenueClient,
        run_in_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        mapping_of: Callable[[int], Awaitable[PolymarketMarketMapping]],
        *,
        lock: AdvisoryLocks | None = None,
        interval: float = 0.5,
    ) -> None:
        """Without `lock`, this follower works every pass (tests that drive one pass by hand)."""
        self._trades = trades
        self._lock = lock
        self._stopped = False
        self._venue = venue
        self._run = run_in_db
        self._mapping_of = mapping_of
        self._periodic = Periodic(
            "settlement-follower", self.follow_all, interval, failure="settlement pass failed", logger=log
        )

    async def follow_all(self) -> int:
        """One pass over the settling hedges' unsettled trades; returns how many trades changed. The
        pass's CONFIRMED trades are recorded together, in one transaction; any other change one by one.
        A follower that does not hold the settlement lock, or was stopped, does nothing (0)."""
        if not await self._working():
            return 0
        settling = await self._run(self._trades.settling)
        slots = asyncio.Semaphore(CONCURRENT_READS)

        async def read(hedge: Hedge, trade_id: str, known: str) -> tuple[Hedge, OurTrade] | None:
            async with slots:
                try:
                    return await self._read(hedge, trade_id, known)
                except Exception:
                    log.exception("reading trade %s of hedge %s failed; will retry", trade_id, hedge.id)
                    return None

        reads = [read(e.hedge, trade_id, known) for e in settling for trade_id, known in e.trades.items()]
        moved = [found for found in await asyncio.gather(*reads) if found is not None]
        confirmed = [
            Confirmed(hedge.id, await self._fill(hedge, trade), trade.price)
            for hedge, trade in moved
            if trade.status == "confirmed"
        ]
        if confirmed:
            await self._run(lambda: self._trades.confirm_all(confirmed))
        changed = len(confirmed)
        for hedge, trade in moved:
            if trade.status != "confirmed":
                changed += await self._apply(hedge, trade)
        return changed

    async def _working(self) -> bool:
        """Whether this process's follower is the one at work (it holds, or just took, the lock)."""
        if self._stopped:
            return False
        if self._lock is None:
            return True
        lock = self._lock
        loop = asyncio.get_running_loop()
        owned, _ = await loop.run_in_executor(lock.executor, lock.take, [SETTLEMENT_KEY])
        return SETTLEMENT_KEY in owned

    async def _read(self, hedge: Hedge, trade_id: str, known: str) -> tuple[Hedge, OurTrade] | None:
        """Our side of the trade as the venue reports it now, if its status moved from `known`."""
        assert hedge.venue_order_id is not None
        try:
            record = await self._venue.get_trade(trade_id)
        except Unavailable as exc:
            log.info("trade %s of hedge %s not read: %s", trade_id, hedge.id, exc)
            return None
        trade = our_side(record, hedge.venue_order_id) if record is not None else None
        if trade is None or trade.status == known:
            return None
        return hedge, trade

    async def _apply(self, hedge: Hedge, trade: OurTrade) -> int:
        """Records a trade's status other than CONFIRMED (a note, or a FAILED trade undone); 1 if it did."""
        try:
            fill = await self._fill(hedge, trade)
            hedge_id = hedge.id
            await self._run(lambda: self._trades.apply(hedge_id, fill, trade.price, trade.status))
        except Exception:
            log.exception("recording trade %s of hedge %s failed; will retry", trade.trade_id, hedge.id)
            return 0
        if trade.status == "failed":
            log.warning(
                "trade %s of hedge %s (order %s) FAILED at settlement: %s shares undone",
                trade.trade_id,
                hedge.id,
                hedge.order_id,
                trade.shares,
            )
        return 1

    async def _fill(self, hedge: Hedge, trade: OurTrade) -> TradeFill:
        """The trade's part of the hedge's fill: its shares, their USDC at the trade's price, and the
        taker fee the venue charges on that one fill (as the hedger priced the fee when recording)."""
        mapping = await self._mapping_of(hedge.mapping_id)
        fee = (
            fill_fee(trade.shares, trade.price, mapping.fee_rate, mapping.fee_exponent)
            if trade.taker
            else ZERO
        )
        return TradeFill(trade.trade_id, trade.shares, trade.shares * trade.price, fee)

    def start(self) -> None:
        """Starts following in the background."""
        self._periodic.start()

    async def stop(self) -> None:
        """Stops following for good (a pass in progress is cancelled) and lets the settlement lock go,
        so another process's follower takes over."""
        await self._periodic.stop()
        if self._lock is not None and not self._stopped:
            await asyncio.get_running_loop().run_in_executor(self._lock.executor, self._lock.close)
        self._stopped = True
