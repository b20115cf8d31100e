"""Exposure maths. A market's exposure is its worst-case loss at resolution: the maximum over outcomes
of what the platform owes users minus what its confirmed hedges pay it, net of cash taken and paid.
A hedge not yet confirmed counts as unhedged. Total exposure is the sum over markets of each market's
exposure floored at zero (a locked-in profit in one market does not offset risk in another)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from server.domain.types import Leg, Side

ZERO = Decimal(0)


@dataclass(frozen=True)
class Position:
    """The platform's position in one market."""

    user_shares: Decimal = ZERO  # outcome shares owed to users (pays 1 each if YES)
    hedge_yes: Decimal = ZERO  # confirmed YES shares held on Polymarket
    hedge_no: Decimal = ZERO  # confirmed NO shares held on Polymarket
    yes_reserved_for_sale: Decimal = ZERO  # YES shares promised to in-flight SELL hedges
    net_cash: Decimal = ZERO  # USDC in from users and the venue, minus USDC out

    @property
    def loss_if_yes(self) -> Decimal:
        return self.user_shares - self.hedge_yes - self.net_cash

    @property
    def loss_if_no(self) -> Decimal:
        return -self.hedge_no - self.net_cash

    @property
    def worst_case_loss(self) -> Decimal:
        return max(self.loss_if_yes, self.loss_if_no)

    @property
    def exposure(self) -> Decimal:
        """The worst-case loss floored at zero: what counts against limits."""
        return max(self.worst_case_loss, ZERO)

    @property
    def yes_available(self) -> Decimal:
        return self.hedge_yes - self.yes_reserved_for_sale

    def with_user_trade(self, side: Side, size: Decimal, price: Decimal) -> Position:
        """After booking a user order (the user BUYs: the platform owes more and takes cash)."""
        if side is Side.BUY:
            return replace(self, user_shares=self.user_shares + size, net_cash=self.net_cash + size * price)
        return replace(self, user_shares=self.user_shares - size, net_cash=self.net_cash - size * price)

    def with_sale_reserved(self, shares: Decimal) -> Position:
        return replace(self, yes_reserved_for_sale=self.yes_reserved_for_sale + shares)

    def with_hedge_result(
        self, leg: Leg, side: Side, *, planned: Decimal, filled: Decimal, cost: Decimal, fee: Decimal
    ) -> Position:
        """After a hedge's result is confirmed: `filled` shares for `cost` USDC (proceeds for a SELL)
        and `fee` USDC. A SELL hedge releases its reservation of `planned` YES shares."""
        if leg is Leg.YES and side is Side.SELL:
            return replace(
                self,
                hedge_yes=self.hedge_yes - filled,
                yes_reserved_for_sale=self.yes_reserved_for_sale - planned,
                net_cash=self.net_cash + cost - fee,
            )
        if leg is Leg.YES:
            return replace(self, hedge_yes=self.hedge_yes + filled, net_cash=self.net_cash - cost - fee)
        return replace(self, hedge_no=self.hedge_no + filled, net_cash=self.net_cash - cost - fee)


def total_after(total: Decimal, before: Position, after: Position) -> Decimal:
    """The total exposure once one market moves from `before` to `after`."""
    return total - before.exposure + after.exposure
