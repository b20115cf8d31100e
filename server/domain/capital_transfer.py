"""Redemptions and merges of the hedge inventory on chain (a "transfer"), decided without I/O.

A transfer is recorded before anything is sent, with the shares it burns set aside; it is sent as
one transaction from the service's wallet and is applied to the market's position once, when the
chain shows its outcome. Exactly once rests on the wallet's nonce: before sending, the transfer
records the nonce its transaction will use (the wallet's pending transaction count; one transfer is
in progress at a time, so nothing else takes it). Whatever happened since (a crash before or after
the request, a request refused, an answer lost or late), the chain says which: a transaction with
that nonce exists (it is the transfer's: wait for its receipt), or none does and the count is
still the nonce (nothing was sent: send), and a nonce can be used by one transaction only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import Enum

from server.domain.exposure import Position

ZERO = Decimal(0)
# Outcome tokens have 6 decimals on chain: a merge moves whole base units.
TOKEN_UNIT = Decimal("0.000001")


class TransferKind(Enum):
    REDEEM = "redeem"
    MERGE = "merge"


class TransferStep(Enum):
    """What to do next with a transfer, given what the chain shows."""

    SEND = "send"  # no transaction used its nonce and none is pending: send it (again)
    WAIT = "wait"  # its transaction is pending, or the nonce is taken by one not yet visible
    APPLIED = "applied"  # its transaction was mined and applied: record it, once
    REVERTED = "reverted"  # its transaction was mined and reverted: the chain refused it
    RECLAIM = "reclaim"  # the wallet's count fell below its nonce (a dropped transaction): take a new one


@dataclass(frozen=True)
class ChainView:
    """What the chain shows about a transfer's nonce."""

    pending_count: int  # the wallet's transaction count, pending ones included
    tx_hash: str | None  # the wallet's transaction with the transfer's nonce, if any is known
    applied: bool | None  # its receipt: applied, reverted, or None while not mined


def next_step(nonce: int, seen: ChainView) -> TransferStep:
    """The step for a transfer that recorded `nonce` before it could be sent."""
    if seen.tx_hash is not None:
        if seen.applied is None:
            return TransferStep.WAIT
        return TransferStep.APPLIED if seen.applied else TransferStep.REVERTED
    if seen.pending_count < nonce:
        return TransferStep.RECLAIM
    if seen.pending_count == nonce:
        return TransferStep.SEND
    return TransferStep.WAIT


def redeemable(position: Position) -> bool:
    """Whether a resolved market's hedge shares can be redeemed now: it holds some, and no hedge is
    in flight or has shares set aside (their fills could still change what is held)."""
    settled = (
        position.in_flight_delta == ZERO
        and position.in_flight_loss_if_yes == ZERO
        and position.in_flight_loss_if_no == ZERO
        and position.yes_reserved_for_sale == ZERO
        and position.no_reserved_for_sale == ZERO
    )
    return settled and (position.hedge_yes > ZERO or position.hedge_no > ZERO)


def redemption_payout(position: Position, yes_won: bool) -> Decimal:
    """USDC the redemption pays: one per winning share held."""
    return position.hedge_yes if yes_won else position.hedge_no


def mergeable_pairs(position: Position) -> Decimal:
    """YES+NO pairs held and free of in-flight sales, in whole token units; zero if none."""
    pairs = min(position.yes_available, position.no_available).quantize(TOKEN_UNIT, rounding=ROUND_DOWN)
    return max(pairs, ZERO)
