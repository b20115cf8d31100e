"""Signing a hedge order the way the venue takes it, once, for the order desk and the re-hedger alike.

A marketable BUY is signed as a USDC budget in cents (the venue's market-order form: it may fill a
little over the size, never over the limit price); a SELL for the exact size. Both carry the amounts
the venue accepts for FOK/FAK orders on every tick (``marketable_amounts``), not the client's."""

from __future__ import annotations

import time
from decimal import ROUND_DOWN, Decimal

from server.domain.hedge import SignedIntent
from server.domain.limits import hedge_budget
from server.domain.types import Side
from server.venue.order_signing import OrderSigner, new_salt
from server.venue.wire import post_order_body

CENT = Decimal("0.01")
MARKETABLE_ORDER_TYPES = ("FOK", "FAK")


def sign_hedge(
    signer: OrderSigner,
    api_key: str,
    *,
    token_id: str,
    side: Side,
    size: Decimal,
    limit_price: Decimal,
    tick_size: Decimal,
    neg_risk: bool,
    order_type: str,
) -> SignedIntent:
    """The signed order and its hash, ready to post (and to re-post byte for byte).

    A hedge is marketable: FOK or FAK only (``hedgeOrderType``). Its amounts are FOK/FAK amounts and
    it carries no expiration, so a GTC/GTD post would rest with no end (or be refused: a GTD must
    expire at least 3 minutes ahead); ``ValueError`` instead."""
    if order_type not in MARKETABLE_ORDER_TYPES:
        raise ValueError(f"a hedge is FOK or FAK, not {order_type!r}")
    salt, stamp = new_salt(), time.time_ns() // 1_000_000
    if side is Side.BUY:
        order = signer.build_marketable_order(
            token_id, hedge_budget(size, limit_price), "BUY", limit_price, tick_size, neg_risk,
            salt=salt, timestamp_ms=stamp,
        )  # fmt: skip
    else:
        # The venue sells whole hundredths of a share; a re-hedge residual may carry more decimals
        # (the official client floors the same way).
        shares = size.quantize(CENT, rounding=ROUND_DOWN)
        order = signer.build_marketable_order(
            token_id, shares, "SELL", limit_price, tick_size, neg_risk, salt=salt, timestamp_ms=stamp
        )
    body = post_order_body(order, api_key, order_type)
    return SignedIntent(order.order_hash, body.decode())
