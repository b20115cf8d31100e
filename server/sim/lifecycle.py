"""Where a simulated market is in its life: taking orders, closed (trading over, result not yet known)
or resolved with a winning token. The venue shows it in the CLOB market object (``active``,
``closed``, ``accepting_orders``, ``tokens[].winner``) and, at resolution, on the market channel as
``market_resolved`` (a ``custom_feature_enabled`` event: clob-v1-venue-semantics.md §7.1)."""

from __future__ import annotations

from dataclasses import dataclass

from server.sim.markets import SimMarket


@dataclass(frozen=True)
class Lifecycle:
    """One market's state. A resolved market is closed as well."""

    closed: bool = False
    winning_token_id: str | None = None

    @property
    def accepting_orders(self) -> bool:
        return not self.closed

    @property
    def resolved(self) -> bool:
        return self.winning_token_id is not None


OPEN = Lifecycle()
CLOSED = Lifecycle(closed=True)


def resolved_to(winning_token_id: str) -> Lifecycle:
    """A market resolved for ``winning_token_id`` (one of its two tokens)."""
    return Lifecycle(closed=True, winning_token_id=winning_token_id)


def market_resolved(market: SimMarket, life: Lifecycle, timestamp_ms: int) -> dict[str, object]:
    """The market channel's ``market_resolved`` message (fields per reference §7.1)."""
    winner = life.winning_token_id
    assert winner is not None
    return {
        "event_type": "market_resolved",
        "id": market.question_id,
        "question": market.question,
        "market": market.condition_id,
        "slug": market.slug,
        "description": market.question,
        "assets_ids": list(market.token_ids),
        "outcomes": ["Yes", "No"],
        "event_message": {
            "id": market.question_id,
            "ticker": market.slug,
            "slug": market.slug,
            "title": market.question,
            "description": market.question,
        },
        "winning_asset_id": winner,
        "winning_outcome": market.outcome(winner),
        "timestamp": str(timestamp_ms),
    }
