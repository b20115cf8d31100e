"""A user order as booked, with its hedges."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from server.domain.hedge import Hedge
from server.domain.hedge_result import order_hedge_status
from server.domain.types import HedgeStatus, OrderHedgeStatus, RejectReason, Side


@dataclass(frozen=True)
class Order:
    """One user order: accepted (at `price`, for `notional`) or rejected (for `reject_reason`)."""

    id: str
    account_id: str
    request_id: str
    request_hash: str
    mapping_id: int | None
    event_id: str
    outcome: str
    side: Side
    size: Decimal
    limit_price: Decimal | None
    status: str  # "accepted" or "rejected"
    reject_reason: RejectReason | None
    message: str
    price: Decimal | None
    notional: Decimal | None
    reference_price: Decimal | None
    hedge_fee_estimate: Decimal | None
    hedge_status: OrderHedgeStatus
    hedged_size: Decimal
    created_at: datetime
    updated_at: datetime
    hedge_policy: str | None = None  # the market's hedgePolicy when booked (None: booked before 0017)


@dataclass(frozen=True)
class OrderWithHedges:
    """An order and its hedges, oldest first."""

    order: Order
    hedges: list[Hedge] = field(default_factory=list)

    @property
    def pending_hedge(self) -> Hedge | None:
        """The live hedge still waiting for its first answer, if any."""
        return next((h for h in self.hedges if h.status is HedgeStatus.PENDING and not h.is_paper), None)

    def with_hedge(self, hedge: Hedge, now: datetime) -> OrderWithHedges:
        """The order once `hedge` (one of its hedges, by id) is replaced: its combined hedge status
        follows the newest hedge and its hedged size is the sum of every hedge's fill."""
        if all(h.id != hedge.id for h in self.hedges):
            raise ValueError(f"hedge {hedge.id} is not one of order {self.order.id}'s")
        hedges = [hedge if h.id == hedge.id else h for h in self.hedges]
        filled = sum((h.filled_size for h in hedges), Decimal(0))
        status = order_hedge_status([h.status for h in hedges])
        order = replace(self.order, hedge_status=status, hedged_size=filled, updated_at=now)
        return OrderWithHedges(order, hedges)
