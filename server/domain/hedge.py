"""A hedge order of ours on the venue, and its state machine.

PENDING (signed and stored, sent or about to be) and UNKNOWN (the venue's answer was lost) are open:
the hedge's exposure stays reserved at its worst. An open hedge settles once, to HEDGED, PARTIAL or
FAILED; an open hedge whose answer is lost (again) is UNKNOWN. PAPER and the three settled states are
final: nothing moves a final hedge, and asking raises `TransitionRefused`.

Settlement is a second, later machine (`Settlement`): a live hedge that filled is recorded at the
venue's MATCHED answer and stays SETTLING until each of its trades is CONFIRMED or FAILED on chain.
While it settles, the one change its fill may take is a FAILED trade leaving it (`trade_failed`), which
can only lower the fill, never below what its CONFIRMED trades hold; then it is SETTLED, and final."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from server.domain.hedge_result import HedgeResult, profit, status_for_fill
from server.domain.in_flight import CountedWhileOpen, InFlight
from server.domain.types import HedgeStatus, Leg, Settlement, Side
from server.errors import TransitionRefused

SETTLED = frozenset({HedgeStatus.HEDGED, HedgeStatus.PARTIAL, HedgeStatus.FAILED})
RESIDUAL = frozenset({HedgeStatus.FAILED, HedgeStatus.PARTIAL})
ZERO = Decimal(0)


@dataclass(frozen=True)
class SignedIntent:
    """A hedge order signed once: its venue id (the EIP-712 hash) and the exact body to post."""

    venue_order_id: str
    body: str


@dataclass(frozen=True)
class TradeFill:
    """One venue trade of a hedge's fill, from the hedge's side: `shares` for `cost` USDC (paid on a BUY,
    received on a SELL) and the taker `fee` charged on it."""

    trade_id: str
    shares: Decimal
    cost: Decimal
    fee: Decimal


@dataclass(frozen=True)
class Hedge(CountedWhileOpen):
    """One hedge as stored: what was signed, what the venue did with it, and its state."""

    id: str
    order_id: str
    mapping_id: int
    parent_hedge_id: str | None
    token_id: str
    leg: Leg
    side: Side
    size: Decimal
    limit_price: Decimal
    quoted_price: Decimal
    user_price: Decimal
    order_type: str
    is_paper: bool
    status: HedgeStatus
    venue_order_id: str | None
    signed_order: str | None
    filled_size: Decimal
    fill_cost: Decimal
    fill_price: Decimal | None
    fee: Decimal
    spread_captured: Decimal
    net_profit: Decimal
    failure_reason: str | None
    attempt_count: int
    next_check_at: datetime | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    resolved_at: datetime | None
    worst_loss_if_yes: Decimal
    worst_loss_if_no: Decimal
    rehedge_requested_at: datetime | None = None
    rehedge_requested_by: str | None = None
    rehedge_request_reason: str | None = None
    settlement: Settlement | None = None

    @property
    def residual(self) -> Decimal:
        """Shares of the hedge that did not fill."""
        return self.size - self.filled_size

    @classmethod
    def pending(cls, *, id: str, order_id: str, mapping_id: int, parent_hedge_id: str | None, token_id: str,
                leg: Leg, side: Side, user_price: Decimal, quoted_price: Decimal, limit_price: Decimal,
                order_type: str, flight: InFlight, signed: SignedIntent | None, now: datetime) -> Hedge:  # fmt: skip
        """A hedge of `flight.size` shares just booked, counted at its worst (`flight`): signed and
        about to be posted, or, without `signed`, a paper hedge about to be filled in simulation."""
        return cls(
            id=id,
            order_id=order_id,
            mapping_id=mapping_id,
            parent_hedge_id=parent_hedge_id,
            token_id=token_id,
            leg=leg,
            side=side,
            size=flight.size,
            limit_price=limit_price,
            quoted_price=quoted_price,
            user_price=user_price,
            order_type=order_type,
            is_paper=signed is None,
            status=HedgeStatus.PENDING,
            venue_order_id=signed.venue_order_id if signed is not None else None,
            signed_order=signed.body if signed is not None else None,
            filled_size=ZERO,
            fill_cost=ZERO,
            fill_price=None,
            fee=ZERO,
            spread_captured=ZERO,
            net_profit=ZERO,
            failure_reason=None,
            attempt_count=0 if signed is None else 1,
            next_check_at=None,
            created_at=now,
            updated_at=now,
            submitted_at=None if signed is None else now,
            resolved_at=None,
            worst_loss_if_yes=flight.loss_if_yes,
            worst_loss_if_no=flight.loss_if_no,
        )

    def settled(self, result: HedgeResult, now: datetime) -> Hedge:
        """The hedge once the venue's final answer `result` is applied: its status follows the fill
        (a fill of nothing keeps the result's status, HEDGED, PARTIAL or FAILED), its profit is
        worked out on its user price."""
        if self.is_paper:
            raise TransitionRefused(f"hedge {self.id} is a paper hedge: the venue never sees it")
        status = result.status if result.filled == 0 else status_for_fill(self.size, result.filled)
        if status not in SETTLED:
            raise TransitionRefused(f"hedge {self.id}: {status} is not a venue outcome")
        settled = self._filled(status, result, now)
        if result.filled > 0 and result.trade_ids:
            return replace(settled, settlement=Settlement.SETTLING)
        return settled

    def paper_filled(self, result: HedgeResult, now: datetime) -> Hedge:
        """A paper hedge once filled in simulation: PAPER when anything filled, else FAILED."""
        if not self.is_paper:
            raise TransitionRefused(f"hedge {self.id} is live: only the venue fills it")
        status = HedgeStatus.PAPER if result.filled > 0 else HedgeStatus.FAILED
        return self._filled(status, result, now)

    def _filled(self, status: HedgeStatus, result: HedgeResult, now: datetime) -> Hedge:
        self._must_be_open("settle")
        earned = profit(
            self.leg, self.side, self.user_price, self.size, result.filled, result.cost, result.fee
        )
        return replace(
            self,
            status=status,
            filled_size=result.filled,
            fill_cost=result.cost,
            fill_price=result.fill_price,
            fee=result.fee,
            spread_captured=earned.spread_captured,
            net_profit=earned.net_profit,
            failure_reason=result.failure_reason,
            resolved_at=now,
            updated_at=now,
            next_check_at=None,
        )

    def trade_failed(self, trade: TradeFill, confirmed: Decimal, now: datetime) -> Hedge:
        """The settling hedge once `trade` FAILED on chain: its shares, cost and fee leave the fill, whose
        status follows what is left (HEDGED may become PARTIAL or FAILED). `confirmed` is the shares of
        the hedge's trades already CONFIRMED: the fill never goes below them."""
        if self.settlement is not Settlement.SETTLING:
            raise TransitionRefused(f"hedge {self.id} is not settling: its fill is final")
        left = self.filled_size - trade.shares
        if trade.shares <= 0 or left < confirmed:
            raise TransitionRefused(
                f"hedge {self.id}: trade {trade.trade_id} of {trade.shares} shares cannot leave a fill of "
                f"{self.filled_size} with {confirmed} confirmed"
            )
        # Nothing left: no cost and no fee, whatever rounding the recorded ones carried.
        cost = max(self.fill_cost - trade.cost, ZERO) if left > 0 else ZERO
        fee = max(self.fee - trade.fee, ZERO) if left > 0 else ZERO
        earned = profit(self.leg, self.side, self.user_price, self.size, left, cost, fee)
        return replace(
            self,
            status=status_for_fill(self.size, left),
            filled_size=left,
            fill_cost=cost,
            fill_price=cost / left if left > 0 else None,
            fee=fee,
            spread_captured=earned.spread_captured,
            net_profit=earned.net_profit,
            failure_reason=f"trade {trade.trade_id} FAILED at settlement: {trade.shares} shares undone",
            updated_at=now,
        )

    def settlement_final(self, now: datetime) -> Hedge:
        """The settling hedge once every trade of its fill is CONFIRMED or FAILED: SETTLED, final."""
        if self.settlement is not Settlement.SETTLING:
            raise TransitionRefused(f"hedge {self.id} is not settling")
        return replace(self, settlement=Settlement.SETTLED, updated_at=now)

    def unknown(self, message: str, next_check_at: datetime, now: datetime) -> Hedge:
        """The hedge once its venue answer is lost: UNKNOWN, to be looked up at `next_check_at`."""
        self._must_be_open("mark unknown")
        return replace(
            self,
            status=HedgeStatus.UNKNOWN,
            failure_reason=message,
            next_check_at=next_check_at,
            updated_at=now,
        )

    def rehedge_requested(self, author: str, reason: str, now: datetime) -> Hedge:
        """The hedge with a person's request to re-hedge its residual on record. Only a live FAILED or
        PARTIAL hedge with shares left unfilled can be re-hedged; a second request keeps the first."""
        if self.is_paper:
            raise TransitionRefused("hedge is a paper hedge: only a live hedge is re-hedged")
        if self.status not in RESIDUAL:
            raise TransitionRefused(
                f"hedge is {self.status}: only a failed or partial live hedge is re-hedged"
            )
        if self.residual <= 0:
            raise TransitionRefused("hedge has no unhedged residual left")
        if self.rehedge_requested_at is not None:
            return self
        return replace(
            self,
            rehedge_requested_at=now,
            rehedge_requested_by=author,
            rehedge_request_reason=reason,
            updated_at=now,
        )

    def _must_be_open(self, what: str) -> None:
        if not self.is_open:
            raise TransitionRefused(f"hedge {self.id} is {self.status}: a final hedge cannot {what}")
