"""The dashboard: hedge performance over a period, computed exactly.

Every aggregate is computed in SQL over NUMERIC columns, rounded so:

* hedge latency is resolved_at - submitted_at in milliseconds (microsecond precision, 3 places);
* slippage is the fill price against the hedge's quoted (reference) price in basis points, positive
  when adverse (a BUY paid more, a SELL received less), rounded to 6 places per hedge;
* averages are rounded half away from zero (latency to 3 places, slippage to 4);
* percentiles are nearest-rank (PostgreSQL's percentile_disc): the value at rank ceil(p x n).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import peewee

from server.domain.types import HedgeStatus
from server.store.models import HedgePosition, PolymarketMarketMapping

ZERO = Decimal(0)
BPS = Decimal(10_000)
LATENCY_PLACES = Decimal("0.001")
SLIPPAGE_PLACES = Decimal("0.000001")
SLIPPAGE_AVERAGE_PLACES = Decimal("0.0001")
RATE_PLACES = Decimal("0.0001")
PERCENTILES = (0.5, 0.9, 0.95, 0.99)
STATUSES = tuple(s.value for s in HedgeStatus)
SUCCESS = (HedgeStatus.HEDGED.value, HedgeStatus.PAPER.value)
RESOLVED = (
    HedgeStatus.HEDGED.value,
    HedgeStatus.PARTIAL.value,
    HedgeStatus.FAILED.value,
    HedgeStatus.PAPER.value,
)
FAILURES = (HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value)
RECENT_FAILURES = 10


@dataclass(frozen=True)
class Distribution:
    count: int
    average: Decimal | None
    p50: Decimal | None
    p90: Decimal | None
    p95: Decimal | None
    p99: Decimal | None
    max: Decimal | None


@dataclass(frozen=True)
class HedgeFigures:
    hedges: int
    by_status: dict[str, int]
    success_rate: Decimal | None
    filled_shares: Decimal
    hedge_volume: Decimal
    spread_captured: Decimal
    fees: Decimal
    net_profit: Decimal
    latency_ms: Distribution
    slippage_bps: Distribution


@dataclass(frozen=True)
class OrderFigures:
    orders: int
    accepted: int
    rejected: int
    volume: Decimal
    shares: Decimal


@dataclass(frozen=True)
class MarketFigures:
    event_id: str
    outcome: str
    orders: OrderFigures
    hedges: HedgeFigures


@dataclass(frozen=True)
class Failure:
    hedge_id: str
    order_id: str
    event_id: str
    outcome: str
    status: str
    size: Decimal
    filled_size: Decimal
    failure_reason: str
    created_at: datetime


@dataclass(frozen=True)
class DashboardFigures:
    start: datetime
    end: datetime
    paper: bool
    orders: OrderFigures
    hedges: HedgeFigures
    recent_failures: list[Failure]
    markets: list[MarketFigures] = field(default_factory=list)


# --- shared arithmetic --------------------------------------------------------------------------------


def success_rate(by_status: dict[str, int]) -> Decimal | None:
    resolved = sum(by_status.get(s, 0) for s in RESOLVED)
    if resolved == 0:
        return None
    succeeded = sum(by_status.get(s, 0) for s in SUCCESS)
    return (Decimal(succeeded) / Decimal(resolved)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _empty_orders() -> OrderFigures:
    return OrderFigures(0, 0, 0, ZERO, ZERO)


def _empty_hedges() -> HedgeFigures:
    empty = Distribution(0, None, None, None, None, None, None)
    return HedgeFigures(0, dict.fromkeys(STATUSES, 0), None, ZERO, ZERO, ZERO, ZERO, ZERO, empty, empty)


# --- entry point --------------------------------------------------------------------------------------


def compute(
    database: peewee.Database, start: datetime, end: datetime, *, paper: bool = False
) -> DashboardFigures:
    """The figures of hedges and orders created in [start, end); `paper` selects paper-mode hedges
    instead of live ones. Runs in one transaction (call from a database thread)."""
    with database.atomic():
        names = {
            m.id: (m.event_id, m.outcome)
            for m in PolymarketMarketMapping.select(
                PolymarketMarketMapping.id, PolymarketMarketMapping.event_id, PolymarketMarketMapping.outcome
            )
        }
        hedges, per_mapping = _hedges_sql(database, start, end, paper)
        orders, per_market_orders = _orders_sql(database, start, end)
        failures = _recent_failures(start, end, paper)
    per_market_hedges = {names[m]: figures for m, figures in per_mapping.items() if m in names}
    keys = sorted(set(per_market_hedges) | set(per_market_orders))
    markets = [
        MarketFigures(
            event_id=k[0],
            outcome=k[1],
            orders=per_market_orders.get(k, _empty_orders()),
            hedges=per_market_hedges.get(k, _empty_hedges()),
        )
        for k in keys
    ]
    return DashboardFigures(start, end, paper, orders, hedges, failures, markets)


# --- aggregates in SQL -------------------------------------------------------------------------------

_STATUS_COUNTS = ", ".join(f"count(*) FILTER (WHERE status = '{s}')" for s in STATUSES)
_PCT = "ARRAY[" + ", ".join(str(p) for p in PERCENTILES) + "]"

HEDGES_SQL = f"""
WITH h AS (
    SELECT mapping_id, status, filled_size, fill_cost, fee, spread_captured, net_profit,
           round(EXTRACT(EPOCH FROM (resolved_at - submitted_at)) * 1000, 3) AS latency,
           round(CASE WHEN side = 'BUY' THEN fill_price - quoted_price ELSE quoted_price - fill_price END
                 / quoted_price * 10000, 6) AS slippage
    FROM hedge_position
    WHERE created_at >= %s AND created_at < %s AND is_paper = %s
)
SELECT GROUPING(mapping_id) AS total, mapping_id, count(*), {_STATUS_COUNTS},
       COALESCE(sum(filled_size), 0), COALESCE(sum(fill_cost), 0), COALESCE(sum(spread_captured), 0),
       COALESCE(sum(fee), 0), COALESCE(sum(net_profit), 0),
       count(latency), round(avg(latency), 3),
       percentile_disc({_PCT}) WITHIN GROUP (ORDER BY latency), max(latency),
       count(slippage), round(avg(slippage), 4),
       percentile_disc({_PCT}) WITHIN GROUP (ORDER BY slippage), max(slippage)
FROM h
GROUP BY GROUPING SETS ((), (mapping_id))
"""

ORDERS_SQL = """
SELECT GROUPING(event_id, outcome) AS total, event_id, outcome, count(*),
       count(*) FILTER (WHERE status = 'accepted'), count(*) FILTER (WHERE status = 'rejected'),
       COALESCE(sum(notional) FILTER (WHERE status = 'accepted'), 0),
       COALESCE(sum(size) FILTER (WHERE status = 'accepted'), 0)
FROM user_order
WHERE created_at >= %s AND created_at < %s
GROUP BY GROUPING SETS ((), (event_id, outcome))
"""


def _sql_distribution(count: int, average: Any, percentiles: list[Any] | None, maximum: Any) -> Distribution:
    if not count:
        return Distribution(0, None, None, None, None, None, None)
    p50, p90, p95, p99 = (Decimal(v) for v in (percentiles or [None] * 4))
    return Distribution(int(count), Decimal(average), p50, p90, p95, p99, Decimal(maximum))


def _hedges_sql(
    database: peewee.Database, start: datetime, end: datetime, paper: bool
) -> tuple[HedgeFigures, dict[int, HedgeFigures]]:
    total = _empty_hedges()
    per_mapping: dict[int, HedgeFigures] = {}
    n = len(STATUSES)
    for row in database.execute_sql(HEDGES_SQL, (start, end, paper)).fetchall():
        grouping, mapping_id, count = row[0], row[1], row[2]
        by_status = dict(zip(STATUSES, (int(c) for c in row[3 : 3 + n]), strict=True))
        filled, cost, spread, fee, net = (Decimal(v) for v in row[3 + n : 8 + n])
        latency = _sql_distribution(*row[8 + n : 12 + n])
        slippage = _sql_distribution(*row[12 + n : 16 + n])
        figures = HedgeFigures(
            int(count), by_status, success_rate(by_status), filled, cost, spread, fee, net, latency, slippage
        )
        if grouping:
            total = figures
        else:
            per_mapping[int(mapping_id)] = figures
    return total, per_mapping


def _orders_sql(
    database: peewee.Database, start: datetime, end: datetime
) -> tuple[OrderFigures, dict[tuple[str, str], OrderFigures]]:
    total = _empty_orders()
    per_market: dict[tuple[str, str], OrderFigures] = {}
    for grouping, event_id, outcome, count, accepted, rejected, volume, shares in database.execute_sql(
        ORDERS_SQL, (start, end)
    ).fetchall():
        figures = OrderFigures(int(count), int(accepted), int(rejected), Decimal(volume), Decimal(shares))
        if grouping:
            total = figures
        else:
            per_market[(event_id, outcome)] = figures
    return total, per_market


def _recent_failures(start: datetime, end: datetime, paper: bool) -> list[Failure]:
    query = (
        HedgePosition.select(HedgePosition, PolymarketMarketMapping.event_id, PolymarketMarketMapping.outcome)
        .join(PolymarketMarketMapping)
        .where(
            HedgePosition.status.in_(FAILURES)
            & (HedgePosition.created_at >= start)
            & (HedgePosition.created_at < end)
            & (HedgePosition.is_paper == paper)
        )
        .order_by(HedgePosition.created_at.desc(), HedgePosition.id.desc())
        .limit(RECENT_FAILURES)
    )
    return [
        Failure(
            hedge_id=h.id,
            order_id=h.order_id,
            event_id=h.mapping.event_id,
            outcome=h.mapping.outcome,
            status=h.status,
            size=h.size,
            filled_size=h.filled_size,
            failure_reason=h.failure_reason or "",
            created_at=h.created_at,
        )
        for h in query
    ]
