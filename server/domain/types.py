"""The domain's vocabulary. Transport enums (protobuf, GraphQL) are converted to and from these at the edges."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Leg(StrEnum):
    """Which token of the Polymarket market a hedge trades: YES is the user's outcome, NO its complement."""

    YES = "YES"
    NO = "NO"


class Mode(StrEnum):
    LIVE = "live"
    PAPER = "paper"
    OFF = "off"


class RejectReason(StrEnum):
    MARKET_INACTIVE = "market_inactive"
    PRICE_MOVED = "price_moved"
    BOOK_STALE = "book_stale"
    INSUFFICIENT_LIQUIDITY = "insufficient_liquidity"
    SIZE_TOO_LARGE = "size_too_large"
    SIZE_TOO_SMALL = "size_too_small"
    MARKET_EXPOSURE_LIMIT = "market_exposure_limit"
    TOTAL_EXPOSURE_LIMIT = "total_exposure_limit"
    HALTED = "halted"
    REDUCE_ONLY = "reduce_only"
    VENUE_UNAVAILABLE = "venue_unavailable"
    MARKET_CLOSED = "market_closed"
    GROUP_EXPOSURE_LIMIT = "group_exposure_limit"


class HedgeStatus(StrEnum):
    """State of one hedge row."""

    PENDING = "pending"  # recorded and signed; result not in yet
    UNKNOWN = "unknown"  # the venue's answer was lost: resolve by looking the order up
    HEDGED = "hedged"  # fully filled
    PARTIAL = "partial"  # partly filled; residual unhedged
    FAILED = "failed"  # nothing filled; position unhedged
    PAPER = "paper"  # simulated fill in paper mode

    @property
    def is_open(self) -> bool:
        return self in (HedgeStatus.PENDING, HedgeStatus.UNKNOWN)


class Settlement(StrEnum):
    """Where the trades of a live hedge that filled stand on chain. A hedge with nothing to follow (paper,
    nothing filled, or no trade ids in the venue's answer) has none."""

    SETTLING = "settling"  # some trade is MATCHED, MINED or RETRYING: a FAILED one may still undo it
    SETTLED = "settled"  # every trade is CONFIRMED or FAILED: the fill is final


class OrderHedgeStatus(StrEnum):
    """The combined hedge state of a user order, as callers see it."""

    PENDING = "pending"
    UNKNOWN = "unknown"
    HEDGED = "hedged"
    PARTIALLY_HEDGED = "partially_hedged"
    UNHEDGED = "unhedged"
    PAPER = "paper"
    NOT_ATTEMPTED = "not_attempted"


class BreakerLevel(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"
