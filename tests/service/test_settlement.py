"""The service follows a hedge's trades after MATCHED: MINED and RETRYING keep it settling, CONFIRMED
makes its fill final, FAILED takes the trade out of the recorded fill, the order, the market's position
and totals and the total exposure, once, however many writers apply it.

The simulator keeps trades MATCHED until the test moves them (`set_settlement(None)`). The market is
fed-cut-december-2026 (tick 0.01, no fee): the best ask is 0.63, so a user buying 20 YES pays 0.63 x 1.02
up to the tick, 0.65 (13.00 USDC), and the hedge buys 20 YES with a 20 x 0.63 = 12.60 USDC budget."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.domain.hedge import TradeFill
from server.store import market_totals
from server.store.hedge_trades import HedgeTrades
from server.store.models import HedgeEvent, HedgePosition, HedgeTrade, MarketExposure, RiskTotals, UserOrder
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"
D = Decimal


def _hedge() -> HedgePosition:
    return HedgePosition.get(HedgePosition.parent_hedge.is_null())


def _trade_statuses() -> dict[str, str]:
    return {t.trade_id: t.status for t in HedgeTrade.select()}


def _settlement_shown(live: Any, order_id: str) -> int:
    found = live.stub.GetOrder(pb.GetOrderRequest(order_id=order_id), timeout=5)
    return int(found.hedges[0].settlement)


def _placed_and_matched(live: Any, sim: Any, pg_db: Any, *, rehedge: bool = False) -> tuple[Any, list[str]]:
    """A user order of 20 YES hedged in full, its trades held MATCHED at the venue. Unless `rehedge`,
    the re-hedger is off: what a FAILED trade leaves is then the correction alone."""
    set_config(pg_db, rehedgeEnabled="true" if rehedge else "false")
    live.call(live.runtime.state.refresh())
    sim.exchange.set_settlement(None)
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    hedge = _hedge()
    assert (hedge.status, hedge.settlement, hedge.filled_size, hedge.fill_cost) == (
        "hedged",
        "settling",
        D(20),
        D("12.60"),
    )
    venue_order = sim.exchange.order(hedge.venue_order_id)
    trades = sorted(_trade_statuses())
    assert trades and trades == sorted(venue_order["associate_trades"])
    assert set(_trade_statuses().values()) == {"matched"}
    return placed, trades


def test_mined_then_confirmed_trades_make_the_fill_final(live, sim, pg_db):
    placed, trades = _placed_and_matched(live, sim, pg_db)
    assert _settlement_shown(live, placed.order_id) == types_pb2.HEDGE_SETTLEMENT_SETTLING

    for trade in trades:
        sim.exchange.mine_trade(trade)
    wait_until(lambda: set(_trade_statuses().values()) == {"mined"}, message="the follower to see MINED")
    assert _hedge().settlement == "settling"

    for trade in trades:
        sim.exchange.confirm_trade(trade)
    wait_until(lambda: _hedge().settlement == "settled", message="the follower to see CONFIRMED")
    hedge = _hedge()
    assert (hedge.status, hedge.filled_size, hedge.fill_cost) == ("hedged", D(20), D("12.60"))
    assert set(_trade_statuses().values()) == {"confirmed"}
    assert _settlement_shown(live, placed.order_id) == types_pb2.HEDGE_SETTLEMENT_SETTLED
    assert MarketExposure.get(MarketExposure.mapping == hedge.mapping_id).hedge_yes == D(20)
    assert HedgeEvent.select().where(HedgeEvent.event_type == "hedge_trade_failed").count() == 0


def test_a_trade_failed_after_retrying_is_taken_out_of_the_fill_order_position_and_totals(live, sim, pg_db):
    placed, trades = _placed_and_matched(live, sim, pg_db)
    for trade in trades:
        sim.exchange.retry_trade(trade)
    wait_until(
        lambda: set(_trade_statuses().values()) == {"retrying"}, message="the follower to see RETRYING"
    )
    assert (_hedge().status, _hedge().settlement) == ("hedged", "settling")

    for trade in trades:
        sim.exchange.fail_trade(trade)
    wait_until(lambda: _hedge().settlement == "settled", message="the follower to apply FAILED")
    _assert_all_undone(live, sim, pg_db, placed.order_id, trades)


def test_a_failed_trade_is_applied_once_whatever_the_number_of_writers(live, sim, pg_db):
    """The service's follower and eight more writers (threads on their own connections, as other
    processes would be) apply the same FAILED trades at once."""
    placed, trades = _placed_and_matched(live, sim, pg_db)
    hedge = _hedge()
    fills = {}
    for trade_id in trades:
        trade = sim.exchange.trade(trade_id)
        size, price = D(trade["size"]), D(trade["price"])
        fills[trade_id] = (TradeFill(trade_id, size, size * price, D(0)), price)
    start = threading.Barrier(8)
    applied: list[object] = []

    def writer() -> None:
        with pg_db.connection_context():
            start.wait(timeout=10)
            for fill, price in fills.values():
                applied.append(HedgeTrades(pg_db).apply(hedge.id, fill, price, "failed"))

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for trade in trades:
        sim.exchange.fail_trade(trade)  # the service's follower races the threads for it
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(applied) == 8 * len(trades)
    wait_until(lambda: _hedge().settlement == "settled", message="every trade applied")
    _assert_all_undone(live, sim, pg_db, placed.order_id, trades)


def test_the_shares_a_failed_trade_undid_are_hedged_again(live, sim, pg_db):
    """With the re-hedger on, the residual a FAILED trade leaves is re-hedged like any other: the
    platform ends covered, with the failed hedge and one re-hedge on record."""
    _placed, trades = _placed_and_matched(live, sim, pg_db, rehedge=True)
    for trade in trades:
        sim.exchange.fail_trade(trade)
    again = wait_until(
        lambda: HedgePosition.get_or_none(HedgePosition.parent_hedge.is_null(False)),
        timeout=20,
        message="a re-hedge of the undone shares",
    )
    wait_until(
        lambda: HedgePosition.get_by_id(again.id).status == "hedged",
        timeout=20,
        message="the re-hedge filled",
    )
    parent = _hedge()
    assert (parent.status, parent.filled_size, again.parent_hedge_id, again.size) == (
        "failed",
        0,
        parent.id,
        20,
    )
    assert MarketExposure.get(MarketExposure.mapping == parent.mapping_id).hedge_yes == D(20)
    assert sim.exchange.balances(hedger_address())["tokens"][parent.token_id] == D(20)


def _assert_all_undone(live: Any, sim: Any, pg_db: Any, order_id: str, trades: list[str]) -> None:
    hedge = _hedge()
    assert (hedge.status, hedge.filled_size, hedge.fill_cost, hedge.fee) == ("failed", 0, 0, 0)
    assert set(_trade_statuses().values()) == {"failed"}
    order = UserOrder.get_by_id(order_id)
    assert (order.hedge_status, order.hedged_size) == ("unhedged", 0)
    shown = live.stub.GetOrder(pb.GetOrderRequest(order_id=order_id), timeout=5)
    assert shown.order.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    assert shown.hedges[0].settlement == types_pb2.HEDGE_SETTLEMENT_SETTLED
    # The users are owed 20 YES and paid 13.00; no hedge shares are held: if YES wins the platform
    # pays 20 - 13.00 = 7.00, if NO wins it keeps 13.00.
    position = MarketExposure.get(MarketExposure.mapping == hedge.mapping_id)
    assert (position.hedge_yes, position.net_cash, position.worst_case_loss) == (0, D("13.00"), D("7.00"))
    assert RiskTotals.get_by_id(1).unhedged_exposure == D("7.00")
    # Each FAILED trade once: one event each, and the market's totals agree with its rows.
    failed = HedgeEvent.select().where(HedgeEvent.event_type == "hedge_trade_failed")
    assert sorted(e.hedge_id for e in failed) == [hedge.id] * len(trades)
    assert market_totals.check(pg_db) == []
    # What the store records is what the venue holds.
    held = sim.exchange.balances(hedger_address())["tokens"].get(hedge.token_id, 0)
    assert D(held) == hedge.filled_size == 0
