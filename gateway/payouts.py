"""GraphQL types of settled markets: payouts owed to accounts, and realised against mark-to-market P&L."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from gateway.pages import AccountPayout
from server.risk.pnl import PnlView
from server.store.market_books import MarketBooks


@strawberry.type(
    description="What the platform owes one account for one resolved market (negative: owed to it)."
)
class Payout:
    id: str
    event_id: str
    outcome: str
    account_id: str
    shares: Decimal = strawberry.field(description="Net outcome shares: bought less sold back.")
    payout: Decimal = strawberry.field(description="USDC: the shares if the outcome won, else 0.")
    settled_at: datetime

    @classmethod
    def of(cls, p: AccountPayout) -> Payout:
        return cls(
            id=p.id,
            event_id=p.event_id,
            outcome=p.outcome,
            account_id=p.account_id,
            shares=p.shares,
            payout=p.payout,
            settled_at=p.settled_at,
        )


@strawberry.type(
    description="A resolved market's realised P&L and its five parts (spread - fees - slippage + unhedged "
    "+ redemption = realised)."
)
class MarketPnl:
    event_id: str
    outcome: str
    winning_leg: str
    final: bool = strawberry.field(description="False while a hedge is open or a fill still settling.")
    realised: Decimal
    cash_from_users: Decimal
    cash_to_users: Decimal = strawberry.field(description="Sell-backs and payouts.")
    hedge_cost: Decimal
    spread: Decimal
    fees: Decimal
    slippage: Decimal
    unhedged: Decimal
    redemption: Decimal = strawberry.field(description="Winning tokens held as hedge inventory x 1 USDC.")

    @classmethod
    def of(cls, b: MarketBooks) -> MarketPnl:
        p = b.pnl
        return cls(
            event_id=b.event_id,
            outcome=b.outcome,
            winning_leg=b.winner.value,
            final=b.final,
            realised=p.realised,
            cash_from_users=p.cash_from_users,
            cash_to_users=p.cash_to_users,
            hedge_cost=p.hedge_cost,
            spread=p.spread,
            fees=p.fees,
            slippage=p.slippage,
            unhedged=p.unhedged,
            redemption=p.redemption,
        )


@strawberry.type(
    description="Realised P&L (resolved markets, from the cash they brought) and mark-to-market P&L "
    "(markets still trading: the running estimate of their hedges' spread less fees)."
)
class Pnl:
    realised: Decimal
    mark_to_market: Decimal
    markets: list[MarketPnl]

    @classmethod
    def of(cls, v: PnlView) -> Pnl:
        return cls(
            realised=v.realised, mark_to_market=v.mark_to_market, markets=[MarketPnl.of(m) for m in v.markets]
        )
