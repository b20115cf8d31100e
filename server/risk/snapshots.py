"""Risk snapshots: the risk book written down every `snapshotIntervalSeconds` and whenever a breaker
trips, kept for looking back. Totals, P&L, open hedges, breaker state and a per-market breakdown
(JSON of decimal strings)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import peewee

from server.errors import InvalidArgument
from server.risk.exposure import ExposureView, read_in_transaction
from server.store.db import write_transaction
from server.store.fields import utcnow
from server.store.models import RiskSnapshot

_SNAPSHOT_LOCK = 0x5249_534B  # "RISK"
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Snapshot:
    id: int
    taken_at: datetime
    reason: str
    unhedged_exposure: Decimal
    exposure_limit: Decimal
    spread_captured: Decimal
    fees: Decimal
    net_profit: Decimal
    pending_hedges: int
    unknown_hedges: int
    breaker_state: str
    per_market: list[dict[str, str]]


def per_market(view: ExposureView) -> list[dict[str, str]]:
    rows = []
    for m in view.all_markets:
        if not m.has_position:
            continue
        p = m.position
        rows.append(
            {
                "event_id": m.event_id,
                "outcome": m.outcome,
                "condition_id": m.condition_id,
                "user_shares": format(p.user_shares, "f"),
                "hedge_yes": format(p.hedge_yes, "f"),
                "hedge_no": format(p.hedge_no, "f"),
                "net_cash": format(p.net_cash, "f"),
                "worst_case_loss": format(p.worst_case_loss, "f"),
                "limit": format(m.limit, "f"),
                "hedged_notional": format(m.hedged_notional, "f"),
                "unhedged_notional": format(m.unhedged_notional, "f"),
                "pending_hedges": str(m.pending_hedges),
                "unknown_hedges": str(m.unknown_hedges),
                "hedge_policy": m.hedge_policy,
            }
        )
    return rows


def write(database: peewee.Database, reason: str) -> RiskSnapshot:
    """Writes a snapshot of the book as this transaction sees it (call inside a transaction)."""
    view = read_in_transaction(database)
    t = view.totals
    return RiskSnapshot.create(
        taken_at=view.as_of,
        reason=reason[:500],
        unhedged_exposure=t.unhedged_exposure,
        exposure_limit=t.limit,
        spread_captured=t.spread_captured,
        fees=t.fees,
        net_profit=t.net_profit,
        pending_hedges=t.pending_hedges,
        unknown_hedges=t.unknown_hedges,
        breaker_state=view.level.value,
        per_market=json.dumps(per_market(view), sort_keys=True),
    )


def take_if_due(database: peewee.Database, interval_seconds: int) -> RiskSnapshot | None:
    """Writes a periodic snapshot unless one was written in the last `interval_seconds`, by any
    process: servers sharing a database take turns instead of each writing its own."""
    with write_transaction(database):
        got = database.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (_SNAPSHOT_LOCK,)).fetchone()[0]
        if not got:
            return None
        last = (
            RiskSnapshot.select(RiskSnapshot.taken_at)
            .where(RiskSnapshot.reason == "periodic")
            .order_by(RiskSnapshot.taken_at.desc())
            .limit(1)
            .scalar()
        )
        if last is not None and utcnow() - last < timedelta(seconds=interval_seconds) * 0.95:
            return None
        return write(database, "periodic")


def between(
    database: peewee.Database, start: datetime, end: datetime, *, limit: int = 1000
) -> list[Snapshot]:
    """Snapshots taken in [start, end), oldest first, at most `limit` (call from a database thread)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidArgument("start", "instants must be timezone-aware")
    if end < start:
        raise InvalidArgument("end", "must not be before start")
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidArgument("limit", f"must be from 1 to {MAX_ROWS}")
    query = (
        RiskSnapshot.select()
        .where((RiskSnapshot.taken_at >= start) & (RiskSnapshot.taken_at < end))
        .order_by(RiskSnapshot.taken_at, RiskSnapshot.id)
        .limit(limit)
    )
    return [
        Snapshot(
            r.id,
            r.taken_at,
            r.reason,
            r.unhedged_exposure,
            r.exposure_limit,
            r.spread_captured,
            r.fees,
            r.net_profit,
            r.pending_hedges,
            r.unknown_hedges,
            r.breaker_state,
            json.loads(r.per_market),
        )
        for r in query
    ]
