"""The running totals (market notional, P&L, hedges by status, ended hedges per second) against a
recount from the order and hedge rows written here, not with the code under test: after random runs
(BUY and SELL, paper and live, failing, held and re-hedged hedges), at any moment during them, after
a killed server, and as migration 0006 computes them for an existing history."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import MAX_PREC, Decimal, localcontext

import grpc
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.risk.market_totals import NAMES
from server.risk.monitor import read_inputs
from server.store import market_totals, outcome_seconds
from server.store.migrate import discover, render
from server.store.models import HedgePosition, PolymarketMarketMapping, UserOrder
from tests.harness import (
    ServerProcess,
    hedger_address,
    order_request,
    server_env,
    set_config,
    wait_until,
)

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
ZERO = Decimal(0)
STATUSES = ("pending", "unknown", "hedged", "partial", "failed", "paper")


def from_rows() -> dict[int, dict[str, object]]:
    """Per market, by field name: every total worked out from the rows, by hand (exactly: a hedge's
    P&L can carry 28 significant digits, more than the default context keeps in a sum)."""
    with localcontext(prec=MAX_PREC):
        return _from_rows()


def _from_rows() -> dict[int, dict[str, object]]:
    out: dict[int, dict[str, object]] = {
        m.id: {n: (0 if n.endswith("_hedges") else ZERO) for n in NAMES}
        for m in PolymarketMarketMapping.select()
    }
    for o in UserOrder.select().where(UserOrder.status == "accepted"):
        covered = o.hedged_size if o.hedged_size < o.size else o.size
        entry = out[o.mapping_id]
        entry["hedged_notional"] += covered * o.price  # type: ignore[operator]
        entry["unhedged_notional"] += (o.size - covered) * o.price  # type: ignore[operator]
    for h in HedgePosition.select():
        entry = out[h.mapping_id]
        entry[f"{h.status}_hedges"] += 1  # type: ignore[operator]
        entry["spread_captured"] += h.spread_captured  # type: ignore[operator]
        entry["fees"] += h.fee  # type: ignore[operator]
        entry["net_profit"] += h.net_profit  # type: ignore[operator]
    return out


def stored(database) -> dict[int, dict[str, object]]:
    return {m: dict(zip(NAMES, t.values(), strict=True)) for m, t in market_totals.read(database).items()}


def window_from_rows(start: datetime) -> tuple[int, int]:
    final = [
        h.status
        for h in HedgePosition.select()
        if h.created_at >= start and h.status in ("hedged", "partial", "failed", "paper")
    ]
    return final.count("failed"), len(final)


def assert_totals_match(database) -> None:
    assert stored(database) == from_rows()
    assert market_totals.check(database) == []
    assert outcome_seconds.check(database) == []
    hedges = sorted(h.created_at for h in HedgePosition.select())
    starts = [datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(seconds=5)]
    for created in hedges[:: max(1, len(hedges) // 6)]:
        # On a hedge's instant, just after it, and on and around whole seconds.
        starts += [created, created + timedelta(microseconds=1), created.replace(microsecond=0)]
        starts += [created.replace(microsecond=0) + timedelta(seconds=1, microseconds=-1)]
    for start in starts:
        assert outcome_seconds.window(database, start) == window_from_rows(start), start


@pytest.mark.parametrize("seed", [3, 4])
def test_totals_equal_the_rows_during_and_after_a_random_run(live, sim, pg_db, seed):
    rng = random.Random(seed)
    set_config(pg_db, failureRateMinHedges="100000", rehedgeEnabled=rng.choice(["true", "false"]))
    wait_until(lambda: live.runtime.state.current.settings.failure_rate_min_hedges == 100000)
    # A checker reads totals and rows in one snapshot while orders are booked: written in the same
    # transactions, they agree at every moment, not only once the run is over.
    stop, seen = threading.Event(), []

    def checker() -> None:
        with pg_db.connection_context():  # this thread's own connection
            while not stop.is_set():
                seen.append(market_totals.check(pg_db) + outcome_seconds.check(pg_db))

    watcher = threading.Thread(target=checker)
    watcher.start()
    try:
        for mode in rng.sample(["live", "paper", "live"], 3):
            set_config(pg_db, mode=mode, hedgeOrderType=rng.choice(["FOK", "FAK"]))
            wait_until(lambda m=mode: live.runtime.state.current.settings.mode == m)
            if mode == "live":
                # Refused hedges (FAILED), and answers held past the venue timeout (UNKNOWN, then
                # resolved by looking the order up).
                sim.exchange.inject_fault("/order", rng.randint(1, 3), "before", status=400, method="POST")
                sim.exchange.inject_fault("/order", rng.randint(1, 2), "after", delay=1.5, method="POST")
            plan = [
                (
                    rng.choice(MARKETS),
                    rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_BUY, types_pb2.SIDE_SELL]),
                    rng.randint(5, 60),
                )
                for _ in range(12)
            ]
            with ThreadPoolExecutor(4) as pool:
                list(
                    pool.map(
                        lambda p: live.stub.PlaceOrder(order_request(p[0], p[1], str(p[2])), timeout=20), plan
                    )
                )
        wait_until(
            lambda: (
                not HedgePosition.select().where(HedgePosition.status.in_(["pending", "unknown"])).exists()
            ),
            timeout=30,
            message="every hedge to settle",
        )
    finally:
        stop.set()
        watcher.join(30)
    assert seen and all(found == [] for found in seen), next(f for f in seen if f)
    statuses = {h.status for h in HedgePosition.select()}
    assert {"paper", "hedged"} <= statuses, statuses
    assert_totals_match(pg_db)
    # The monitor's failure-rate window is the row-level count over the configured window.
    now = datetime.now(UTC)
    inputs = read_inputs(pg_db, now)
    window = live.runtime.state.current.settings.failure_rate_window_seconds
    assert (inputs.failed, inputs.final) == window_from_rows(now - timedelta(seconds=window))
    assert inputs.final > 0

    # GetExposure shows the same figures.
    response = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    expected = from_rows()
    by_event = {m.id: m.event_id for m in PolymarketMarketMapping.select()}
    for m in response.markets:
        (mapping_id,) = [k for k, v in by_event.items() if v == m.market.event_id]
        e = expected[mapping_id]
        assert (Decimal(m.hedged_notional), Decimal(m.unhedged_notional)) == (
            e["hedged_notional"],
            e["unhedged_notional"],
        )
        assert (m.pending_hedges, m.unknown_hedges) == (e["pending_hedges"], e["unknown_hedges"])
    assert Decimal(response.totals.hedged_notional) == sum(
        (e["hedged_notional"] for e in expected.values()), ZERO
    )  # type: ignore[misc]


def test_migration_0006_computes_the_same_totals_for_an_existing_history(live, sim, pg_db):
    """An existing database gets, from its rows, what the writers would have added one by one."""
    set_config(pg_db, mode="paper")
    wait_until(lambda: live.runtime.state.current.settings.mode == "paper")
    for size, side in [("20", types_pb2.SIDE_BUY), ("7", types_pb2.SIDE_SELL), ("13", types_pb2.SIDE_BUY)]:
        live.stub.PlaceOrder(order_request(MARKETS[0], side, size), timeout=20)
    set_config(pg_db, mode="live")
    wait_until(lambda: live.runtime.state.current.settings.mode == "live")
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    for size in ("11", "17"):
        live.stub.PlaceOrder(order_request(MARKETS[1], types_pb2.SIDE_BUY, size), timeout=20)
    before = stored(pg_db)
    seconds = outcome_seconds.read(pg_db)
    (migration,) = [m for m in discover() if m.version == 6]
    backfill = [s for s in render(migration.sql) if s.startswith(("UPDATE", "INSERT"))]
    with pg_db.atomic():
        pg_db.execute_sql("UPDATE market_exposure SET " + ", ".join(f"{n} = 0" for n in NAMES))
        pg_db.execute_sql("DELETE FROM hedge_outcome_second")
        for statement in backfill:
            pg_db.execute_sql(statement)
    assert stored(pg_db) == before == from_rows()
    assert outcome_seconds.read(pg_db) == seconds
    assert_totals_match(pg_db)


def test_repair_rewrites_totals_that_drifted(pg_db, mappings):
    mapping_id = next(iter(mappings.values())).id
    pg_db.execute_sql(
        "UPDATE market_exposure SET fees = 1.5, paper_hedges = 2 WHERE mapping_id = %s", (mapping_id,)
    )
    pg_db.execute_sql("INSERT INTO hedge_outcome_second VALUES ('2026-01-01T00:00:00Z', 3, 1)")
    found = market_totals.check(pg_db)
    assert found == [
        f"market {mapping_id} fees: stored 1.5, from the rows 0",
        f"market {mapping_id} paper_hedges: stored 2, from the rows 0",
    ]
    assert len(outcome_seconds.check(pg_db)) == 1
    assert market_totals.repair(pg_db) == found
    assert outcome_seconds.repair(pg_db)
    assert market_totals.check(pg_db) == [] and outcome_seconds.check(pg_db) == []
    assert stored(pg_db) == from_rows()


def test_totals_equal_the_rows_after_a_killed_server(pg_db, pg_url, sim, mappings):
    set_config(pg_db, mode="live", rehedgeEnabled="false", failureRateMinHedges="100000")
    env = {**server_env(pg_url, sim.url), "HEDGING_VENUE_TIMEOUT_SECONDS": "10"}
    first = ServerProcess(env)
    # Two orders go through; the third's hedge is taken by the venue, whose answer is held while
    # the server is killed.
    for size in ("10", "15"):
        first.stub.PlaceOrder(order_request(MARKETS[0], types_pb2.SIDE_BUY, size), timeout=20)
    sim.exchange.inject_fault("/order", 1, "after", delay=30.0, method="POST")
    errors: list[grpc.RpcError] = []

    def call() -> None:
        try:
            first.stub.PlaceOrder(order_request(MARKETS[1], types_pb2.SIDE_BUY, "25"), timeout=30)
        except grpc.RpcError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    try:
        wait_until(lambda: len(sim.exchange.orders(hedger_address())) == 3, timeout=15, message="the venue")
        first.kill()
    finally:
        caller.join(30)
    assert errors
    assert HedgePosition.select().where(HedgePosition.status == "pending").count() == 1
    assert_totals_match(pg_db)
    assert sum(t.pending_hedges for t in market_totals.read(pg_db).values()) == 1

    second = ServerProcess(server_env(pg_url, sim.url))
    try:
        wait_until(
            lambda: (
                not HedgePosition.select().where(HedgePosition.status.in_(["pending", "unknown"])).exists()
            ),
            timeout=20,
            message="the restarted server to resolve the hedge",
        )
    finally:
        second.stop()
    assert_totals_match(pg_db)
    assert sum(t.hedged_hedges for t in market_totals.read(pg_db).values()) == 3
