"""The venue's market fields to a market state, and which states refuse new orders."""

from __future__ import annotations

import pytest

from server.domain.market_state import MarketState, market_closed, market_state
from server.domain.types import RejectReason


@pytest.mark.parametrize(
    ("closed", "accepting", "winner", "expected"),
    [
        (False, True, None, MarketState.OPEN),
        (False, False, None, MarketState.NOT_ACCEPTING),  # a pause, not an end
        (True, False, None, MarketState.CLOSED),
        (True, True, None, MarketState.CLOSED),  # closed wins over a stale accepting flag
        (True, False, "7", MarketState.RESOLVED),
        (False, True, "7", MarketState.RESOLVED),  # a winner is a resolution whatever else is said
    ],
)
def test_the_venue_fields_name_one_state(closed, accepting, winner, expected):
    assert market_state(closed=closed, accepting_orders=accepting, winning_token_id=winner) is expected


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (MarketState.OPEN, False),
        (MarketState.NOT_ACCEPTING, False),
        (MarketState.CLOSED, True),
        (MarketState.RESOLVED, True),
    ],
)
def test_only_an_ended_market_refuses_new_orders(state, refused):
    rejection = market_closed(state)
    assert (rejection is not None) is refused
    if rejection is not None:
        assert rejection.reason is RejectReason.MARKET_CLOSED
        assert state.value in rejection.message
