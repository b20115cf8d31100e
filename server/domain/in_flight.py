"""What a hedge still in flight can do to its market. Until the venue's answer is recorded a hedge
may fill in full, in part or not at all, at any price within its limit: the market's limits must hold
whichever happens. So each outcome's loss is counted with the worst a hedge's fill could add to it,
and recording the fill replaces that bound by what actually happened, which can only be less.

A fill's effect on each outcome's loss is linear in the shares filled at a given price, so its worst
is at "all filled" or "nothing filled"; the price and the fee take their worst within the limit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from server.domain.limits import hedge_budget
from server.domain.types import HedgeStatus, Leg, Side

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
# The venue rounds each fill's fee half up to 0.00001 USDC, with a minimum of 0.00001: a cent covers
# the rounding of a thousand fills of one hedge.
FEE_ROUNDING_ALLOWANCE = CENT


@dataclass(frozen=True)
class InFlight:
    """One hedge in flight: which token, which way, how many shares, and the most its fill can add to
    the platform's loss if YES wins and if NO wins (both at least zero)."""

    leg: Leg
    side: Side
    size: Decimal
    loss_if_yes: Decimal
    loss_if_no: Decimal

    @property
    def delta(self) -> Decimal:
        """YES-equivalent shares the hedge adds to the platform's holdings when it fills in full
        (a NO share is short one YES share, plus one USDC at resolution)."""
        buys = self.side is Side.BUY
        if self.leg is Leg.YES:
            return self.size if buys else -self.size
        return -self.size if buys else self.size


def in_flight(
    leg: Leg,
    side: Side,
    size: Decimal,
    limit_price: Decimal,
    *,
    tick: Decimal,
    fee_rate: Decimal,
    fee_exponent: Decimal,
) -> InFlight:
    """The bounds of a marketable hedge of `size` shares at `limit_price` (a BUY spends at most its
    USDC budget at prices no worse than the limit; a SELL gives at most `size` shares of the token it
    holds, YES or NO, for prices no worse than the limit), fees included."""
    if side is Side.BUY:
        budget = hedge_budget(size, limit_price)
        fee = budget * fee_rate * _max_fee_per_usdc(tick, limit_price, fee_exponent)
        # The outcome the bought token does not pay: the whole budget and the fee are gone.
        unpaid = budget + fee + FEE_ROUNDING_ALLOWANCE
        # The outcome it pays: every share pays 1, more than its price and fee, when the exponent is
        # at least 1 (fee per share rate x p^e x (1-p)^e <= 1 - p). Below 1, count the fee alone.
        paid = FEE_ROUNDING_ALLOWANCE + (fee if fee_exponent < 1 else ZERO)
        pays_if_yes = leg is Leg.YES
        return InFlight(
            leg,
            side,
            size,
            _up(paid if pays_if_yes else unpaid),
            _up(unpaid if pays_if_yes else paid),
        )
    fee = size * fee_rate * _max_fee_base(limit_price, ONE - tick, fee_exponent)
    # The sold token wins: each share sold would have paid 1 and brought at least the limit, less its fee.
    if_sold_wins = size * (ONE - limit_price) + fee + FEE_ROUNDING_ALLOWANCE
    # The other wins: the proceeds are a gain, more than the fee when the exponent is at least 1.
    if_other_wins = FEE_ROUNDING_ALLOWANCE + (fee if fee_exponent < 1 else ZERO)
    if leg is Leg.YES:
        return InFlight(leg, side, size, _up(if_sold_wins), _up(if_other_wins))
    return InFlight(leg, side, size, _up(if_other_wins), _up(if_sold_wins))


def _max_fee_per_usdc(tick: Decimal, limit: Decimal, exponent: Decimal) -> Decimal:
    """The most fee per USDC spent at a price in [tick, limit], over the fee rate: p^(e-1) (1-p)^e.
    For e >= 1 it rises up to p = (e-1)/(2e-1) and falls after; below 1 it falls throughout."""
    if limit <= tick or exponent < 1:
        return _per_usdc(tick, exponent)
    peak = (exponent - 1) / (2 * exponent - 1)
    return _per_usdc(min(max(peak, tick), limit), exponent)


def _per_usdc(price: Decimal, exponent: Decimal) -> Decimal:
    return _power(price, exponent - 1) * _power(ONE - price, exponent)


def _max_fee_base(low: Decimal, high: Decimal, exponent: Decimal) -> Decimal:
    """The most of (p (1-p))^e for a price in [low, high]: p (1-p) peaks at one half."""
    nearest_half = min(max(Decimal("0.5"), low), high)
    return _power(nearest_half * (ONE - nearest_half), exponent)


def _power(base: Decimal, exponent: Decimal) -> Decimal:
    if exponent == exponent.to_integral_value():
        return base ** int(exponent)
    return base**exponent


def _up(value: Decimal) -> Decimal:
    return max(value, ZERO).quantize(CENT, rounding=ROUND_CEILING)


class CountedWhileOpen:
    """What every hedge (an order's, `server.domain.hedge.Hedge`, or a netted market's,
    `server.domain.book_hedge.BookHedge`) shares: open while its status says so, and counted in its
    market at its worst (`in_flight`) while open. The dataclasses that take it in hold the fields."""

    leg: Leg
    side: Side
    size: Decimal
    status: HedgeStatus
    worst_loss_if_yes: Decimal
    worst_loss_if_no: Decimal

    @property
    def is_open(self) -> bool:
        """Sent (or about to be) and not settled: its exposure is counted at its worst."""
        return self.status.is_open

    @property
    def in_flight(self) -> InFlight:
        """The hedge as its market counts it while it is open (`Position.with_hedge_sent`)."""
        return InFlight(self.leg, self.side, self.size, self.worst_loss_if_yes, self.worst_loss_if_no)
