"""Exposure maths. A market's exposure is its worst-case loss at resolution: the maximum over outcomes
of what the platform owes users minus what its confirmed hedges pay it, net of cash taken and paid,
plus the worst each hedge still in flight could add to it (`server.domain.in_flight`).

Total exposure is the sum over neg-risk event groups of each group's worst case over which single
outcome wins (`server.domain.group_exposure`), plus the sum over markets in no group of each one's
exposure; each term floored at zero (a locked-in profit in one market or group does not offset risk
in another). Every writer moves it by `total_after`, holding the rows of the market's whole group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from server.domain.group_exposure import OutcomeLosses, group_exposure
from server.domain.in_flight import InFlight
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
    in_flight_delta: Decimal = ZERO  # YES-equivalent shares in-flight hedges add when filled in full
    in_flight_loss_if_yes: Decimal = ZERO  # the most in-flight hedges can add to the loss if YES wins
    in_flight_loss_if_no: Decimal = ZERO  # ... and if NO wins
    no_reserved_for_sale: Decimal = ZERO  # NO shares promised to in-flight SELL hedges (the rebalancer's)

    @property
    def loss_if_yes(self) -> Decimal:
        return self.user_shares - self.hedge_yes - self.net_cash + self.in_flight_loss_if_yes

    @property
    def loss_if_no(self) -> Decimal:
        return -self.hedge_no - self.net_cash + self.in_flight_loss_if_no

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

    @property
    def no_available(self) -> Decimal:
        return self.hedge_no - self.no_reserved_for_sale

    @property
    def unhedged_shares(self) -> Decimal:
        """YES shares owed to users that no hedge, held or in flight, covers; below zero when the
        hedges hold more YES than users are owed (the platform is long YES)."""
        return self.user_shares - (self.hedge_yes - self.hedge_no) - self.in_flight_delta

    def with_user_trade(self, side: Side, size: Decimal, price: Decimal) -> Position:
        """After booking a user order (the user BUYs: the platform owes more and takes cash)."""
        if side is Side.BUY:
            return replace(self, user_shares=self.user_shares + size, net_cash=self.net_cash + size * price)
        return replace(self, user_shares=self.user_shares - size, net_cash=self.net_cash - size * price)

    def with_hedge_sent(self, hedge: InFlight) -> Position:
        """After a hedge is booked and before its outcome is known: counted at its worst (a SELL also
        reserves the shares it sells)."""
        selling = hedge.size if hedge.side is Side.SELL else ZERO
        return replace(
            self,
            yes_reserved_for_sale=self.yes_reserved_for_sale + (selling if hedge.leg is Leg.YES else ZERO),
            no_reserved_for_sale=self.no_reserved_for_sale + (selling if hedge.leg is Leg.NO else ZERO),
            in_flight_delta=self.in_flight_delta + hedge.delta,
            in_flight_loss_if_yes=self.in_flight_loss_if_yes + hedge.loss_if_yes,
            in_flight_loss_if_no=self.in_flight_loss_if_no + hedge.loss_if_no,
        )

    def with_hedge_result(self, hedge: InFlight, *, filled: Decimal, cost: Decimal, fee: Decimal) -> Position:
        """After the outcome of a hedge booked with `with_hedge_sent` is confirmed: `filled` shares for
        `cost` USDC (proceeds for a SELL) and `fee` USDC replace its worst case."""
        sent = self.with_hedge_sent(
            InFlight(hedge.leg, hedge.side, -hedge.size, -hedge.loss_if_yes, -hedge.loss_if_no)
        )
        if hedge.leg is Leg.YES and hedge.side is Side.SELL:
            return replace(sent, hedge_yes=sent.hedge_yes - filled, net_cash=sent.net_cash + cost - fee)
        if hedge.side is Side.SELL:
            return replace(sent, hedge_no=sent.hedge_no - filled, net_cash=sent.net_cash + cost - fee)
        if hedge.leg is Leg.YES:
            return replace(sent, hedge_yes=sent.hedge_yes + filled, net_cash=sent.net_cash - cost - fee)
        return replace(sent, hedge_no=sent.hedge_no + filled, net_cash=sent.net_cash - cost - fee)

    def without_fill(self, leg: Leg, side: Side, *, shares: Decimal, cost: Decimal, fee: Decimal) -> Position:
        """After part of a recorded hedge fill (`shares` for `cost` USDC and `fee`) is undone, as a trade
        FAILED at settlement is: the shares go back and the USDC comes back (a SELL's proceeds go)."""
        nothing = InFlight(leg, side, ZERO, ZERO, ZERO)
        return self.with_hedge_result(nothing, filled=-shares, cost=-cost, fee=-fee)

    def with_shares_held(self, yes: Decimal, no: Decimal) -> Position:
        """After `yes` YES and `no` NO shares are set aside for a redemption or merge on chain (as
        shares promised to a SELL are: no hedge may sell them meanwhile); negative amounts release."""
        return replace(
            self,
            yes_reserved_for_sale=self.yes_reserved_for_sale + yes,
            no_reserved_for_sale=self.no_reserved_for_sale + no,
        )

    def with_merge(self, pairs: Decimal) -> Position:
        """After `pairs` YES+NO pairs are merged into as much USDC: no outcome's loss changes (a pair
        pays 1 whatever wins)."""
        return replace(
            self,
            hedge_yes=self.hedge_yes - pairs,
            hedge_no=self.hedge_no - pairs,
            net_cash=self.net_cash + pairs,
        )

    def with_redemption(self, yes_won: bool) -> Position:
        """After every hedge share of a resolved market is redeemed: the winning ones pay 1 USDC each,
        the losing ones nothing; the loss under the winning outcome is unchanged."""
        payout = self.hedge_yes if yes_won else self.hedge_no
        return replace(self, hedge_yes=ZERO, hedge_no=ZERO, net_cash=self.net_cash + payout)


Siblings = Sequence[OutcomeLosses] | None  # the other markets of a market's group; None: no group


def counted(position: Position, siblings: Siblings = None) -> Decimal:
    """What the total counts for a market at `position`: its own exposure when it is in no group;
    in a group, the group's exposure with the other markets at `siblings` (the group is one term of
    the total, whichever of its markets moves)."""
    if siblings is None:
        return position.exposure
    return group_exposure([*siblings, OutcomeLosses(position.loss_if_yes, position.loss_if_no)]).exposure


def total_after(total: Decimal, before: Position, after: Position, siblings: Siblings = None) -> Decimal:
    """The total exposure once one market moves from `before` to `after`, the other markets of its
    group (if any) staying at `siblings`."""
    return total - counted(before, siblings) + counted(after, siblings)


def total_exposure(standalone: Sequence[Position], groups: Sequence[Sequence[Position]]) -> Decimal:
    """The total exposure from scratch: markets in no group, and each group's markets."""
    alone = sum((p.exposure for p in standalone), ZERO)
    grouped = (
        group_exposure([OutcomeLosses(p.loss_if_yes, p.loss_if_no) for p in g]).exposure for g in groups
    )
    return alone + sum(grouped, ZERO)
