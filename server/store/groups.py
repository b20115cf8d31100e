"""The markets of a neg-risk event group (mappings sharing an `event_group`, migration 0013), locked
together: the total counts a group's worst case over which outcome wins (`server.domain.exposure`),
so whoever moves a market's position and the total holds the rows of the market's whole group.

Lock order: a booking locks, in one statement and in mapping id order, its markets' rows together
with every market row of their groups, before anything else (`server.store.booking`); the other
writers of positions (hedge outcomes, re-hedges, failed trades, rebalancer hedges) lock the exposure
rows of their markets and of their groups the same way (`lock_markets`), then hedge rows, then the
totals row. Two writers take the rows they share in the same order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from server.domain.exposure import Position, counted, total_exposure
from server.domain.group_exposure import OutcomeLosses
from server.domain.market_state import MarketState
from server.store.models import MarketExposure, PolymarketMarketMapping
from server.store.positions import locked, no_row
from server.store.rows import position_of


@dataclass
class Held:
    """Markets' positions, their rows locked with every market row of their groups."""

    positions: dict[int, Position]
    members: dict[str, list[int]]  # each group's markets, in mapping id order
    group_of: dict[int, str]
    states: dict[int, MarketState]  # each market's state as committed when its row was locked

    def siblings(self, mapping_id: int) -> tuple[OutcomeLosses, ...] | None:
        """The losses of the other markets of the market's group as held now; None: no group."""
        group = self.group_of.get(mapping_id)
        if group is None:
            return None
        others = (self.positions[i] for i in self.members[group] if i != mapping_id)
        return tuple(OutcomeLosses(p.loss_if_yes, p.loss_if_no) for p in others)

    def move(self, mapping_id: int, after: Position) -> Decimal:
        """Holds the market at `after` and returns what that adds to the total exposure."""
        siblings = self.siblings(mapping_id)
        before, self.positions[mapping_id] = self.positions[mapping_id], after
        return counted(after, siblings) - counted(before, siblings)


def lock_with_groups(mapping_ids: list[int], event_groups: Sequence[str] = ()) -> Held:
    """`lock_markets`, and the markets of the groups `event_groups` too, with their mapping rows: a
    booking's lock (a settlement that resolved a market meanwhile is seen in `states`)."""
    return _lock(mapping_ids, event_groups, mappings_too=True)


def lock_market(mapping_id: int) -> Held:
    """`lock_markets` of one market, which must have an exposure row."""
    held = lock_markets([mapping_id])
    if mapping_id not in held.positions:
        raise no_row(mapping_id)
    return held


def lock_markets(mapping_ids: list[int]) -> Held:
    """The positions of the markets `mapping_ids` and of every market of their groups, their exposure
    rows locked in mapping id order until the caller's transaction ends (one statement, and one more
    to check the groups; none without markets)."""
    return _lock(mapping_ids, (), mappings_too=False)


def _lock(mapping_ids: list[int], event_groups: Sequence[str], *, mappings_too: bool) -> Held:
    held = Held({}, {}, {}, {})
    if not mapping_ids and not event_groups:
        return held
    grouped = PolymarketMarketMapping.select(PolymarketMarketMapping.event_group).where(
        PolymarketMarketMapping.id.in_(mapping_ids) & PolymarketMarketMapping.event_group.is_null(False)
    )
    wanted = MarketExposure.mapping.in_(mapping_ids) | PolymarketMarketMapping.event_group.in_(grouped)
    if event_groups:
        wanted = wanted | PolymarketMarketMapping.event_group.in_(list(event_groups))
    query = (
        MarketExposure.select(
            MarketExposure, PolymarketMarketMapping.event_group, PolymarketMarketMapping.market_state
        )
        .join(PolymarketMarketMapping)
        .where(wanted)
        .order_by(MarketExposure.mapping)
    )
    for row in (locked(query) if mappings_too else query.for_update(of=MarketExposure)).objects():
        mapping_id = int(row.__data__["mapping"])
        held.positions[mapping_id] = position_of(row)
        held.states[mapping_id] = MarketState(row.market_state)  # type: ignore[attr-defined]  # joined
        group = getattr(row, "event_group", None)  # the joined mapping's column (`objects()`)
        if group is not None:
            held.members.setdefault(group, []).append(mapping_id)
            held.group_of[mapping_id] = group
    # The statement chose the groups as of its start. A change of group committed while it waited for
    # a row (`mappings.update` locks the rows of the market it moves and of both groups) is seen now:
    # then lock again. None can commit after the lock: it would need a row held here.
    now = (
        PolymarketMarketMapping.select(PolymarketMarketMapping.id, PolymarketMarketMapping.event_group)
        .join(MarketExposure)
        .where(
            PolymarketMarketMapping.id.in_(list(held.positions))
            | PolymarketMarketMapping.event_group.in_(list(held.members))
        )
    )
    if {(m.id, m.event_group) for m in now} != {(i, held.group_of.get(i)) for i in held.positions}:
        return _lock(mapping_ids, event_groups, mappings_too=mappings_too)
    return held


def regrouped(mapping_id: int, old: str | None, new: str | None) -> Decimal:
    """What moving the market from group `old` to `new` (None: no group) adds to the total exposure,
    its rows and those of both groups locked in mapping id order until the caller's transaction ends
    (call it before the mapping's own update, then add the result to the total)."""
    held = lock_with_groups([mapping_id], sorted({g for g in (old, new) if g is not None}))
    positions, members = held.positions, held.members
    if mapping_id not in positions:
        return Decimal(0)  # no position yet: nothing counted either way
    before = {g: [i for i in members.get(g, []) if i != mapping_id] for g in (old, new) if g is not None}
    after = {g: list(ids) for g, ids in before.items()}
    if old is not None:
        before[old].append(mapping_id)
    if new is not None:
        after[new].append(mapping_id)

    def total(grouping: dict[str, list[int]], alone: bool) -> Decimal:
        standalone = [positions[mapping_id]] if alone else []
        return total_exposure(standalone, [[positions[i] for i in ids] for ids in grouping.values()])

    return total(after, new is None) - total(before, old is None)
