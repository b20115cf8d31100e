"""The types of entry in the hedge event log, as stored and as filters name them."""

from __future__ import annotations

from server.errors import InvalidArgument

# One name per HedgeEventType of protos/hedging/v1/events.proto, without its prefix, in lower case
# (tests/rpc/test_filters.py keeps the two in step).
EVENT_TYPES = frozenset(
    {
        "order_accepted",
        "order_rejected",
        "hedge_submitted",
        "hedge_filled",
        "hedge_partially_filled",
        "hedge_failed",
        "hedge_unknown",
        "hedge_resolved",
        "hedge_trade_failed",
        "hedge_paper_filled",
        "limit_reached",
        "breaker_tripped",
        "breaker_reset",
        "config_changed",
        "mapping_changed",
        "market_payout",
        "positions_redeemed",
        "positions_merged",
        "hedge_unaffordable",
    }
)


def event_type(field: str, value: str) -> str:
    """`value` if it names an event type; else `InvalidArgument` naming `field` and the known types."""
    if value not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidArgument(field, f"unknown event type {value[:64]!r}; known types: {known}")
    return value
