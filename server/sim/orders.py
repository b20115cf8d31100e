"""Signed-order parsing, the stateless order checks, and the order record the exchange keeps.

Limit (GTC/GTD) amounts follow py-clob-client-v2's ``ROUNDING_CONFIG``: shares carry at most 2
decimals, USDC at most the tick's "amount" decimals, and the ratio lands exactly on the tick. Marketable
(FOK/FAK) orders are held to the venue's own cap whatever the tick, 2 decimals for the maker amount and
4 for the taker (py-clob-client-v2 issue #99), and their ratio, rarely on the tick, is rounded towards
their own side of the book (``marketable_price``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from server.sim.errors import (
    INVALID_PAYLOAD,
    MARKET_BUY_PRECISION,
    MARKET_SELL_PRECISION,
    ORDER_VERSION_MISMATCH,
    POST_ONLY_TYPE,
    below_min_size,
    breaks_tick,
    rejected,
)
from server.sim.markets import SimMarket
from server.sim.signing import OrderFields
from server.sim.wire import ONE, UNITS, ZERO, decimals_of, fmt, fmt_price

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
# Fields only an exchange-V1 order carries (V2 signs timestamp, metadata and builder instead).
V1_ONLY_FIELDS = frozenset({"taker", "nonce", "feeRateBps"})
# tick -> (price decimals, size decimals, amount decimals), as in the client's ROUNDING_CONFIG.
ROUNDING = {
    Decimal("0.1"): (1, 2, 3),
    Decimal("0.01"): (2, 2, 4),
    Decimal("0.005"): (3, 2, 5),
    Decimal("0.0025"): (4, 2, 6),
    Decimal("0.001"): (3, 2, 5),
    Decimal("0.0001"): (4, 2, 6),
}
# The venue's precision for marketable (FOK/FAK) orders, whatever the tick: it answers
# MARKET_BUY_PRECISION / MARKET_SELL_PRECISION beyond it.
MARKETABLE_MAKER_DECIMALS = 2
MARKETABLE_TAKER_DECIMALS = 4


@dataclass(frozen=True)
class OrderRequest:
    """One element of a ``POST /order`` body, syntactically valid."""

    fields: OrderFields
    token_id: str
    side: str  # "BUY" | "SELL"
    expiration: int
    signature: str
    owner: str
    order_type: str
    post_only: bool
    defer_exec: bool


def _int_field(order: dict[str, Any], name: str) -> int:
    value = order[name]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(name)
    number = int(value)
    if number < 0:
        raise ValueError(name)
    return number


def parse_order_request(body: object) -> OrderRequest:
    """Validate the JSON shape; anything malformed is ``400 Invalid order payload``."""
    try:
        if not isinstance(body, dict):
            raise ValueError("body")
        order = body["order"]
        if not isinstance(order, dict):
            raise ValueError("order")
        if "timestamp" not in order and V1_ONLY_FIELDS & order.keys():
            raise rejected(ORDER_VERSION_MISMATCH)
        side = order["side"]
        if side not in ("BUY", "SELL"):
            raise ValueError("side")
        order_type = body.get("orderType", "GTC")
        if order_type not in ORDER_TYPES:
            raise ValueError("orderType")
        token_id = str(order["tokenId"])
        fields = OrderFields(
            salt=_int_field(order, "salt"),
            maker=str(order["maker"]),
            signer=str(order["signer"]),
            token_id=int(token_id),
            maker_amount=_int_field(order, "makerAmount"),
            taker_amount=_int_field(order, "takerAmount"),
            side=0 if side == "BUY" else 1,
            signature_type=_int_field(order, "signatureType"),
            timestamp=_int_field(order, "timestamp"),
            metadata=str(order.get("metadata") or "0x"),
            builder=str(order.get("builder") or "0x"),
        )
        if fields.signature_type > 3 or len(fields.maker) != 42 or len(fields.signer) != 42:
            raise ValueError("addresses")
        return OrderRequest(
            fields=fields,
            token_id=token_id,
            side=side,
            expiration=int(order.get("expiration") or 0),
            signature=str(order["signature"]),
            owner=str(body.get("owner", "")),
            order_type=order_type,
            post_only=bool(body.get("postOnly", False)),
            defer_exec=bool(body.get("deferExec", False)),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise rejected(INVALID_PAYLOAD) from exc


@dataclass(frozen=True)
class OrderTerms:
    """What a signed order asks for, in shares and USDC."""

    price: Decimal  # limit price of its own token, on the tick grid
    size: Decimal  # shares (BUY: shares wanted at the limit; SELL: shares offered)
    budget: Decimal | None  # FOK/FAK BUY: USDC to spend (filled by amount, not by shares)


def check_terms(request: OrderRequest, market: SimMarket, tick: Decimal, order_id: str) -> OrderTerms:
    """Post-only combination, amount precision, tick grid, price bounds and minimum size."""
    if request.post_only and request.order_type not in ("GTC", "GTD"):
        raise rejected(POST_ONLY_TYPE)
    maker = Decimal(request.fields.maker_amount) / UNITS
    taker = Decimal(request.fields.taker_amount) / UNITS
    if maker <= 0 or taker <= 0:
        raise rejected(INVALID_PAYLOAD)
    _, size_dp, amount_dp = ROUNDING[tick]
    is_market = request.order_type in ("FOK", "FAK")
    if request.side == "BUY":
        usdc, shares = maker, taker
        if is_market:
            if (
                decimals_of(usdc) > MARKETABLE_MAKER_DECIMALS
                or decimals_of(shares) > MARKETABLE_TAKER_DECIMALS
            ):
                raise rejected(MARKET_BUY_PRECISION)
        elif decimals_of(usdc) > amount_dp or decimals_of(shares) > size_dp:
            raise rejected(
                f"invalid amounts, the buy orders maker amount supports a max accuracy of {amount_dp} "
                f"decimals, taker amount a max of {size_dp} decimals"
            )
    else:
        shares, usdc = maker, taker
        if is_market:
            if (
                decimals_of(shares) > MARKETABLE_MAKER_DECIMALS
                or decimals_of(usdc) > MARKETABLE_TAKER_DECIMALS
            ):
                raise rejected(MARKET_SELL_PRECISION)
        elif decimals_of(shares) > size_dp or decimals_of(usdc) > amount_dp:
            raise rejected(
                f"invalid amounts, the sell orders maker amount supports a max accuracy of {size_dp} "
                f"decimals, taker amount a max of {amount_dp} decimals"
            )
    if is_market:
        price = marketable_price(request.side, usdc, shares, tick)
    else:
        price = usdc / shares
        if price % tick != 0:
            raise breaks_tick(order_id, fmt(price), fmt(tick))
    if price < tick or price > ONE - tick:
        # The venue reports out-of-range prices through its tick-size rule.
        raise breaks_tick(order_id, fmt_price(price, tick), fmt(tick))
    budget = usdc if (is_market and request.side == "BUY") else None
    if budget is not None:
        if budget < ONE:
            raise rejected(f"invalid amount for a marketable BUY order (${fmt(budget)}), min size: 1")
    elif shares < market.min_order_size:
        raise below_min_size(order_id, fmt(shares), fmt(market.min_order_size))
    return OrderTerms(price=price, size=shares, budget=budget)


def marketable_price(side: str, usdc: Decimal, shares: Decimal, tick: Decimal) -> Decimal:
    """The tick price a FOK/FAK order reaches: its ratio rounded towards its own side of the book.

    With the taker amount capped at 4 decimals a marketable order's ratio is rarely on the tick. The
    exchange contract crosses by that ratio (a BUY takes asks at or below ``usdc / shares``, a SELL
    bids at or above), so on a tick-priced book a BUY reaches the tick at or below its ratio and a
    SELL the tick at or above it.
    """
    steps, rest = divmod(usdc, shares * tick)
    if side == "SELL" and rest:
        steps += 1
    return steps * tick


@dataclass(eq=False)
class SimOrder:
    """An order the exchange accepted (signed by a user, or an unsigned liquidity-provider order)."""

    id: str
    condition_id: str
    token_id: str
    outcome: str
    is_yes: bool
    side: str
    price: Decimal
    original_size: Decimal
    order_type: str
    owner: str  # API key ("" for liquidity-provider orders)
    owner_address: str  # lower-case EOA behind the API key
    maker_address: str  # funder whose balances move (lower case)
    expiration: int
    created_at: int
    budget: Decimal | None = None
    is_lp: bool = False
    post_only: bool = False
    size_matched: Decimal = ZERO
    spent: Decimal = ZERO  # USDC paid by a budget (FOK/FAK BUY) order
    status: str = "LIVE"
    associate_trades: list[str] = field(default_factory=list)
    reserved: Decimal = ZERO  # USDC (BUY) or shares (SELL) held back while resting

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched

    @property
    def yes_price(self) -> Decimal:
        return self.price if self.is_yes else ONE - self.price

    @property
    def is_bid(self) -> bool:
        """Whether the order sits on the bid side of the market's YES book."""
        return (self.side == "BUY") == self.is_yes

    def to_json(self, tick: Decimal) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "market": self.condition_id,
            "asset_id": self.token_id,
            "side": self.side,
            "original_size": fmt(self.original_size),
            "size_matched": fmt(self.size_matched),
            "price": fmt_price(self.price, tick),
            "outcome": self.outcome,
            "expiration": str(self.expiration),
            "order_type": self.order_type,
            "associate_trades": list(self.associate_trades),
            "created_at": self.created_at,
        }
