"""Where a Polymarket market is in its life, as the venue's market object says, and what that means
for new orders. Pure: the venue client reads the object, the store keeps the state on the mapping."""

from __future__ import annotations

from enum import StrEnum

from server.domain.decision import Rejected
from server.domain.types import RejectReason


class MarketState(StrEnum):
    OPEN = "open"  # taking orders
    NOT_ACCEPTING = "not_accepting"  # not closed, but the venue takes no orders now (a pause)
    CLOSED = "closed"  # trading has ended; the result is not known yet
    RESOLVED = "resolved"  # ended with a winning outcome

    @property
    def ended(self) -> bool:
        """Trading is over for good: no new user order can be hedged here."""
        return self in (MarketState.CLOSED, MarketState.RESOLVED)


def market_state(*, closed: bool, accepting_orders: bool, winning_token_id: str | None) -> MarketState:
    """The state the venue's `closed`, `accepting_orders` and `tokens[].winner` fields describe. A winner
    means resolved whatever the other fields say; `closed` alone means ended; a market that is open but
    not accepting orders is paused (the whole venue does this while trading is disabled), which is not
    an end: it takes orders again when the venue does."""
    if winning_token_id is not None:
        return MarketState.RESOLVED
    if closed:
        return MarketState.CLOSED
    return MarketState.OPEN if accepting_orders else MarketState.NOT_ACCEPTING


def market_closed(state: MarketState) -> Rejected | None:
    """The rejection of a new order in a market in `state`, if it is refused (MARKET_CLOSED)."""
    if not state.ended:
        return None
    return Rejected(
        RejectReason.MARKET_CLOSED, f"the Polymarket market is {state.value}: it takes no new orders"
    )
