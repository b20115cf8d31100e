"""Realised P&L of a resolved market, and its split. Pure.

The market's realised P&L is the cash it brought and will bring the platform:

    cash in from users (buys) - cash out to users (sell-backs and payouts at resolution)
    - hedge cost (USDC paid for hedge buys less USDC received for hedge sells) - venue fees
    + redemption proceeds (winning tokens held as hedge inventory x 1 USDC)

split into five parts that add up to it exactly:

- spread earned: on the user shares each hedge covered, the user's price against the hedge's
  reference price (the VWAP the quote priced the hedge at): what the quote charged over the venue;
- venue fees (a cost: subtracted);
- hedge slippage: what each hedge paid above (or received below) its reference price for what it
  filled (a cost: subtracted);
- unhedged: the users' cash less their payouts, less the hedges' cost at their reference prices and
  less the spread. A hedged share's payout is in here and its redemption in the next part, so
  `unhedged + redemption` is what the part no hedge covered made or lost;
- redemption proceeds.

A hedge without a reference price (a netted market's rebalancer hedge, which covers many orders) has
no spread or slippage of its own: its whole cost counts in `unhedged`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from server.domain.payouts import ONE, ZERO, Payout
from server.domain.types import Leg, Side


@dataclass(frozen=True)
class UserFill:
    """An accepted user order: `size` shares of the outcome at `price`."""

    side: Side
    size: Decimal
    price: Decimal


@dataclass(frozen=True)
class HedgeFill:
    """A hedge's fill: `filled` shares of `leg` for `cost` USDC (proceeds for a SELL) and `fee`.
    `user_shares`, `user_price` and `reference` are those of the order it hedged (None: no single
    order, as for a rebalancer's hedge)."""

    leg: Leg
    side: Side
    filled: Decimal
    cost: Decimal
    fee: Decimal
    user_shares: Decimal | None = None
    user_price: Decimal | None = None
    reference: Decimal | None = None


@dataclass(frozen=True)
class RealisedPnl:
    """A resolved market's books: the cash flows and the five parts of their sum."""

    cash_from_users: Decimal  # buys
    cash_to_users: Decimal  # sell-backs and payouts
    hedge_cost: Decimal  # hedge buys less hedge sells, before fees
    spread: Decimal
    fees: Decimal
    slippage: Decimal
    unhedged: Decimal
    redemption: Decimal

    @property
    def realised(self) -> Decimal:
        """Cash in from users - cash out to users - hedge cost - fees + redemption proceeds."""
        return self.cash_from_users - self.cash_to_users - self.hedge_cost - self.fees + self.redemption

    @property
    def parts(self) -> Decimal:
        """The five parts added up (equal to `realised`)."""
        return self.spread - self.fees - self.slippage + self.unhedged + self.redemption


def realised_pnl(
    users: Iterable[UserFill], hedges: Iterable[HedgeFill], payouts: Iterable[Payout], winner: Leg
) -> RealisedPnl:
    """The books of a market that resolved with `winner`, from its accepted orders, every hedge's fill
    as recorded (failed trades already taken out) and the payouts owed."""
    users, hedges = list(users), list(hedges)
    cash_in = sum((u.size * u.price for u in users if u.side is Side.BUY), ZERO)
    sold_back = sum((u.size * u.price for u in users if u.side is Side.SELL), ZERO)
    paid = sum((p.payout for p in payouts), ZERO)
    cost = sum((_signed(h, h.cost) for h in hedges), ZERO)
    at_reference = sum((_signed(h, _reference_cost(h)) for h in hedges), ZERO)
    spread = sum((_spread(h) for h in hedges), ZERO)
    return RealisedPnl(
        cash_from_users=cash_in,
        cash_to_users=sold_back + paid,
        hedge_cost=cost,
        spread=spread,
        fees=sum((h.fee for h in hedges), ZERO),
        slippage=sum((_slippage(h) for h in hedges), ZERO),
        unhedged=cash_in - sold_back - paid - at_reference - spread,
        redemption=sum((_signed(h, h.filled) for h in hedges if h.leg is winner), ZERO),
    )


def _signed(h: HedgeFill, amount: Decimal) -> Decimal:
    """`amount` as the hedge moves it into inventory: + for a BUY, - for a SELL."""
    return amount if h.side is Side.BUY else -amount


def _reference_cost(h: HedgeFill) -> Decimal:
    return h.cost if h.reference is None else h.reference * h.filled


def _slippage(h: HedgeFill) -> Decimal:
    """Paid above the reference (BUY) or received below it (SELL): positive is a cost."""
    return _signed(h, h.cost - _reference_cost(h))


def _spread(h: HedgeFill) -> Decimal:
    """The user's price against the reference on the user shares the hedge filled (a BUY's budget can
    buy a few more shares: those are inventory, not the user's). In the hedge token's terms: a YES
    buy earns p - r a share, a YES sell r - p, a NO buy (1 - p) - r."""
    if h.reference is None or h.user_price is None or h.user_shares is None:
        return ZERO
    shares = min(h.filled, h.user_shares)
    if h.leg is Leg.YES:
        return _signed(h, h.user_price - h.reference) * shares
    return (ONE - h.user_price - h.reference) * shares
