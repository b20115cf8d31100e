"""Reading the venue's market object: the state, the winner, and bodies that are not read as a state."""

from __future__ import annotations

import pytest

from server.domain.market_state import MarketState
from server.errors import Unavailable
from server.venue.market_object import read_market

COND = "0x" + "ab" * 32


def _body(**fields):
    body = {
        "condition_id": COND,
        "active": True,
        "closed": False,
        "accepting_orders": True,
        "tokens": [{"token_id": "1", "winner": False}, {"token_id": "2", "winner": False}],
    }
    return body | fields


def test_open_closed_and_resolved():
    assert read_market(COND, _body()).state is MarketState.OPEN
    closed = read_market(COND, _body(closed=True, accepting_orders=False))
    assert (closed.state, closed.winning_token_id) == (MarketState.CLOSED, None)
    won = _body(closed=True, accepting_orders=False, tokens=[{"token_id": "1", "winner": False},
                                                             {"token_id": "2", "winner": True}])  # fmt: skip
    resolved = read_market(COND, won)
    assert (resolved.state, resolved.winning_token_id) == (MarketState.RESOLVED, "2")


def test_two_winners_are_not_a_resolution():
    both = _body(closed=True, accepting_orders=False, tokens=[{"token_id": "1", "winner": True},
                                                              {"token_id": "2", "winner": True}])  # fmt: skip
    assert read_market(COND, both).state is MarketState.CLOSED


@pytest.mark.parametrize(
    "body",
    [
        [],
        _body(condition_id="0x" + "cd" * 32),
        _body(closed="false"),
        {k: v for k, v in _body().items() if k != "accepting_orders"},
    ],
)
def test_a_body_that_is_not_this_markets_object_is_unavailable(body):
    with pytest.raises(Unavailable):
        read_market(COND, body)
