"""The markets of a neg-risk event group (mappings sharing an `event_group`, migration 0013), locked
together for a booking that checks the group's limit.

Lock order: a writer that decides on a group locks every market row of the group, in mapping id
order, in one statement, before anything else (its own market's row is among them; locking it again
with `positions.lock_with_total` is a no-op). Writers that lock one market row only (hedge outcomes,
re-hedges) cannot deadlock with it: they wait for nothing after that row but the totals row, which a
group writer takes last. Two group writers take the rows they share in the same order."""

from __future__ import annotations

from server.domain.group_exposure import OutcomeLosses
from server.store.models import MarketExposure, PolymarketMarketMapping
from server.store.positions import locked
from server.store.rows import position_of


def lock_group(mapping: PolymarketMarketMapping) -> tuple[OutcomeLosses, ...] | None:
    """The losses of the other markets of `mapping`'s group, every market row of the group locked until
    the caller's transaction ends; None (nothing locked) when the market is in no group."""
    if mapping.event_group is None:
        return None
    rows = locked(
        MarketExposure.select(MarketExposure)
        .join(PolymarketMarketMapping)
        .where(PolymarketMarketMapping.event_group == mapping.event_group)
        .order_by(MarketExposure.mapping)
    ).execute()
    siblings = []
    for row in rows:
        if int(row.__data__["mapping"]) != mapping.id:
            p = position_of(row)
            siblings.append(OutcomeLosses(p.loss_if_yes, p.loss_if_no))
    return tuple(siblings)
