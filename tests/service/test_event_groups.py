"""A five-outcome neg-risk event: orders each market's own worst case would refuse are accepted because
the event's worst case (at most one outcome wins) is within the group's limit, which still binds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.sim.runner import RunningSimulator, start_simulator
from server.store import mappings as mapping_store
from server.store.models import MarketExposure, PolymarketMarketMapping, RiskTotals, UserOrder
from server.store.rows import position_of
from tests.harness import (
    ServiceThread,
    order_request,
    running_service,
    seed_mappings,
    service_settings,
    set_config,
    wait_until,
)

D = Decimal
OUTCOMES = ["alvarez", "brooks", "chen", "dubois", "eze"]
EVENT = "0x" + "e7" * 32


def _hex(i: int, tag: int) -> str:
    return "0x" + f"{tag:02x}{i:02x}" * 16


def _markets_file(path: Path) -> Path:
    """Five mutually exclusive outcomes of one neg-risk event, each YES offered at 0.20, no fee."""
    markets = [
        {
            "slug": f"city-mayor-2027-{name}",
            "question": f"Will {name.title()} win the 2027 city mayoral election?",
            "condition_id": _hex(i, 0xC0),
            "question_id": _hex(i, 0xA0),
            "neg_risk_market_id": EVENT,
            "yes_token_id": str(10**70 + 2 * i),
            "no_token_id": str(10**70 + 2 * i + 1),
            "tick_size": "0.01",
            "min_order_size": "5",
            "neg_risk": True,
            "fee_rate": "0",
            "fee_exponent": "1",
            "seed_book": {"bids": [["0.18", "5000"]], "asks": [["0.20", "5000"]]},
        }
        for i, name in enumerate(OUTCOMES)
    ]
    target = path / "markets.json"
    target.write_text(json.dumps({"markets": markets}))
    return target


@pytest.fixture
def event_sim(tmp_path: Path) -> Iterator[RunningSimulator]:
    with start_simulator(port=0, markets_path=_markets_file(tmp_path)) as running:
        yield running


@pytest.fixture
def unhedged(pg_db: Any, pg_url: str, event_sim: RunningSimulator) -> Iterator[ServiceThread]:
    """Hedging off, so the orders' risk stays with the platform; a market may lose 50, the event 100."""
    seed_mappings(pg_db, event_sim)
    set_config(pg_db, mode="off", maxMarketExposure="50", maxGroupExposure="100", maxUnhedgedExposure="1000")
    with running_service(service_settings(pg_url, event_sim.url)) as service:
        yield service


def _slug(name: str) -> str:
    return f"city-mayor-2027-{name}"


def _group(service: ServiceThread, pg_db: Any) -> None:
    for name in OUTCOMES:
        mapping = PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == _slug(name))
        mapping_store.update(pg_db, mapping.id, author="test", event_group="city-mayor-2027")
    service.call(service.runtime.state.refresh())


def _buy(service: ServiceThread, name: str, size: str) -> Any:
    return service.stub.PlaceOrder(order_request(_slug(name), types_pb2.SIDE_BUY, size), timeout=15)


def _losses() -> dict[str, tuple[Decimal, Decimal]]:
    out = {}
    for row in MarketExposure.select():
        mapping = PolymarketMarketMapping.get_by_id(row.__data__["mapping"])
        p = position_of(row)
        out[mapping.event_id] = (p.loss_if_yes, p.loss_if_no)
    return out


def test_orders_each_market_would_refuse_are_accepted_within_the_groups_limit(unhedged, pg_db):
    # Alone, a market refuses a user BUY of 100 YES: quoted 0.20 x 1.02 = 0.204 -> 0.21, it loses
    # 100 - 21 = 79 if YES wins, above maxMarketExposure 50.
    alone = _buy(unhedged, "alvarez", "100")
    assert alone.reject_reason == types_pb2.REJECT_REASON_MARKET_EXPOSURE_LIMIT, alone.message

    _group(unhedged, pg_db)
    answers = [_buy(unhedged, name, "100") for name in OUTCOMES]

    assert [a.status for a in answers] == [types_pb2.ORDER_STATUS_ACCEPTED] * 5, [a.message for a in answers]
    assert {a.executed_price for a in answers} == {"0.21"}
    # Each market: 79 if YES, -21 if NO (the 21 taken). One outcome wins: 79 - 4 x 21 = -5; none: -105.
    assert _losses() == {_slug(n): (D("79"), D("-21")) for n in OUTCOMES}
    # The total counts the group once, at its worst case floored at zero: 0, not 5 x 79 = 395.
    assert RiskTotals.get().unhedged_exposure == 0
    (group,) = unhedged.stub.GetExposure(pb.GetExposureRequest(), timeout=10).groups
    assert group.event_group == "city-mayor-2027"
    assert [m.event_id for m in group.markets] == [_slug(n) for n in OUTCOMES]
    assert (D(group.worst_case_loss), D(group.loss_if_none), D(group.sum_of_market_worst_cases)) == (
        D("-5"),
        D("-105"),
        D("395"),
    )
    # Every outcome's win costs -5: the first in the group is named.
    assert group.worst_outcome.event_id == _slug("alvarez") and D(group.limit) == 100

    # The group's limit binds: 300 more on Alvarez: 400 - 84 = 316 if YES, -84 if NO; Alvarez winning
    # costs 316 - 4 x 21 = 232, above 100.
    orders = UserOrder.select().count()
    refused = _buy(unhedged, "alvarez", "300")
    assert refused.reject_reason == types_pb2.REJECT_REASON_GROUP_EXPOSURE_LIMIT, refused.message
    assert "232.00" in refused.message and "maxGroupExposure 100" in refused.message
    assert UserOrder.select().count() == orders + 1
    assert _losses()[_slug("alvarez")] == (D("79"), D("-21"))
    # An order that fits: 120 more on Brooks costs at most 120 - 25.20 = 94.80 more if Brooks wins:
    # 79 + 94.80 - 4 x 21 = 89.80 <= 100.
    fits = _buy(unhedged, "brooks", "120")
    assert fits.status == types_pb2.ORDER_STATUS_ACCEPTED, fits.message
    assert RiskTotals.get().unhedged_exposure == D("89.80")
    exposure = unhedged.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert {m.market_state for m in exposure.markets} == {types_pb2.MARKET_STATE_OPEN}


def _recount() -> Decimal:
    """The total from the rows, by brute force: each market in no group at its worse outcome, each
    group at its worst over every way it can end (none or one outcome winning), floored at zero."""
    grouped: dict[str, list[tuple[Decimal, Decimal]]] = {}
    total = D(0)
    for row in MarketExposure.select():
        mapping = PolymarketMarketMapping.get_by_id(row.__data__["mapping"])
        p = position_of(row)
        if mapping.event_group is None:
            total += max(p.loss_if_yes, p.loss_if_no, D(0))
        else:
            grouped.setdefault(mapping.event_group, []).append((p.loss_if_yes, p.loss_if_no))
    for losses in grouped.values():
        ends = [
            sum((y if i == w else n) for i, (y, n) in enumerate(losses)) for w in [None, *range(len(losses))]
        ]
        total += max(max(ends), D(0))
    return total


def test_the_total_limit_counts_the_group_once(unhedged, pg_db):
    # The total limit is 100, the markets' and the group's far above it. Standalone, two buys of 40 YES
    # at 0.21 lose 40 - 8.40 = 31.60 each if YES: the total is their sum.
    set_config(pg_db, maxMarketExposure="1000", maxGroupExposure="1000", maxUnhedgedExposure="100")
    unhedged.call(unhedged.runtime.state.refresh())
    for name in ("alvarez", "brooks"):
        assert _buy(unhedged, name, "40").status == types_pb2.ORDER_STATUS_ACCEPTED
    assert RiskTotals.get().unhedged_exposure == D("63.20") == _recount()
    # Grouped, the two count once: Alvarez winning costs 31.60 - 8.40 = 23.20 (Brooks's 8.40 kept).
    _group(unhedged, pg_db)
    assert RiskTotals.get().unhedged_exposure == D("23.20") == _recount()
    # 100 more on Alvarez now: Alvarez winning would cost 140 - 29.40 - 8.40 = 102.20 > 100.
    over = _buy(unhedged, "alvarez", "100")
    assert over.reject_reason == types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT and "102.20" in over.message
    # Buys of 100 on each of the five, Chen first: a sum of the markets' worst cases would refuse
    # the first (31.60 x 2 + 79 = 142.20 > 100), but at most one outcome wins. After Chen, Chen winning
    # costs 79 - 2 x 8.40 = 62.20; after Dubois 41.20, after Eze 20.20; after Alvarez, Alvarez winning
    # costs 110.60 - 8.40 - 3 x 21 = 39.20; after Brooks 18.20.
    answers = [_buy(unhedged, name, "100") for name in ("chen", "dubois", "eze", "alvarez", "brooks")]
    assert [a.status for a in answers] == [types_pb2.ORDER_STATUS_ACCEPTED] * 5, [a.message for a in answers]
    # Alvarez or Brooks winning: 31.60 + 79 - (8.40 + 21) - 3 x 21 = 18.20; none: negative.
    assert RiskTotals.get().unhedged_exposure == D("18.20") == _recount()
    # The total limit binds on the group's worst case: 500 more on Chen would cost, if Chen wins,
    # 79 + 500 - 105 - (8.40 + 21) x 2 - 21 x 2 = 373.20 > 100 (the order is priced at 0.21).
    refused = _buy(unhedged, "chen", "500")
    assert refused.reject_reason == types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT, refused.message
    assert "373.20" in refused.message
    # Leaving the group, a market counts alone again: Eze at 79 if YES, and the four left: Alvarez
    # or Brooks winning 110.60 - 29.40 - 2 x 21 = 39.20.
    eze = PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == _slug("eze")).id
    mapping_store.update(pg_db, eze, author="test", clear_group=True)
    assert RiskTotals.get().unhedged_exposure == D("79") + D("39.20") == _recount()


def test_the_total_stays_a_recount_while_orders_race_a_market_moving_in_and_out_of_the_group(unhedged, pg_db):
    set_config(pg_db, maxMarketExposure="1000", maxGroupExposure="1000", maxUnhedgedExposure="5000")
    unhedged.call(unhedged.runtime.state.refresh())
    _group(unhedged, pg_db)
    eze = PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == _slug("eze")).id

    def operator() -> None:
        for i in range(6):
            if i % 2:
                mapping_store.update(pg_db, eze, author="test", event_group="city-mayor-2027")
            else:
                mapping_store.update(pg_db, eze, author="test", clear_group=True)
        pg_db.close()

    with ThreadPoolExecutor(9) as pool:
        moving = pool.submit(operator)
        answers = list(pool.map(lambda i: _buy(unhedged, OUTCOMES[i % 5], "20"), range(40)))
        moving.result(timeout=60)
    assert all(a.status == types_pb2.ORDER_STATUS_ACCEPTED for a in answers), [a.message for a in answers]
    assert PolymarketMarketMapping.get_by_id(eze).event_group == "city-mayor-2027"
    assert RiskTotals.get().unhedged_exposure == _recount()


def test_concurrent_orders_across_the_group_never_take_it_past_its_limit(unhedged, pg_db):
    _group(unhedged, pg_db)
    # 40 orders of 50 YES on two outcomes, at once: each adds 50 - 10.50 = 39.50 if its outcome wins and
    # -10.50 otherwise, so k orders on each leave 39.50k - 10.50k = 29k if either wins: the group's
    # limit (100) binds at k = 3, long before the total's (2 x 39.50k <= 1000). Whatever order they
    # commit in, the event's worst case stays within 100.
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: _buy(unhedged, OUTCOMES[i % 2], "50"), range(40)))

    rejected = [a.reject_reason for a in answers if a.status == types_pb2.ORDER_STATUS_REJECTED]
    assert set(rejected) == {types_pb2.REJECT_REASON_GROUP_EXPOSURE_LIMIT}
    losses = _losses()
    if_none = sum(no for _, no in losses.values())
    worst = max([if_none, *(if_none - no + yes for yes, no in losses.values())])
    assert worst <= 100
    # At most 3 fit on each (4 against 3: 39.50 x 4 - 10.50 x 3 = 126.50 > 100); every accepted one
    # is in the positions. (5 only if one outcome's orders all ran out while the other had < 2.)
    accepted = len(answers) - len(rejected)
    assert 5 <= accepted <= 6
    shares = sum(position_of(row).user_shares for row in MarketExposure.select())
    assert shares == 50 * accepted


def test_an_order_decides_on_the_group_as_committed_after_waiting_for_a_siblings_lock(
    unhedged, pg_db, pg_url
):
    """Another writer holds Brooks's row (as a booking on Brooks does while it decides) and commits a
    loss of 80 whichever way Brooks resolves. The Alvarez order waits for that row, then sees it:
    Alvarez winning would cost 79 + 80 = 159 > 100, so it is refused. Had it not waited, it would
    have seen Brooks flat and booked 79."""
    _group(unhedged, pg_db)
    brooks = PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == _slug("brooks")).id
    other = psycopg2.connect(pg_url)
    watcher = psycopg2.connect(pg_url)
    watcher.autocommit = True
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 1 FROM market_exposure WHERE mapping_id = %s FOR UPDATE", (brooks,))
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(_buy, unhedged, "alvarez", "100")

            def order_waits_on_brooks() -> bool:
                with watcher.cursor() as cur:
                    cur.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (other.get_backend_pid(),),
                    )
                    return cur.fetchone() is not None

            wait_until(order_waits_on_brooks, message="the order to wait for Brooks's row")
            with other.cursor() as cur:
                cur.execute(
                    "UPDATE market_exposure SET net_cash = -80, worst_case_loss = 80 WHERE mapping_id = %s",
                    (brooks,),
                )
            other.commit()
            placed = answer.result(timeout=15)
    finally:
        other.close()
        watcher.close()
    assert placed.reject_reason == types_pb2.REJECT_REASON_GROUP_EXPOSURE_LIMIT, placed.message
    assert "159.00" in placed.message
