"""A venue trade record (`GET /data/trades`) as it concerns one of our orders: its settlement status
and the shares and price of our side of it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

STATUSES = frozenset({"matched", "mined", "retrying", "confirmed", "failed"})


@dataclass(frozen=True)
class OurTrade:
    """One trade of our order: its id, status (lower case, one of `STATUSES`), shares and price, and
    whether our order took liquidity (a taker pays the fee, a maker none)."""

    trade_id: str
    status: str
    shares: Decimal
    price: Decimal
    taker: bool


def our_side(record: dict[str, Any], order_id: str) -> OurTrade | None:
    """The trade as it concerns order `order_id`: as the taker, the trade's size and price; as a maker,
    its entry in `maker_orders`. None when the record does not involve the order, names an unknown
    status or carries no readable amounts."""
    status = str(record.get("status", "")).lower()
    if status not in STATUSES:
        return None
    try:
        if record.get("taker_order_id") == order_id:
            return OurTrade(
                str(record["id"]), status, Decimal(str(record["size"])), Decimal(str(record["price"])), True
            )
        for maker in record.get("maker_orders") or ():
            if isinstance(maker, dict) and maker.get("order_id") == order_id:
                shares, price = Decimal(str(maker["matched_amount"])), Decimal(str(maker["price"]))
                return OurTrade(str(record["id"]), status, shares, price, False)
    except (KeyError, InvalidOperation):
        return None
    return None
