"""The dashboard computed in SQL on PostgreSQL equals the one aggregated with Decimal on SQLite,
figure for figure, over the same synthetic rows; and both equal a small reference computed here from
the rows themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from gateway import dashboard
from server.store.db import bind, open_database
from server.store.migrate import migrate
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
        "latency": (len(latencies), max(latencies, default=None)),
        "slippage": (len(slippages), max(slippages, default=None)),
    }


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
        "latency": (f.hedges.latency_ms.count, f.hedges.latency_ms.max),
        "slippage": (f.hedges.slippage_bps.count, f.hedges.slippage_bps.max),
    }


def test_postgresql_and_sqlite_agree_figure_for_figure(pg_db, tmp_path):
    lite = open_database(f"sqlite:///{tmp_path}/parity.db")
    bind(lite)
    with lite.connection_context():
        migrate(lite)
        on_sqlite, _ = _figures(lite, 3000)
    lite.close()
    with pg_db.connection_context():
        on_postgres, pairs = _figures(pg_db, 3000)
    assert on_postgres == on_sqlite
    for (start, paper), figures in zip(WINDOWS, on_postgres, strict=True):
        assert _headline(figures) == _reference(pairs, start, paper), (start, paper)
    week = on_postgres[2]
    assert week.hedges.hedges > 1000 and week.hedges.latency_ms.count > 900
    assert week.hedges.slippage_bps.count > 900 and week.recent_failures
    assert on_postgres[3].hedges.by_status["paper"] > 0
    assert len(week.markets) == 6
