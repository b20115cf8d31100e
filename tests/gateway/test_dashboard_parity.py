"""The dashboard computed in SQL on PostgreSQL equals the one aggregated with Decimal on SQLite,
figure for figure, over the same synthetic rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway import dashboard
from server.store.db import bind, open_database
from server.store.migrate import migrate
from tests.gateway import synthetic

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _figures(database, count: int) -> list[dashboard.DashboardFigures]:
    bind(database)
    maps = synthetic.create_mappings(database)
    synthetic.insert(database, synthetic.rows(maps, count, NOW, timedelta(days=10)))
    out = []
    for start in (NOW - timedelta(hours=24), NOW - timedelta(days=7), NOW - timedelta(days=30)):
        for paper in (False, True):
            out.append(dashboard.compute(database, start, NOW, paper=paper))
    return out


def test_postgresql_and_sqlite_agree_figure_for_figure(pg_db, tmp_path):
    lite = open_database(f"sqlite:///{tmp_path}/parity.db")
    bind(lite)
    with lite.connection_context():
        migrate(lite)
        on_sqlite = _figures(lite, 3000)
    lite.close()
    with pg_db.connection_context():
        on_postgres = _figures(pg_db, 3000)
    assert on_postgres == on_sqlite
    week = on_postgres[2]
    assert week.hedges.hedges > 1000 and week.hedges.latency_ms.count > 900
    assert week.hedges.slippage_bps.count > 900 and week.recent_failures
    assert on_postgres[3].hedges.by_status["paper"] > 0
    assert len(week.markets) == 6
