"""Reference book-keeping for tests, written from first principles and independent of `server.domain`:
what the platform holds and owes in one market, the cash it has taken and paid, and so what it loses
in each outcome. Tests compute their expected exposure and notional with this, never with the code
they test."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass
class Market:
    """One market's books; sides and legs are the strings stored in the rows ("BUY", "YES"...)."""

    user_shares: Decimal = ZERO  # YES shares owed to users: each pays them 1 if YES
    hedge_yes: Decimal = ZERO  # YES shares held at the venue
    hedge_no: Decimal = ZERO  # NO shares held at the venue
    yes_reserved_for_sale: Decimal = ZERO  # YES shares promised to SELL hedges not yet settled
    net_cash: Decimal = ZERO  # USDC taken minus USDC paid

    def user_order(self, side: str, size: Decimal, price: Decimal) -> None:
        """A user buys (owed more, pays us) or sells back (owed less, we pay)."""
        sign = 1 if side == "BUY" else -1
        self.user_shares += sign * size
        self.net_cash += sign * size * price

    def hedge(self, leg: str, side: str, *, filled: Decimal, cost: Decimal, fee: Decimal) -> None:
        """A settled hedge: `filled` shares for `cost` USDC (proceeds when selling) and `fee` USDC."""
        self.net_cash -= fee
        if side == "SELL":  # only YES is ever sold back
            self.hedge_yes -= filled
            self.net_cash += cost
        elif leg == "YES":
            self.hedge_yes += filled
            self.net_cash -= cost
        else:
            self.hedge_no += filled
            self.net_cash -= cost

    @property
    def loss_if_yes(self) -> Decimal:
        # Pays users 1 per share owed, collects 1 per YES held, keeps its cash.
        return self.user_shares - self.hedge_yes - self.net_cash

    @property
    def loss_if_no(self) -> Decimal:
        # Pays users nothing, collects 1 per NO held, keeps its cash.
        return -self.hedge_no - self.net_cash

    @property
    def worst_case_loss(self) -> Decimal:
        return max(self.loss_if_yes, self.loss_if_no)

    @property
    def exposure(self) -> Decimal:
        return max(self.worst_case_loss, ZERO)

    def fields(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        return (self.user_shares, self.hedge_yes, self.hedge_no, self.yes_reserved_for_sale, self.net_cash)


def stored_fields(position: object) -> tuple[Decimal, ...]:
    """The same five figures of a stored position (a row or a `Position`), for comparison."""
    names = ("user_shares", "hedge_yes", "hedge_no", "yes_reserved_for_sale", "net_cash")
    return tuple(getattr(position, n) for n in names)


def notional(size: Decimal, price: Decimal, hedged_size: Decimal) -> tuple[Decimal, Decimal]:
    """(hedged, unhedged) notional of one order: confirmed hedged shares at most its size."""
    hedged = min(hedged_size, size)
    return hedged * price, (size - hedged) * price
