"""The background risk monitor of one process: probes the venue, evaluates every breaker rule against
the store, trips and (for the venue) resets breakers, and refreshes the risk gauges.

Any number of processes may run it against one database: trips and resets are conditional updates
(see `breaker_store`), so a breaker changes state, and its event is written, once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import peewee

from server.domain.config_schema import HedgeSettings
from server.domain.types import BreakerLevel
from server.metrics import Metrics
from server.periodic import Periodic
from server.risk import breaker_store, breakers
from server.risk.breakers import BreakerName, Trip, VenueHealth
from server.risk.market_totals import total
from server.store import market_totals, outcome_seconds
from server.store.fields import utcnow
from server.store.models import CircuitBreaker, HedgeConfig, HedgePosition, RiskTotals
from server.venue.client import PostOutcome, VenueClient

log = logging.getLogger(__name__)
RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]
AUTHOR = "risk-monitor"
_OPEN = ("pending", "unknown")
_FINAL = ("hedged", "partial", "failed", "paper")


@dataclass(frozen=True)
class Inputs:
    settings: HedgeSettings
    rows: dict[str, CircuitBreaker]
    failed: int
    final: int
    oldest_unknown: datetime | None
    unknown: int
    total: Decimal
    hedges_by_status: dict[str, int]
    market_losses: dict[str, Decimal]


def read_inputs(database: peewee.Database, now: datetime) -> Inputs:
    """What the rules need, read from the store (call from a database thread). Its cost does not
    grow with the history: the failure-rate window is counted per second (`outcome_seconds`), hedges
    by status from the markets' totals (`market_totals`), the oldest unknown hedge through the status
    index."""
    settings = HedgeSettings.from_values(
        {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
    )
    rows = {b.name: b for b in CircuitBreaker.select()}
    failure_row = rows.get(BreakerName.FAILURE_RATE.value)
    start = breakers.window_start(
        now,
        settings.failure_rate_window_seconds,
        failure_row.updated_at if failure_row is not None and failure_row.state == "active" else None,
    )
    failed, final = outcome_seconds.window(database, start)
    first = database.execute_sql(
        "SELECT created_at FROM hedge_position WHERE status = 'unknown' ORDER BY created_at LIMIT 1"
    ).fetchone()
    oldest = HedgePosition.created_at.python_value(first[0]) if first is not None else None
    by_status = total(list(market_totals.read(database).values())).by_status
    losses = {
        f"{event_id}/{outcome}": Decimal(loss)
        for event_id, outcome, loss in database.execute_sql(
            "SELECT m.event_id, m.outcome, e.worst_case_loss FROM market_exposure e "
            "JOIN polymarket_market_mapping m ON m.id = e.mapping_id"
        ).fetchall()
    }
    return Inputs(
        settings,
        rows,
        failed,
        final,
        oldest,
        by_status["unknown"],
        RiskTotals.get_by_id(1).unhedged_exposure,
        {str(k): int(v) for k, v in by_status.items()},
        losses,
    )


class RiskMonitor:
    def __init__(
        self,
        database: peewee.Database,
        run_in_db: RunInDb,
        venue: VenueClient | None,
        metrics: Metrics,
        *,
        interval: float = 0.5,
    ) -> None:
        self._database = database
        self._run = run_in_db
        self._venue = venue
        self._metrics = metrics
        self.health = VenueHealth()
        self._periodic = Periodic(
            "risk-monitor", self.evaluate_once, interval, failure="risk evaluation failed; retrying",
            logger=log, run_first=True,
        )  # fmt: skip

    def on_outcome(self, outcome: PostOutcome) -> None:
        """The hedger's hook: every answer (or silence) of the venue to an order."""
        if outcome.status_code == 429:
            return  # throttled: says nothing either way about the venue taking orders
        self.health.saw_order(breakers.venue_problem(outcome.status_code, outcome.message), utcnow())

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def probe(self) -> None:
        if self._venue is None:
            return
        ok = await self._venue.ok()
        self.health.saw_probe(None if ok else "the venue does not answer /ok", utcnow())

    async def evaluate_once(self) -> list[str]:
        """One pass: probe, read, trip or reset. Returns what changed here, as "tripped:<name>" or
        "reset:<name>"."""
        await self.probe()
        now = utcnow()
        inputs: Inputs = await self._run(lambda: read_inputs(self._database, now))
        s = inputs.settings
        trips: list[Trip] = []
        for found in (
            breakers.failure_rate(
                inputs.failed, inputs.final, s.failure_rate_threshold, s.failure_rate_min_hedges
            ),
            breakers.unhedged_exposure(inputs.total, s.max_unhedged_exposure),
            breakers.unknown_hedges(
                inputs.oldest_unknown,
                inputs.unknown,
                now,
                s.unknown_hedge_max_age_seconds,
                _reset_at(inputs.rows, BreakerName.UNKNOWN_HEDGES),
            ),
            self.health.outage(now, s.venue_outage_seconds),
        ):
            if found is not None and _is_active(inputs.rows, found.name):
                trips.append(found)
        changed = []
        for t in trips:
            if await self._run(functools.partial(breaker_store.trip, self._database, t, author=AUTHOR)):
                log.warning("breaker %s tripped: %s", t.name.value, t.reason)
                changed.append(f"tripped:{t.name.value}")
        venue_row = inputs.rows.get(BreakerName.VENUE.value)
        if (
            venue_row is not None
            and venue_row.state != BreakerLevel.ACTIVE.value
            and self.health.recovered(now, s.venue_cooldown_seconds, venue_row.tripped_at)
        ):
            reason = f"the venue has answered for {s.venue_cooldown_seconds}s"
            if await self._run(
                lambda: breaker_store.reset(self._database, BreakerName.VENUE, reason=reason, author=AUTHOR)
            ):
                log.warning("venue breaker reset: %s", reason)
                changed.append(f"reset:{BreakerName.VENUE.value}")
            self.health.reset()
        self._gauges(inputs)
        return changed

    def _gauges(self, inputs: Inputs) -> None:
        m = self._metrics
        m.unhedged_exposure.set(float(inputs.total))
        m.exposure_limit.set(float(inputs.settings.max_unhedged_exposure))
        for market, loss in inputs.market_losses.items():
            m.market_exposure.labels(market).set(float(loss))
        for status in (*_OPEN, *_FINAL):
            m.hedges.labels(status).set(inputs.hedges_by_status.get(status, 0))
        m.open_hedges.labels("pending").set(inputs.hedges_by_status.get("pending", 0))
        m.open_hedges.labels("unknown").set(inputs.unknown)
        m.breakers(
            {
                n.value: BreakerLevel(inputs.rows[n.value].state)
                if n.value in inputs.rows
                else BreakerLevel.ACTIVE
                for n in BreakerName
            }
        )


def _is_active(rows: dict[str, CircuitBreaker], name: BreakerName) -> bool:
    row = rows.get(name.value)
    return row is None or row.state == BreakerLevel.ACTIVE.value


def _reset_at(rows: dict[str, CircuitBreaker], name: BreakerName) -> datetime | None:
    row = rows.get(name.value)
    if row is None or row.state != BreakerLevel.ACTIVE.value or row.updated_by == "system":
        return None
    return cast(datetime, row.updated_at)
