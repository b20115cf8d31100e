"""The venue's CLOB market object (`GET /markets/{condition_id}`, reference clob-v1-venue-semantics.md
§3.6) read for what the service follows: the market's state and, once resolved, its winning token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.domain.market_state import MarketState, market_state
from server.errors import Unavailable


@dataclass(frozen=True)
class VenueMarket:
    """One market's state as the venue reports it."""

    condition_id: str
    state: MarketState
    winning_token_id: str | None


def read_market(condition_id: str, data: Any) -> VenueMarket:
    """The state in a market object; `Unavailable` when the body is not one (a missing or non-boolean
    `closed`/`accepting_orders` is not read as either value: the state stays as last known)."""
    if not isinstance(data, dict) or data.get("condition_id") != condition_id:
        raise Unavailable(f"/markets/{condition_id[:66]} answered with another body than its market")
    closed, accepting = data.get("closed"), data.get("accepting_orders")
    if not isinstance(closed, bool) or not isinstance(accepting, bool):
        raise Unavailable(f"/markets/{condition_id[:66]} has no boolean closed/accepting_orders")
    tokens = data.get("tokens")
    winners = [
        str(t.get("token_id"))
        for t in (tokens if isinstance(tokens, list) else [])
        if isinstance(t, dict) and t.get("winner") is True
    ]
    # Two winners is no resolution we understand: keep following instead of guessing.
    winner = winners[0] if len(winners) == 1 else None
    state = market_state(closed=closed, accepting_orders=accepting, winning_token_id=winner)
    return VenueMarket(condition_id, state, winner)
