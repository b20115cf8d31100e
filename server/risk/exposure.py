"""The risk book read as one consistent snapshot: positions, hedge inventory, notional, worst-case loss,
limit utilisation, open hedges, P&L and breakers, plus the newest event id the snapshot includes.

Everything is read in one read-only transaction; on PostgreSQL at REPEATABLE READ, so every statement
sees the same snapshot and `as_of_event_id` names exactly the events whose effects are included."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import peewee

from server.domain.config_schema import HedgeSettings
from server.domain.exposure import Position
from server.domain.group_exposure import GroupExposure, OutcomeLosses, group_exposure
from server.domain.hedge_policy import effective
from server.domain.market_state import MarketState
from server.domain.types import BreakerLevel
from server.errors import InvalidArgument
from server.risk.breakers import AUTO_RESET, overall
from server.risk.market_totals import MarketTotals, total
from server.risk.notional import utilisation
from server.store import market_totals
from server.store.fields import utcnow
from server.store.mappings import policy_overrides
from server.store.models import (
    CircuitBreaker,
    HedgeConfig,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
)
from server.store.rows import position_of

ZERO = Decimal(0)


@dataclass(frozen=True)
class MarketView:
    mapping_id: int
    event_id: str
    outcome: str
    condition_id: str
    active: bool
    position: Position
    limit: Decimal
    hedged_notional: Decimal
    unhedged_notional: Decimal
    pending_hedges: int
    unknown_hedges: int
    market_state: MarketState = MarketState.OPEN
    event_group: str | None = None
    hedge_policy: str = "per_order"  # the market's effective hedgePolicy (its own or the config's)

    @property
    def utilisation(self) -> Decimal | None:
        return utilisation(self.position.worst_case_loss, self.limit)

    @property
    def has_position(self) -> bool:
        p = self.position
        return bool(
            p.user_shares or p.hedge_yes or p.hedge_no or p.yes_reserved_for_sale or p.net_cash
        ) or bool(self.pending_hedges or self.unknown_hedges)


@dataclass(frozen=True)
class BreakerView:
    name: str
    state: BreakerLevel
    reason: str
    tripped_at: datetime | None
    updated_by: str
    updated_at: datetime

    @property
    def auto_reset(self) -> bool:
        return self.name in AUTO_RESET


@dataclass(frozen=True)
class Totals:
    unhedged_exposure: Decimal  # the reservation counter the order path checks
    limit: Decimal
    hedged_notional: Decimal
    unhedged_notional: Decimal
    pending_hedges: int
    unknown_hedges: int
    spread_captured: Decimal
    fees: Decimal
    net_profit: Decimal

    @property
    def utilisation(self) -> Decimal | None:
        return utilisation(self.unhedged_exposure, self.limit)


@dataclass(frozen=True)
class GroupView:
    """A neg-risk event group: its markets, in mapping id order, and its worst case over which one of
    them wins (or none), against maxGroupExposure."""

    event_group: str
    markets: tuple[MarketView, ...]
    exposure: GroupExposure
    limit: Decimal

    @property
    def worst_outcome(self) -> MarketView | None:
        """The market whose outcome winning costs the most (None: no outcome winning does)."""
        index = self.exposure.worst_outcome
        return None if index is None else self.markets[index]

    @property
    def sum_of_markets(self) -> Decimal:
        """What the markets' own worst cases add up to (floored at zero each), for comparison."""
        return sum((m.position.exposure for m in self.markets), ZERO)

    @property
    def utilisation(self) -> Decimal | None:
        return utilisation(self.exposure.worst_case_loss, self.limit)


def group_views(markets: Collection[MarketView], limit: Decimal) -> tuple[GroupView, ...]:
    """The groups `markets` belong to, by group key."""
    members: dict[str, list[MarketView]] = {}
    for m in sorted(markets, key=lambda m: m.mapping_id):
        if m.event_group is not None:
            members.setdefault(m.event_group, []).append(m)
    return tuple(
        GroupView(
            name,
            tuple(group),
            group_exposure([OutcomeLosses(m.position.loss_if_yes, m.position.loss_if_no) for m in group]),
            limit,
        )
        for name, group in sorted(members.items())
    )


@dataclass(frozen=True)
class ExposureView:
    totals: Totals
    markets: tuple[MarketView, ...]  # filtered as asked
    all_markets: tuple[MarketView, ...]
    breakers: tuple[BreakerView, ...]
    level: BreakerLevel
    as_of: datetime
    as_of_event_id: int
    groups: tuple[GroupView, ...] = ()  # every group


@dataclass(frozen=True)
class Headline:
    """Total exposure against its limit and the open hedge counts: the part of `Totals` the
    dashboard shows."""

    unhedged_exposure: Decimal
    limit: Decimal
    pending_hedges: int
    unknown_hedges: int

    @property
    def utilisation(self) -> Decimal | None:
        return utilisation(self.unhedged_exposure, self.limit)


def read_headline(database: peewee.Database) -> Headline:
    """`Headline` in one transaction (call from a database thread); the same figures `read_exposure`
    puts in its totals."""
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        settings = HedgeSettings.from_values(
            {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
        )
        all_markets = total(list(market_totals.read(database).values()))
        return Headline(
            RiskTotals.get_by_id(1).unhedged_exposure,
            settings.max_unhedged_exposure,
            all_markets.pending_hedges,
            all_markets.unknown_hedges,
        )


def read_exposure(
    database: peewee.Database, markets: Collection[tuple[str, str]] | None = None
) -> ExposureView:
    """One consistent read of the risk book (call from a database thread). `markets` limits the
    per-market list (totals always cover every market); an unknown market is `InvalidArgument`.
    Without `markets`, every market with a position or an open hedge is listed."""
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return read_in_transaction(database, markets)


def read_in_transaction(
    database: peewee.Database, markets: Collection[tuple[str, str]] | None = None
) -> ExposureView:
    """`read_exposure` inside the caller's transaction (a breaker trip snapshots what it writes)."""
    as_of_event_id = int(database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM hedge_event").fetchone()[0])
    as_of = utcnow()
    settings = HedgeSettings.from_values(
        {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
    )
    mappings = {m.id: m for m in PolymarketMarketMapping.select()}
    rows = list(MarketExposure.select())
    positions = {int(row.__data__["mapping"]): position_of(row) for row in rows}
    sums = {int(row.__data__["mapping"]): market_totals.of_row(row) for row in rows}
    exposure = RiskTotals.get_by_id(1).unhedged_exposure
    breakers = tuple(
        BreakerView(b.name, BreakerLevel(b.state), b.reason, b.tripped_at, b.updated_by, b.updated_at)
        for b in CircuitBreaker.select().order_by(CircuitBreaker.name)
    )
    views = []
    for mapping_id, mapping in sorted(mappings.items()):
        sum_ = sums.get(mapping_id, MarketTotals())
        limit = mapping.exposure_limit if mapping.exposure_limit is not None else settings.max_market_exposure
        views.append(
            MarketView(
                mapping_id,
                mapping.event_id,
                mapping.outcome,
                mapping.condition_id,
                mapping.active,
                positions.get(mapping_id, Position()),
                limit,
                sum_.hedged_notional,
                sum_.unhedged_notional,
                sum_.pending_hedges,
                sum_.unknown_hedges,
                MarketState(mapping.market_state),
                mapping.event_group,
                effective(settings, policy_overrides(mapping)).hedge_policy,
            )
        )
    if markets:
        known = {(v.event_id, v.outcome): v for v in views}
        missing = [m for m in markets if m not in known]
        if missing:
            raise InvalidArgument(
                "markets", f"unknown market {missing[0][0][:64]!r} outcome {missing[0][1][:64]!r}"
            )
        selected = tuple(v for v in views if (v.event_id, v.outcome) in markets)
    else:
        selected = tuple(v for v in views if v.has_position)
    everything = total(list(sums.values()))
    totals = Totals(
        unhedged_exposure=exposure,
        limit=settings.max_unhedged_exposure,
        hedged_notional=everything.hedged_notional,
        unhedged_notional=everything.unhedged_notional,
        pending_hedges=everything.pending_hedges,
        unknown_hedges=everything.unknown_hedges,
        spread_captured=everything.spread_captured,
        fees=everything.fees,
        net_profit=everything.net_profit,
    )
    return ExposureView(
        totals,
        selected,
        tuple(views),
        breakers,
        overall(b.state for b in breakers),
        as_of,
        as_of_event_id,
        group_views(views, settings.max_group_exposure),
    )
