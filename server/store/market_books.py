"""A resolved market's books read from the store: its accepted orders, every hedge's recorded fill
and the payouts its settlement wrote, put through `server.domain.realised_pnl`. Read-only."""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from server.domain.payouts import Payout, UserTrade, payouts
from server.domain.realised_pnl import HedgeFill, RealisedPnl, UserFill, realised_pnl
from server.domain.types import Leg, Side
from server.store.models import (
    BookHedge,
    HedgePosition,
    MarketPayout,
    MarketSettlement,
    PolymarketMarketMapping,
    UserOrder,
)


@dataclass(frozen=True)
class MarketBooks:
    """One resolved market's realised P&L, and whether it is final: some hedge still open or a fill
    still settling on chain can change it (its figures are what is recorded so far)."""

    mapping_id: int
    event_id: str
    outcome: str
    winner: Leg
    pnl: RealisedPnl
    final: bool


def read_books(database: peewee.Database) -> list[MarketBooks]:
    """The books of every settled market, in mapping id order (call from a database thread, inside
    the caller's transaction for one snapshot)."""
    settled = (
        PolymarketMarketMapping.select(PolymarketMarketMapping, MarketSettlement.winning_leg)
        .join(MarketSettlement, on=MarketSettlement.mapping == PolymarketMarketMapping.id)
        .order_by(PolymarketMarketMapping.id)
        .objects()
    )
    return [books_of(m, Leg(m.winning_leg.upper())) for m in settled]  # type: ignore[attr-defined]


def books_of(mapping: PolymarketMarketMapping, winner: Leg) -> MarketBooks:
    """The books of `mapping`'s market, resolved with `winner`."""
    orders = list(
        UserOrder.select(UserOrder.account_id, UserOrder.side, UserOrder.size, UserOrder.price).where(
            (UserOrder.mapping == mapping.id) & (UserOrder.status == "accepted")
        )
    )
    users = [UserFill(Side(o.side), o.size, o.price) for o in orders]
    owed = [
        Payout(p.account_id, p.shares, p.payout)
        for p in MarketPayout.select().where(MarketPayout.mapping == mapping.id)
    ]
    if not MarketSettlement.select().where(MarketSettlement.mapping == mapping.id).exists():
        owed = payouts([UserTrade(o.account_id, Side(o.side), o.size) for o in orders], winner)
    hedges = list(HedgePosition.select().where(HedgePosition.mapping == mapping.id))
    netted = list(BookHedge.select().where(BookHedge.mapping == mapping.id))
    fills = [
        HedgeFill(
            Leg(h.leg), Side(h.side), h.filled_size, h.fill_cost, h.fee, h.size, h.user_price, h.quoted_price
        )
        for h in hedges
    ] + [HedgeFill(Leg(b.leg), Side(b.side), b.filled_size, b.fill_cost, b.fee) for b in netted]
    open_ = any(h.status in ("pending", "unknown") or h.settlement == "settling" for h in hedges) or any(
        b.status in ("pending", "unknown") for b in netted
    )
    return MarketBooks(
        mapping.id,
        mapping.event_id,
        mapping.outcome,
        winner,
        realised_pnl(users, fills, owed, winner),
        not open_,
    )
