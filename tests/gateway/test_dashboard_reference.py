"""The dashboard computed in SQL equals a small reference computed here from the synthetic rows
themselves: counts, sums, the success rate, and latency and slippage (count, nearest-rank
percentiles as PostgreSQL's percentile_disc picks them, maximum)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from gateway import dashboard
from server.store.db import bind
from tests.gateway import synthetic

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
WINDOWS = [(NOW - timedelta(hours=24), False), (NOW - timedelta(hours=24), True)]
WINDOWS += [(NOW - timedelta(days=d), paper) for d in (7, 30) for paper in (False, True)]


def _figures(database, count: int) -> tuple[list[dashboard.DashboardFigures], list]:
    bind(database)
    maps = synthetic.create_mappings(database)
    pairs = list(synthetic.rows(maps, count, NOW, timedelta(days=10)))
    synthetic.insert(database, iter(pairs))
    return [dashboard.compute(database, start, NOW, paper=paper) for start, paper in WINDOWS], pairs


def _nearest_rank(values: list[Decimal], fraction: float) -> Decimal | None:
    """The value at rank ceil(fraction x n) of the sorted values (percentile_disc), None if none."""
    if not values:
        return None
    return sorted(values)[max(math.ceil(fraction * len(values)), 1) - 1]


def _spread(values: list[Decimal]) -> tuple:
    return (
        len(values),
        *(_nearest_rank(values, f) for f in (0.5, 0.9, 0.95, 0.99)),
        max(values, default=None),
    )


def _reference(pairs: list, start: datetime, paper: bool) -> dict:
    """The headline figures of one window, summed straight from the rows written."""
    orders = [o for o, _ in pairs if start <= o["created_at"] < NOW]
    accepted = [o for o in orders if o["status"] == "accepted"]
    hedges = [h for _, h in pairs if h and start <= h["created_at"] < NOW and h["is_paper"] == paper]
    timed = [h for h in hedges if h["submitted_at"] and h["resolved_at"]]
    latencies = [
        Decimal((h["resolved_at"] - h["submitted_at"]) / timedelta(microseconds=1)) / 1000 for h in timed
    ]
    slippages = [
        (
            (h["fill_price"] - h["quoted_price"])
            * (1 if h["side"] == "BUY" else -1)
            / h["quoted_price"]
            * 10_000
        ).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        for h in hedges
        if h["fill_price"] is not None
    ]
    statuses = [h["status"] for h in hedges]
    resolved = [s for s in statuses if s in ("hedged", "partial", "failed", "paper")]
    succeeded = [s for s in resolved if s in ("hedged", "paper")]
    return {
        "orders": (len(orders), len(accepted), len(orders) - len(accepted)),
        "volume": sum((o["notional"] for o in accepted), Decimal(0)),
        "shares": sum((o["size"] for o in accepted), Decimal(0)),
        "hedges": len(hedges),
        "by_status": {s: statuses.count(s) for s in set(statuses)},
        "success_rate": (Decimal(len(succeeded)) / len(resolved)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        if resolved
        else None,
        "filled": sum((h["filled_size"] for h in hedges), Decimal(0)),
        "cost": sum((h["fill_cost"] for h in hedges), Decimal(0)),
        "fees": sum((h["fee"] for h in hedges), Decimal(0)),
        "net": sum((h["net_profit"] for h in hedges), Decimal(0)),
        "latency": _spread(latencies),
        "slippage": _spread(slippages),
    }


def _spread_of(d: dashboard.Distribution) -> tuple:
    return (d.count, d.p50, d.p90, d.p95, d.p99, d.max)


def _headline(f: dashboard.DashboardFigures) -> dict:
    return {
        "orders": (f.orders.orders, f.orders.accepted, f.orders.rejected),
        "volume": f.orders.volume,
        "shares": f.orders.shares,
        "hedges": f.hedges.hedges,
        "by_status": {s: n for s, n in f.hedges.by_status.items() if n},
        "success_rate": f.hedges.success_rate,
        "filled": f.hedges.filled_shares,
        "cost": f.hedges.hedge_volume,
        "fees": f.hedges.fees,
        "net": f.hedges.net_profit,
        "latency": _spread_of(f.hedges.latency_ms),
        "slippage": _spread_of(f.hedges.slippage_bps),
    }


def test_the_dashboard_equals_a_reference_summed_from_the_rows(pg_db):
    with pg_db.connection_context():
        on_postgres, pairs = _figures(pg_db, 3000)
    for (start, paper), figures in zip(WINDOWS, on_postgres, strict=True):
        assert _headline(figures) == _reference(pairs, start, paper), (start, paper)
    week = on_postgres[2]
    assert week.hedges.hedges > 1000 and week.hedges.latency_ms.count > 900
    assert week.hedges.slippage_bps.count > 900 and week.recent_failures
    assert on_postgres[3].hedges.by_status["paper"] > 0
    assert len(week.markets) == 6
