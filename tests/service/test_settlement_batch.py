"""A follower pass's CONFIRMED trades are recorded in one transaction (`HedgeTrades.confirm_all`): five
round trips whatever their number, each trade once however many writers record it at once, and one
follower at work across processes (the settlement lock), so the others read nothing at the venue.

The simulator keeps trades MATCHED (`set_settlement(None)`): the service's own follower sees no change
while the test records CONFIRMED itself. The orders are 20 YES in fed-cut-december-2026 (best ask 0.63,
no fee): each hedge's fill is 20 shares for 12.60 USDC."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

from hedging.v1 import types_pb2
from server.domain.hedge import TradeFill
from server.store.advisory_locks import SETTLEMENT_CLASS, SETTLEMENT_KEY, AdvisoryLocks
from server.store.hedge_trades import Confirmed, HedgeTrades
from server.store.models import HedgePosition, HedgeTrade, MarketExposure
from server.trading.settlement import SettlementFollower
from tests.harness import order_request, set_config, wait_until
from tests.service.test_round_trips import count_statements

MARKET = "fed-cut-december-2026"
D = Decimal


def _settling_hedges(live: Any, sim: Any, pg_db: Any, orders: int) -> list[Confirmed]:
    """`orders` user orders of 20 YES, each hedged in full, their trades held MATCHED; what the venue
    will say of each trade once CONFIRMED (our side of it, from the simulator's own record)."""
    set_config(pg_db, rehedgeEnabled="false")
    live.call(live.runtime.state.refresh())
    sim.exchange.set_settlement(None)
    for _ in range(orders):
        placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    confirmed = []
    for row in HedgeTrade.select().order_by(HedgeTrade.trade_id):
        trade = sim.exchange.trade(row.trade_id)
        size, price = D(trade["size"]), D(trade["price"])
        confirmed.append(Confirmed(row.hedge_id, TradeFill(row.trade_id, size, size * price, D(0)), price))
    assert {c.hedge_id for c in confirmed} == {h.id for h in HedgePosition.select()}
    assert len({c.hedge_id for c in confirmed}) == orders
    return confirmed


def test_a_pass_of_confirmed_trades_is_one_transaction_of_five_round_trips(live, sim, pg_db, monkeypatch):
    confirmed = _settling_hedges(live, sim, pg_db, orders=3)
    calls = count_statements(monkeypatch, pg_db, HedgeTrades, "confirm_all")

    after = HedgeTrades(pg_db).confirm_all(confirmed)

    begin, hedges, trades, batch, commit = calls[0]  # five, whatever the number of trades
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert 'FROM "hedge_position"' in hedges and hedges.endswith("FOR UPDATE")
    assert 'FROM "hedge_trade"' in trades and trades.endswith("FOR UPDATE")
    assert batch.startswith("UPDATE hedge_trade")
    assert sorted(after) == sorted({c.hedge_id for c in confirmed})
    assert {h.settlement.value for h in after.values() if h.settlement} == {"settled"}
    assert {h.settlement for h in HedgePosition.select()} == {"settled"}
    assert {(t.status, t.shares) for t in HedgeTrade.select()} == {("confirmed", D(20))}
    # CONFIRMED changes no position: 3 x 20 YES held, as recorded at MATCHED.
    mapping_id = HedgePosition.get().mapping_id
    assert MarketExposure.get(MarketExposure.mapping == mapping_id).hedge_yes == D(60)


def test_confirmed_trades_recorded_again_change_nothing(live, sim, pg_db):
    confirmed = _settling_hedges(live, sim, pg_db, orders=2)
    store = HedgeTrades(pg_db)
    first_hedge = [c for c in confirmed if c.hedge_id == confirmed[0].hedge_id]

    assert sorted(store.confirm_all(first_hedge)) == [confirmed[0].hedge_id]
    stamped = {t.trade_id: t.updated_at for t in HedgeTrade.select()}
    # The whole pass again, the first hedge's trades included: only the other hedge moves.
    again = store.confirm_all(confirmed + first_hedge)

    assert sorted(again) == sorted({c.hedge_id for c in confirmed} - {confirmed[0].hedge_id})
    assert store.confirm_all(confirmed) == {}
    first_trades = {c.fill.trade_id for c in first_hedge}
    assert {t.trade_id: t.updated_at for t in HedgeTrade.select() if t.trade_id in first_trades} == {
        k: v for k, v in stamped.items() if k in first_trades
    }


def test_eight_writers_recording_the_same_pass_at_once_settle_each_hedge_once(live, sim, pg_db):
    confirmed = _settling_hedges(live, sim, pg_db, orders=3)
    start = threading.Barrier(8)
    settled_by: list[str] = []
    failures: list[BaseException] = []

    def writer() -> None:
        with pg_db.connection_context():
            start.wait(timeout=10)
            try:
                settled_by.extend(HedgeTrades(pg_db).confirm_all(list(reversed(confirmed))))
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    # Each hedge reported settled by exactly one writer: the others found its trades final.
    assert sorted(settled_by) == sorted({c.hedge_id for c in confirmed})
    assert {t.status for t in HedgeTrade.select()} == {"confirmed"}


class _NoVenue:
    """A venue that must not be asked anything."""

    async def get_trade(self, trade_id: str) -> Any:
        raise AssertionError(f"trade {trade_id} read by a follower without the settlement lock")


def test_a_follower_without_the_settlement_lock_reads_nothing_until_the_holder_lets_it_go(
    live, pg_url, pg_db
):
    wait_until(
        lambda: _lock_holders(pg_db) == 1, message="the service's follower to hold the settlement lock"
    )
    other = AdvisoryLocks(pg_url, SETTLEMENT_CLASS, "settlement")
    follower = SettlementFollower(HedgeTrades(pg_db), _NoVenue(), _in_thread, _no_mapping, lock=other)  # type: ignore[arg-type]
    try:
        assert asyncio.run(follower.follow_all()) == 0
        assert other.owned == set()

        live.call(live.runtime.follower.stop())  # its lock goes with its connection
        wait_until(lambda: _lock_holders(pg_db) == 0, message="the stopped follower's session to end")

        assert asyncio.run(follower.follow_all()) == 0  # nothing settling: nothing read
        assert other.owned == {SETTLEMENT_KEY}
        assert _lock_holders(pg_db) == 1
    finally:
        other.close()


def _lock_holders(pg_db: Any) -> int:
    """How many sessions hold the settlement lock."""
    query = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 2"
    )
    return int(pg_db.execute_sql(query, (SETTLEMENT_CLASS, SETTLEMENT_KEY)).fetchone()[0])


async def _in_thread(work: Any) -> Any:
    return await asyncio.to_thread(work)


async def _no_mapping(mapping_id: int) -> Any:
    raise AssertionError("no trade to price")
