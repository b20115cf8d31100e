"""Follows each mapped market's state at the venue by polling its market object
(`GET /markets/{condition_id}`) and keeps it on the mapping, so a market that closed stops taking
orders (MARKET_CLOSED) in every process.

Polling, not the market channel's `market_resolved`: the service reads books over HTTP and holds no
market-channel connection, that event only reports resolution (not the close before it), and the
venue does not replay it after a disconnect. A poll sees every state, again after any outage. Hedges
already at the venue are left alone: their outcomes are looked up as always."""

from __future__ import annotations

import logging

import peewee

from server.domain.market_state import MarketState
from server.errors import Unavailable
from server.periodic import Periodic
from server.store import market_states, settlements
from server.store.models import PolymarketMarketMapping
from server.trading.state import RunInDb, StateCache
from server.venue.client import VenueClient

log = logging.getLogger(__name__)
# A market's close is seen within this long; one GET per active market per pass.
INTERVAL_SECONDS = 5.0


class MarketStateFollower:
    def __init__(
        self,
        database: peewee.Database,
        venue: VenueClient,
        state: StateCache,
        run_in_db: RunInDb,
        *,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._db = database
        self._venue = venue
        self._state = state
        self._run = run_in_db
        self._periodic = Periodic(
            "market-states", self.follow_all, interval, failure="market state pass failed", logger=log
        )

    async def follow_all(self) -> int:
        """One pass over the active mappings whose market has not resolved; returns how many changed.
        First settles any resolved market not settled yet (one resolved before settlement existed:
        a resolution recorded since settles in its own transaction)."""
        await self._run(lambda: self.settle_unsettled())
        followed = [
            m
            for m in self._state.current.mappings.values()
            if m.active and market_states.state_of(m) is not MarketState.RESOLVED
        ]
        changed = 0
        for mapping in sorted(followed, key=lambda m: m.id):
            if await self._follow(mapping):
                changed += 1
        return changed

    async def _follow(self, mapping: PolymarketMarketMapping) -> bool:
        try:
            seen = await self._venue.get_market(mapping.condition_id)
        except Unavailable as exc:
            log.warning("market %s/%s: state not read (%s); keeping %s",
                        mapping.event_id, mapping.outcome, exc, mapping.market_state)  # fmt: skip
            return False
        if (seen.state.value, seen.winning_token_id) == (mapping.market_state, mapping.winning_token_id):
            return False
        mapping_id = mapping.id
        changed = await self._run(
            lambda: market_states.record(self._db, mapping_id, seen.state, seen.winning_token_id)
        )
        if changed is None:
            return False
        log.warning(
            "market %s/%s is now %s at the venue", changed.event_id, changed.outcome, changed.market_state
        )
        self._state.remember(changed)
        return True

    def settle_unsettled(self) -> int:
        """Settles each resolved market without a settlement (call from a database thread); returns
        how many this call settled (another process may settle some first: those it skips)."""
        settled = [settlements.settle(self._db, i) for i in settlements.unsettled(self._db)]
        return sum(1 for s in settled if s is not None)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
