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
from server.domain.types import BreakerLevel
from server.errors import InvalidArgument
from server.risk.breakers import AUTO_RESET, overall
from server.risk.notional import order_notional, utilisation
from server.store.db import is_sqlite
from server.store.fields import utcnow
from server.store.models import (
    CircuitBreaker,
    HedgeConfig,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
)
from server.store.orders import position_of

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
class ExposureView:
    totals: Totals
    markets: tuple[MarketView, ...]  # filtered as asked
    all_markets: tuple[MarketView, ...]
    breakers: tuple[BreakerView, ...]
    level: BreakerLevel
    as_of: datetime
    as_of_event_id: int


@dataclass(frozen=True)
class Headline:
    """Total exposure against its limit and the open hedge counts: the cheap part of `Totals`, for
    views polled often (the dashboard). Notional and P&L need a pass over every order and hedge."""

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
        if not is_sqlite(database):
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        settings = HedgeSettings.from_values(
            {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
        )
        counts = _open_hedges(database).values()
        return Headline(
            RiskTotals.get_by_id(1).unhedged_exposure,
            settings.max_unhedged_exposure,
            sum(pending for pending, _ in counts),
            sum(unknown for _, unknown in counts),
        )


def read_exposure(
    database: peewee.Database, markets: Collection[tuple[str, str]] | None = None
) -> ExposureView:
    """One consistent read of the risk book (call from a database thread). `markets` limits the
    per-market list (totals always cover every market); an unknown market is `InvalidArgument`.
    Without `markets`, every market with a position or an open hedge is listed."""
    with database.atomic():
        if not is_sqlite(database):
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return read_in_transaction(database, markets)


def read_in_transaction(
    database: peewee.Database, markets: Collection[tuple[str, str]] | None = None
) -> ExposureView:
    """`read_exposure` inside the caller's transaction (a breaker trip snapshots what it writes)."""
    sqlite = is_sqlite(database)
    as_of_event_id = int(database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM hedge_event").fetchone()[0])
    as_of = utcnow()
    settings = HedgeSettings.from_values(
        {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
    )
    mappings = {m.id: m for m in PolymarketMarketMapping.select()}
    positions = {int(row.__data__["mapping"]): position_of(row) for row in MarketExposure.select()}
    total = RiskTotals.get_by_id(1).unhedged_exposure
    open_counts = _open_hedges(database)
    notional = _notional(database, sqlite)
    pnl = _pnl(database, sqlite)
    breakers = tuple(
        BreakerView(b.name, BreakerLevel(b.state), b.reason, b.tripped_at, b.updated_by, b.updated_at)
        for b in CircuitBreaker.select().order_by(CircuitBreaker.name)
    )
    views = []
    for mapping_id, mapping in sorted(mappings.items()):
        hedged, unhedged = notional.get(mapping_id, (ZERO, ZERO))
        pending, unknown = open_counts.get(mapping_id, (0, 0))
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
                hedged,
                unhedged,
                pending,
                unknown,
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
    totals = Totals(
        unhedged_exposure=total,
        limit=settings.max_unhedged_exposure,
        hedged_notional=sum((v.hedged_notional for v in views), ZERO),
        unhedged_notional=sum((v.unhedged_notional for v in views), ZERO),
        pending_hedges=sum(v.pending_hedges for v in views),
        unknown_hedges=sum(v.unknown_hedges for v in views),
        spread_captured=pnl[0],
        fees=pnl[1],
        net_profit=pnl[2],
    )
    return ExposureView(
        totals,
        selected,
        tuple(views),
        breakers,
        overall(b.state for b in breakers),
        as_of,
        as_of_event_id,
    )


def _open_hedges(database: peewee.Database) -> dict[int, tuple[int, int]]:
    rows = database.execute_sql(
        "SELECT mapping_id, status, COUNT(*) FROM hedge_position "
        "WHERE status IN ('pending', 'unknown') GROUP BY mapping_id, status"
    ).fetchall()
    counts: dict[int, tuple[int, int]] = {}
    for mapping_id, status, count in rows:
        pending, unknown = counts.get(mapping_id, (0, 0))
        if status == "pending":
            pending += int(count)
        else:
            unknown += int(count)
        counts[mapping_id] = (pending, unknown)
    return counts


def _notional(database: peewee.Database, sqlite: bool) -> dict[int, tuple[Decimal, Decimal]]:
    if not sqlite:
        # NUMERIC arithmetic is exact; the fold below is the same rule as `order_notional`.
        rows = database.execute_sql(
            "SELECT mapping_id, SUM(LEAST(hedged_size, size) * price), SUM((size - LEAST(hedged_size, size)) * price) "
            "FROM user_order WHERE status = 'accepted' GROUP BY mapping_id"
        ).fetchall()
        return {int(m): (Decimal(h), Decimal(u)) for m, h, u in rows}
    # SQLite has no exact decimal arithmetic: fold in Python.
    result: dict[int, tuple[Decimal, Decimal]] = {}
    cursor = database.execute_sql(
        "SELECT mapping_id, size, price, hedged_size FROM user_order WHERE status = 'accepted'"
    )
    for mapping_id, size, price, hedged_size in cursor.fetchall():
        h, u = order_notional(Decimal(size), Decimal(price), Decimal(hedged_size))
        old_h, old_u = result.get(int(mapping_id), (ZERO, ZERO))
        result[int(mapping_id)] = (old_h + h, old_u + u)
    return result


def _pnl(database: peewee.Database, sqlite: bool) -> tuple[Decimal, Decimal, Decimal]:
    if not sqlite:
        row = database.execute_sql(
            "SELECT COALESCE(SUM(spread_captured), 0), COALESCE(SUM(fee), 0), COALESCE(SUM(net_profit), 0) "
            "FROM hedge_position"
        ).fetchone()
        return Decimal(row[0]), Decimal(row[1]), Decimal(row[2])
    spread = fees = net = ZERO
    for s, f, n in database.execute_sql(
        "SELECT spread_captured, fee, net_profit FROM hedge_position"
    ).fetchall():
        spread += Decimal(s)
        fees += Decimal(f)
        net += Decimal(n)
    return spread, fees, net
