"""What the platform owes each account when a market resolves. Pure.

A user order buys or sells back shares of the market's outcome (its YES token). An account's position
is the shares it bought less the shares it sold back, over its accepted orders; at resolution each
share pays 1 USDC if YES won and nothing if NO won. A position can be negative (an account sold back
more than it bought): it then owes the platform, and the payout is negative."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from server.domain.types import Leg, Side

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class UserTrade:
    """One accepted user order, as far as settlement cares."""

    account_id: str
    side: Side
    size: Decimal


@dataclass(frozen=True)
class Payout:
    """One account's settlement in one market: its net shares and the USDC they pay."""

    account_id: str
    shares: Decimal
    payout: Decimal


def payouts(trades: Iterable[UserTrade], winner: Leg) -> list[Payout]:
    """One payout per account that traded, in account id order; an account whose buys and sells net
    to zero gets a payout of 0 (it is settled too, so its record says so)."""
    shares: dict[str, Decimal] = {}
    for t in trades:
        signed = t.size if t.side is Side.BUY else -t.size
        shares[t.account_id] = shares.get(t.account_id, ZERO) + signed
    per_share = ONE if winner is Leg.YES else ZERO
    return [Payout(account, held, held * per_share) for account, held in sorted(shares.items())]


def winning_leg(winning_token_id: str, yes_token_id: str, no_token_id: str) -> Leg:
    """Which leg of the market `winning_token_id` is; anything else is a `ValueError` (a resolution
    naming a token of another market must not settle this one)."""
    if winning_token_id == yes_token_id:
        return Leg.YES
    if winning_token_id == no_token_id:
        return Leg.NO
    raise ValueError(f"winning token {winning_token_id[:80]!r} is neither of the market's tokens")
