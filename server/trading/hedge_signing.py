"""Signing a hedge order the way the venue takes it, once, for the order desk and the re-hedger alike.

A marketable BUY is signed as a USDC budget in cents (the venue's market-order form: it may fill a
little over the size, never over the limit price); a SELL as a limit order for the exact size."""

from __future__ import annotations

import time
from decimal import Decimal

from server.domain.limits import hedge_budget
from server.domain.types import Side
from server.store.orders import SignedIntent
from server.venue.order_amounts import market_order_amounts
from server.venue.order_signing import OrderSigner, new_salt
from server.venue.wire import post_order_body

UNITS = Decimal(1_000_000)  # on-chain amounts have 6 decimals
CENT = Decimal("0.01")


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
    """The signed order and its hash, ready to post (and to re-post byte for byte)."""
    salt, stamp = new_salt(), time.time_ns() // 1_000_000
    if side is Side.BUY:
        order = signer.build_market_order(
            token_id,
            covering_budget(size, limit_price, tick_size),
            "BUY",
            limit_price,
            tick_size,
            neg_risk,
            salt=salt,
            timestamp_ms=stamp,
        )
    else:
        order = signer.build_limit_order(
            token_id, limit_price, size, "SELL", tick_size, neg_risk, salt=salt, timestamp_ms=stamp
        )
    body = post_order_body(order, api_key, order_type)
    return SignedIntent(order.order_hash, body.decode())


def covering_budget(size: Decimal, limit: Decimal, tick: Decimal) -> Decimal:
    """The smallest cent budget whose signed order buys at least `size` shares at `limit`.

    The official client's float rounding can sign a cent less than asked (4.85 becomes 4.84), so the
    signed share amount is checked, adding a cent at a time."""
    budget = hedge_budget(size, limit)
    wanted = int(size * UNITS)
    for _ in range(5):
        _, shares = market_order_amounts("BUY", budget, limit, tick)
        if shares >= wanted:
            return budget
        budget += CENT
    return budget
