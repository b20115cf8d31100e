"""Limits hold at every commit point, whatever in-flight hedges end up doing: BUYs and SELLs, hedges that
fail, hedges held at the venue, on two server processes. A trigger records every version of every
market's exposure row and of the total; each must be within its limit, and must be the worst case of
its own columns. Bounds of in-flight hedges are shown to cover every fill in tests/domain."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure, PolymarketMarketMapping, RiskTotals, UserOrder
from tests.harness import ServerProcess, order_request, server_env, set_config, wait_until
from tests.service.conftest import VENUE_DELAY

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
MARKET_LIMIT = Decimal("60")
TOTAL_LIMIT = Decimal("120")
ZERO = Decimal(0)

_AUDIT = """
CREATE TABLE exposure_audit (
    id BIGSERIAL PRIMARY KEY, mapping_id BIGINT, user_shares NUMERIC, hedge_yes NUMERIC, hedge_no NUMERIC,
    net_cash NUMERIC, in_flight_loss_if_yes NUMERIC, in_flight_loss_if_no NUMERIC, worst_case_loss NUMERIC
);
CREATE TABLE totals_audit (id BIGSERIAL PRIMARY KEY, unhedged_exposure NUMERIC);
CREATE FUNCTION audit_exposure() RETURNS trigger AS $$ BEGIN
    INSERT INTO exposure_audit (mapping_id, user_shares, hedge_yes, hedge_no, net_cash,
        in_flight_loss_if_yes, in_flight_loss_if_no, worst_case_loss)
    VALUES (NEW.mapping_id, NEW.user_shares, NEW.hedge_yes, NEW.hedge_no, NEW.net_cash,
        NEW.in_flight_loss_if_yes, NEW.in_flight_loss_if_no, NEW.worst_case_loss);
    RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE FUNCTION audit_totals() RETURNS trigger AS $$ BEGIN
    INSERT INTO totals_audit (unhedged_exposure) VALUES (NEW.unhedged_exposure); RETURN NEW; END $$
    LANGUAGE plpgsql;
CREATE TRIGGER exposure_audit AFTER UPDATE ON market_exposure FOR EACH ROW EXECUTE FUNCTION audit_exposure();
CREATE TRIGGER totals_audit AFTER UPDATE ON risk_totals FOR EACH ROW EXECUTE FUNCTION audit_totals();
"""
_DROP = """
DROP TRIGGER IF EXISTS exposure_audit ON market_exposure; DROP TRIGGER IF EXISTS totals_audit ON risk_totals;
DROP FUNCTION IF EXISTS audit_exposure(); DROP FUNCTION IF EXISTS audit_totals();
DROP TABLE IF EXISTS exposure_audit; DROP TABLE IF EXISTS totals_audit;
"""


@pytest.fixture
def audited(pg_db: Any, pg_url: str) -> Iterator[Any]:
    """Every committed version of the exposure rows, read through a connection of the test's own."""
    connection = psycopg2.connect(pg_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(_DROP + _AUDIT)
    try:
        yield connection
    finally:
        with connection.cursor() as cursor:
            cursor.execute(_DROP)
        connection.close()


@pytest.fixture
def two_servers(pg_db, pg_url, sim, mappings, audited):
    set_config(
        pg_db,
        mode="live",
        maxMarketExposure=str(MARKET_LIMIT),
        maxUnhedgedExposure=str(TOTAL_LIMIT),
        rehedgeBackoffSeconds="1",
        # The injected failures are about limits, not the failure-rate breaker.
        failureRateMinHedges="100000",
    )
    servers = [ServerProcess(server_env(pg_url, sim.url)) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def _check_every_commit_point(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_shares, hedge_yes, hedge_no, net_cash, in_flight_loss_if_yes, in_flight_loss_if_no, "
            "worst_case_loss FROM exposure_audit ORDER BY id"
        )
        versions = cursor.fetchall()
        cursor.execute("SELECT unhedged_exposure FROM totals_audit ORDER BY id")
        totals = [row[0] for row in cursor.fetchall()]
    for users, yes, no, cash, flight_yes, flight_no, stored in versions:
        # Worked out here: the platform pays users' YES shares if YES wins, its own hedges pay it, and
        # in-flight hedges count at the worst they can add.
        if_yes = users - yes - cash + flight_yes
        if_no = -no - cash + flight_no
        assert stored == max(if_yes, if_no)
        assert max(stored, ZERO) <= MARKET_LIMIT, versions
    assert all(total <= TOTAL_LIMIT for total in totals), totals
    return len(versions)


def _settled_positions() -> dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Each market's (user shares, YES held, NO held, net cash) from the order and hedge rows alone."""
    out = {m.id: [ZERO, ZERO, ZERO, ZERO] for m in PolymarketMarketMapping.select()}
    for order in UserOrder.select().where(UserOrder.status == "accepted"):
        sign = 1 if order.side == "BUY" else -1
        out[order.mapping_id][0] += sign * order.size
        out[order.mapping_id][3] += sign * order.size * order.price
    for hedge in HedgePosition.select():
        p = out[hedge.mapping_id]
        if hedge.side == "SELL":
            p[1] -= hedge.filled_size
            p[3] += hedge.fill_cost - hedge.fee
        else:
            p[1 if hedge.leg == "YES" else 2] += hedge.filled_size
            p[3] -= hedge.fill_cost + hedge.fee
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


@pytest.mark.parametrize("round_", range(2))
def test_limits_hold_at_every_commit_point_with_sells_failed_and_in_flight_hedges(
    two_servers, pg_db, pg_url, sim, audited, round_
):
    rng = random.Random(round_)
    # Hedges fail (refused before processing) or are held at the venue for a while, in runs.
    for _ in range(60):
        if rng.random() < 0.5:
            sim.exchange.inject_fault("/order", rng.randint(1, 4), "before", status=400, method="POST")
        else:
            sim.exchange.inject_fault("/order", rng.randint(1, 4), "after", delay=0.3, method="POST")
    stubs = [stub for server in two_servers for stub in server.stubs(4)]  # over every worker
    requests = [
        (
            stubs[i % len(stubs)],
            order_request(
                rng.choice(MARKETS),
                rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_BUY, types_pb2.SIDE_SELL]),
                str(rng.choice([5, 10, 20, 40, 80])),
            ),
        )
        for i in range(240)
    ]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda sr: sr[0].PlaceOrder(sr[1], timeout=60), requests))
    # Re-hedges went on meanwhile. To see the end state settle, stop them and the servers; a fresh
    # server resolves whatever they left in flight.
    set_config(pg_db, rehedgeEnabled="false")
    for server in two_servers:
        server.stop()
    two_servers.append(ServerProcess(server_env(pg_url, sim.url)))
    wait_until(
        lambda: not HedgePosition.select().where(HedgePosition.status.in_(["pending", "unknown"])).exists(),
        timeout=60,
        message="every hedge to settle",
    )

    accepted = [a for a in answers if a.status == types_pb2.ORDER_STATUS_ACCEPTED]
    assert any(a.order.side == types_pb2.SIDE_SELL for a in accepted)
    assert any(a.reject_reason == types_pb2.REJECT_REASON_MARKET_EXPOSURE_LIMIT for a in answers)
    assert HedgePosition.select().where(HedgePosition.status == "failed").exists()
    assert _check_every_commit_point(audited) > len(accepted)
    # Settled: nothing in flight, and what is stored is what the rows say.
    total = ZERO
    for mapping_id, (users, yes, no, cash) in _settled_positions().items():
        stored = MarketExposure.get(MarketExposure.mapping == mapping_id)
        assert (stored.user_shares, stored.hedge_yes, stored.hedge_no, stored.net_cash) == (
            users,
            yes,
            no,
            cash,
        )
        assert (stored.in_flight_delta, stored.in_flight_loss_if_yes, stored.in_flight_loss_if_no) == (
            0,
            0,
            0,
        )
        worst = max(users - yes - cash, -no - cash)
        assert stored.worst_case_loss == worst <= MARKET_LIMIT
        total += max(worst, ZERO)
    assert RiskTotals.get_by_id(1).unhedged_exposure == total <= TOTAL_LIMIT


def test_a_sell_of_shares_whose_hedge_failed_is_not_hedged_into_new_risk(patient, sim, pg_db, audited):
    """The issue's reproduction: limit 60, no re-hedges. A BUY of 150 whose hedge fails leaves 52.50 at
    risk; a SELL of 150 brings the market back to flat, so it needs no hedge (buying NO for it would
    open a new position); another BUY of 150 whose hedge fails. The market never goes over 60."""
    set_config(pg_db, maxMarketExposure="60", rehedgeEnabled="false")
    patient.call(patient.runtime.state.refresh())
    market = MARKETS[0]

    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    first = patient.stub.PlaceOrder(order_request(market, types_pb2.SIDE_BUY, "150"), timeout=15)
    assert first.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert first.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED

    # The SELL's hedge, if it had one, would be held at the venue while the next BUY is decided.
    sim.exchange.inject_fault("/order", 1, "after", delay=4, method="POST")
    result: list[Any] = []
    seller = threading.Thread(
        target=lambda: result.append(
            patient.stub.PlaceOrder(order_request(market, types_pb2.SIDE_SELL, "150"), timeout=15)
        )
    )
    seller.start()
    seller.join(15)
    sold = result[0]
    assert sold.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert sold.hedge_status == types_pb2.HEDGE_STATUS_NOT_ATTEMPTED
    assert "no hedge needed" in sold.message
    assert HedgePosition.select().where(HedgePosition.order == sold.order.order_id).count() == 0

    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    second = patient.stub.PlaceOrder(order_request(market, types_pb2.SIDE_BUY, "150"), timeout=15)
    assert second.status == types_pb2.ORDER_STATUS_ACCEPTED

    _check_every_commit_point(audited)
    exposure = patient.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert all(Decimal(m.worst_case_loss) <= 60 for m in exposure.markets)
    assert [(h.leg, h.side) for h in HedgePosition.select()] == [("YES", "BUY"), ("YES", "BUY")]


def test_get_exposure_shows_a_hedge_in_flight_at_its_worst_until_its_fill_is_recorded(patient, sim):
    """fed-cut's best ask is 0.63: a user BUY of 20 is quoted 0.63 x 1.02 = 0.6426 -> 0.65 and hedged
    with at most 20 x 0.63 = 12.60 USDC (a fee-free market). While the hedge is held at the venue it may
    still lose all 12.60 if NO wins, + the cent of fee rounding allowance; if YES wins the platform owes
    20 and took 13.00."""
    market = MARKETS[0]
    sim.exchange.inject_fault("/order", 1, "after", delay=VENUE_DELAY, method="POST")
    answers: list[Any] = []
    buyer = threading.Thread(
        target=lambda: answers.append(
            patient.stub.PlaceOrder(order_request(market, types_pb2.SIDE_BUY, "20"), timeout=15)
        )
    )
    buyer.start()

    def held() -> Any:
        markets = patient.stub.GetExposure(pb.GetExposureRequest(), timeout=10).markets
        return next((m for m in markets if m.market.event_id == market and m.pending_hedges == 1), None)

    during = wait_until(held, message="the hedge to be booked and in flight")
    assert (during.in_flight_loss_if_yes, during.in_flight_loss_if_no, during.in_flight_shares) == (
        "0.01",
        "12.61",
        "20",
    )
    assert Decimal(during.loss_if_yes) == Decimal("20") - Decimal("13.00") + Decimal("0.01")
    assert Decimal(during.loss_if_no) == Decimal("-13.00") + Decimal("12.61")
    buyer.join(15)
    assert answers[0].hedge_status == types_pb2.HEDGE_STATUS_HEDGED
    after = next(
        m
        for m in patient.stub.GetExposure(pb.GetExposureRequest(), timeout=10).markets
        if m.market.event_id == market
    )
    in_flight = (after.in_flight_loss_if_yes, after.in_flight_loss_if_no, after.in_flight_shares)
    assert [Decimal(v) for v in in_flight] == [0, 0, 0]
    # 20 YES held for 12.60: 13.00 - 12.60 = 0.40 kept whichever way it resolves.
    assert Decimal(after.loss_if_yes) == Decimal(after.loss_if_no) == Decimal("-0.40")
