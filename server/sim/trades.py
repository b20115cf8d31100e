"""Trade records: one per (taker order, maker order) fill, with the balance moves to undo on FAILED."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from server.sim.wire import ZERO, fmt


@dataclass(frozen=True)
class MakerFill:
    order_id: str
    owner: str
    maker_address: str
    matched_amount: Decimal
    price: Decimal
    asset_id: str
    outcome: str
    side: str

    def to_json(self, price_text: str) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "matched_amount": fmt(self.matched_amount),
            "price": price_text,
            "fee_rate_bps": "0",
            "asset_id": self.asset_id,
            "outcome": self.outcome,
            "side": self.side,
        }


@dataclass(eq=False)
class Trade:
    id: str
    taker_order_id: str
    condition_id: str
    asset_id: str
    side: str
    size: Decimal
    price: Decimal
    fee: Decimal
    fee_rate_bps: int
    outcome: str
    owner: str
    owner_address: str
    maker_address: str
    match_time: int
    transaction_hash: str
    maker: MakerFill
    maker_owner_address: str
    status: str = "MATCHED"
    last_update: int = 0
    fail_at_settlement: bool = False
    # Whether its transaction was sent: the trade shows ``transaction_hash`` only from then on.
    broadcast: bool = True
    # (address, asset, delta): asset "" is USDC, otherwise a token id. Undone if the trade fails.
    moves: list[tuple[str, str, Decimal]] = field(default_factory=list)
    locked_delta: Decimal = ZERO

    def involves(self, address: str) -> bool:
        return address in (self.owner_address, self.maker_owner_address)

    def to_json(self, viewer: str | None, price_text: str, maker_price_text: str) -> dict[str, object]:
        """Venue trade object; ``trader_side`` is from the viewer's point of view (taker by default)."""
        taker_view = viewer is None or viewer == self.owner_address
        return {
            "id": self.id,
            "taker_order_id": self.taker_order_id,
            "market": self.condition_id,
            "asset_id": self.asset_id,
            "side": self.side,
            "size": fmt(self.size),
            "fee_rate_bps": str(self.fee_rate_bps),
            "price": price_text,
            "status": self.status,
            "match_time": str(self.match_time),
            "last_update": str(self.last_update or self.match_time),
            "outcome": self.outcome,
            "bucket_index": 0,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "transaction_hash": self.transaction_hash if self.broadcast else "",
            "trader_side": "TAKER" if taker_view else "MAKER",
            "maker_orders": [self.maker.to_json(maker_price_text)],
            "fee": fmt(self.fee),
        }
