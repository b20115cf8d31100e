"""Follows the trades of hedges recorded at MATCHED until each is CONFIRMED or FAILED on chain, in the
background, in every server process: the store applies each trade's final status once
(`server.store.hedge_trades`), so processes following the same trade cannot apply it twice."""

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
from server.store.hedge_trades import HedgeTrades
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
        interval: float = 0.5,
    ) -> None:
        self._trades = trades
        self._venue = venue
        self._run = run_in_db
        self._mapping_of = mapping_of
        self._periodic = Periodic(
            "settlement-follower", self.follow_all, interval, failure="settlement pass failed", logger=log
        )

    async def follow_all(self) -> int:
        """One pass over the settling hedges' unsettled trades; returns how many trades changed."""
        settling = await self._run(self._trades.settling)
        slots = asyncio.Semaphore(CONCURRENT_READS)

        async def follow(hedge: Hedge, trade_id: str, known: str) -> int:
            async with slots:
                try:
                    return await self._follow(hedge, trade_id, known)
                except Exception:
                    log.exception("following trade %s of hedge %s failed; will retry", trade_id, hedge.id)
                    return 0

        reads = [follow(e.hedge, trade_id, known) for e in settling for trade_id, known in e.trades.items()]
        return sum(await asyncio.gather(*reads))

    async def _follow(self, hedge: Hedge, trade_id: str, known: str) -> int:
        assert hedge.venue_order_id is not None
        try:
            record = await self._venue.get_trade(trade_id)
        except Unavailable as exc:
            log.info("trade %s of hedge %s not read: %s", trade_id, hedge.id, exc)
            return 0
        trade = our_side(record, hedge.venue_order_id) if record is not None else None
        if trade is None or trade.status == known:
            return 0
        fill = await self._fill(hedge, trade)
        hedge_id = hedge.id
        await self._run(lambda: self._trades.apply(hedge_id, fill, trade.price, trade.status))
        if trade.status == "failed":
            log.warning(
                "trade %s of hedge %s (order %s) FAILED at settlement: %s shares undone",
                trade_id,
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
        """Stops following (a pass in progress is cancelled; the next start picks it up again)."""
        await self._periodic.stop()
