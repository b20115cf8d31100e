"""A resolved market is settled once: one payout per account equal to a recomputation from the orders,
written with the resolution (or by the catch-up pass), never twice however many sessions try; its
realised P&L matches the simulator's ledger."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import psycopg2

from hedging.v1 import types_pb2
from server.store import market_books, settlements
from server.store.models import HedgeEvent, MarketPayout, MarketSettlement, PolymarketMarketMapping
from tests.harness import hedger_address, order_request, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee
D = Decimal


def _mapping() -> PolymarketMarketMapping:
    return PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == MARKET)


def _place(service: Any, account: str, side: int, size: str) -> Any:
    answer = service.stub.PlaceOrder(order_request(MARKET, side, size, account_id=account), timeout=15)
    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED, answer.message
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, answer.message
    return answer


def _payouts() -> dict[str, tuple[Decimal, Decimal]]:
    return {p.account_id: (p.shares, p.payout) for p in MarketPayout.select()}


def _written() -> tuple[int, int, int]:
    events = HedgeEvent.select().where(HedgeEvent.event_type == "market_payout").count()
    return MarketSettlement.select().count(), MarketPayout.select().count(), events


def test_a_resolved_market_pays_each_account_once_and_its_books_match_the_ledger(live, sim, pg_db):
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    usdc_before = D(str(sim.exchange.balances(hedger_address())["usdc"]))
    buy, sell = types_pb2.SIDE_BUY, types_pb2.SIDE_SELL
    answers = [
        _place(live, "alice", buy, "30"),
        _place(live, "bob", buy, "20"),
        _place(live, "alice", sell, "10"),
    ]

    sim.exchange.resolve_market(market.condition_id, market.yes_token_id)
    live.call(live.runtime.market_states.follow_all())

    # alice 30 - 10 = 20 shares, bob 20: each YES share pays 1 USDC.
    assert _payouts() == {"alice": (D("20"), D("20")), "bob": (D("20"), D("20"))}
    assert _written() == (1, 2, 2)
    settled = MarketSettlement.get()
    assert (settled.winning_leg, settled.accounts, settled.payout) == ("yes", 2, D("40"))
    event = HedgeEvent.select().where(HedgeEvent.event_type == "market_payout").order_by(HedgeEvent.id).get()
    assert event.event_id == MARKET and "alice is owed 20 USDC" in event.message

    # Another pass, the catch-up and a direct call write nothing more.
    live.call(live.runtime.market_states.follow_all())
    assert live.runtime.market_states.settle_unsettled() == 0
    assert settlements.settle(pg_db, _mapping().id) is None
    assert _written() == (1, 2, 2)

    # The books against the simulator's ledger: what the hedges paid and the YES tokens they hold.
    ledger = sim.exchange.balances(hedger_address())
    spent = usdc_before - D(str(ledger["usdc"]))
    held = D(str(ledger["tokens"].get(market.yes_token_id, 0)))
    # Final once the settlement follower has seen every trade of the fills confirmed.
    (books,) = wait_until(
        lambda: [b for b in market_books.read_books(pg_db) if b.final], timeout=20, message="final books"
    )
    assert books.pnl.hedge_cost + books.pnl.fees == spent
    assert books.pnl.redemption == held
    user_cash = D(0)
    for a in answers:
        notional = D(a.order.size) * D(a.executed_price)
        user_cash += notional if a.order.side == buy else -notional
    assert books.pnl.realised == user_cash - D("40") - spent + held
    assert books.pnl.parts == books.pnl.realised


def test_an_unsettled_resolution_is_settled_once_by_concurrent_sessions(live, sim, pg_db):
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    _place(live, "carol", types_pb2.SIDE_BUY, "15")
    # A market resolved before settlement existed: resolved on the mapping, no settlement row.
    PolymarketMarketMapping.update(market_state="resolved", winning_token_id=market.no_token_id).where(
        PolymarketMarketMapping.id == _mapping().id
    ).execute()
    assert settlements.unsettled(pg_db) == [_mapping().id]

    results: list[Any] = []
    start = threading.Barrier(6)

    def settle() -> None:
        start.wait()
        try:
            results.append(settlements.settle(pg_db, _mapping().id))
        finally:
            pg_db.close()

    threads = [threading.Thread(target=settle) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6 and sum(1 for r in results if r is not None) == 1
    assert _payouts() == {"carol": (D("15"), D("0"))}  # NO won
    assert _written() == (1, 1, 1)
    assert settlements.unsettled(pg_db) == []
    refused = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "5"), timeout=15)
    assert refused.reject_reason == types_pb2.REJECT_REASON_MARKET_CLOSED


def test_an_order_waiting_on_the_markets_row_sees_the_resolution_committed_meanwhile(
    live, sim, pg_db, pg_url
):
    """The process's cached mapping still says open; the order waits for the market's row, held by
    a writer that records the resolution (as `market_states.record` does), then sees it resolved:
    MARKET_CLOSED, so no order lands in a settled market."""
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    mapping_id = _mapping().id
    other, watcher = psycopg2.connect(pg_url), psycopg2.connect(pg_url)
    watcher.autocommit = True
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 1 FROM market_exposure WHERE mapping_id = %s FOR UPDATE", (mapping_id,))
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(
                lambda: live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
            )

            def order_waits() -> bool:
                with watcher.cursor() as cur:
                    cur.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (other.get_backend_pid(),),
                    )
                    return cur.fetchone() is not None

            wait_until(order_waits, message="the order to wait for the market's row")
            with other.cursor() as cur:
                cur.execute(
                    "UPDATE polymarket_market_mapping SET market_state = 'resolved', winning_token_id = %s "
                    "WHERE id = %s",
                    (market.yes_token_id, mapping_id),
                )
            other.commit()
            placed = answer.result(timeout=15)
    finally:
        other.close()
        watcher.close()
    assert placed.reject_reason == types_pb2.REJECT_REASON_MARKET_CLOSED, placed.message
    assert not HedgeEvent.select().where(HedgeEvent.event_type == "hedge_submitted").exists()
