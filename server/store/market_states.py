"""The venue's market state kept on the mapping (migration 0013): what the follower writes and what
booking refuses on. A resolved market stays resolved: the venue does not undo a resolution, so a
later answer that says otherwise is a glitch to ignore, not a reopening."""

from __future__ import annotations

import peewee

from server.domain.market_state import MarketState
from server.errors import NotFound
from server.store import events, groups, settlements
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import PolymarketMarketMapping


def state_of(mapping: PolymarketMarketMapping) -> MarketState:
    """The market state stored on `mapping`."""
    return MarketState(mapping.market_state)


def record(
    database: peewee.Database, mapping_id: int, state: MarketState, winning_token_id: str | None
) -> PolymarketMarketMapping | None:
    """Stores the state the venue reported for the mapping's market, with a `mapping_changed` event,
    when it differs from the stored one; returns the changed mapping, or None when nothing changed.
    A resolution settles the market's user positions in the same transaction
    (`server.store.settlements`), so a resolved market is never left unsettled by a crash between."""
    with write_transaction(database):
        if state is MarketState.RESOLVED:
            groups.lock_with_groups([mapping_id])  # a booking's lock order: exposure row first
        row = (
            PolymarketMarketMapping.select()
            .where(PolymarketMarketMapping.id == mapping_id)
            .for_update()
            .get_or_none()
        )
        if row is None:
            raise NotFound(f"no mapping {mapping_id}")
        was = state_of(row)
        if was is MarketState.RESOLVED or (was, row.winning_token_id) == (state, winning_token_id):
            return None
        now = utcnow()
        PolymarketMarketMapping.update(
            market_state=state.value,
            winning_token_id=winning_token_id,
            market_state_at=now,
            updated_at=now,
        ).where(PolymarketMarketMapping.id == mapping_id).execute()
        message = f"the venue's market is now {state.value} (was {was.value})"
        if winning_token_id is not None:
            won = "YES" if winning_token_id == row.yes_token_id else "NO"
            message += f": {won} won"
        data = {
            "mapping_id": mapping_id,
            "condition_id": row.condition_id,
            "market_state": state.value,
            "previous_state": was.value,
            "winning_token_id": winning_token_id or "",
            "author": "venue",
        }
        note = NewEvent("mapping_changed", message, row.event_id, row.outcome, data=data)
        _, payouts = settlements.statements(database, PolymarketMarketMapping.get_by_id(mapping_id), now)
        events.append(database, [note, *payouts])
    changed: PolymarketMarketMapping = PolymarketMarketMapping.get_by_id(mapping_id)
    return changed
