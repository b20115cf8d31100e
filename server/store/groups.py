"""The markets of a neg-risk event group (mappings sharing an `event_group`, migration 0013), locked
together for a booking that checks the group's limit.

Lock order: a booking locks, in one statement and in mapping id order, its markets' rows together
with every market row of their groups, before anything else (`server.store.booking`). Writers that
lock one market row only (hedge outcomes, re-hedges) cannot deadlock with it: they wait for nothing
after that row but the totals row, which a booking takes last. Two bookings take the rows they share
in the same order."""

from __future__ import annotations

from server.domain.exposure import Position
from server.domain.market_state import MarketState
from server.store.models import MarketExposure, PolymarketMarketMapping
from server.store.positions import locked
from server.store.rows import position_of

Locked = tuple[dict[int, Position], dict[str, list[int]], dict[int, MarketState]]


def lock_with_groups(mapping_ids: list[int], event_groups: list[str]) -> Locked:
    """The positions of the markets `mapping_ids` and of every market of the groups `event_groups`,
    their exposure and mapping rows locked in mapping id order until the caller's transaction ends
    (one statement; none without markets), each group's markets and each market's state as the
    statement found them (as committed when it got the locks: a settlement that resolved the market
    meanwhile is seen)."""
    if not mapping_ids and not event_groups:
        return {}, {}, {}
    wanted = MarketExposure.mapping.in_(mapping_ids)
    if event_groups:
        wanted = wanted | PolymarketMarketMapping.event_group.in_(event_groups)
    query = (
        MarketExposure.select(
            MarketExposure, PolymarketMarketMapping.event_group, PolymarketMarketMapping.market_state
        )
        .join(PolymarketMarketMapping)
        .where(wanted)
        .order_by(MarketExposure.mapping)
    )
    held: dict[int, Position] = {}
    members: dict[str, list[int]] = {}
    states: dict[int, MarketState] = {}
    for row in locked(query).objects():
        mapping_id = int(row.__data__["mapping"])
        held[mapping_id] = position_of(row)
        states[mapping_id] = MarketState(row.market_state)  # type: ignore[attr-defined]  # joined column
        group = getattr(row, "event_group", None)  # the joined mapping's column (`objects()`)
        if group is not None:
            members.setdefault(group, []).append(mapping_id)
    return held, members, states
