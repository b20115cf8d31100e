"""Orders that wait while a transaction books others are booked together, in one transaction: the
batch decides them in arrival order, each on the position the previous one left, so limits hold
exactly; a request id repeated inside a batch is a replay (or a conflict); a statement that fails
fails the whole batch, with nothing written and nothing sent to the venue.

Each test forms a batch on purpose: another connection holds every market's row, the first order's
transaction waits on it, the next orders queue in the process's writer (one by one, so their arrival
order is known), and when the rows are released they are booked as one batch."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import grpc
import psycopg2
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import (
    HedgeEvent,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
    UserOrder,
)
from server.store.orders import OrderStore
from tests.harness import order_request, set_config, wait_until
from tests.reference import Market
from tests.service.test_round_trips import assert_booking_round_trips, count_statements

MARKET = "fed-cut-december-2026"
OTHER = "gpt-release-q1-2027"


@contextmanager
def _batched(live: Any, pg_url: str) -> Iterator[Any]:
    """Yields `queue(request) -> Future`: the first request's transaction waits on the markets' rows,
    each later one is handed to the writer before the next is sent; on exit the rows are released
    and every answer (or error) is awaited."""
    holder, watcher = psycopg2.connect(pg_url), psycopg2.connect(pg_url)
    watcher.autocommit = True
    writer = live.runtime.desk.writer
    sent: list[Future[Any]] = []
    with holder.cursor() as cur:
        cur.execute("SELECT 1 FROM market_exposure FOR UPDATE")

    def blocked() -> bool:
        with watcher.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (holder.get_backend_pid(),),
            )
            return cur.fetchone() is not None

    with ThreadPoolExecutor(16) as pool:

        def queue(request: pb.PlaceOrderRequest) -> Future[Any]:
            sent.append(pool.submit(live.stub.PlaceOrder, request, timeout=30))
            if len(sent) == 1:
                wait_until(blocked, message="the first batch to wait on the markets' rows")
            else:
                wait_until(lambda: writer.waiting == len(sent) - 1, message="the order to queue")
            return sent[-1]

        try:
            yield queue
        finally:
            holder.rollback()
            holder.close()
            watcher.close()
            for future in sent:
                future.exception(timeout=30)


@pytest.fixture
def off(live: Any, pg_db: Any) -> Any:
    """The live service with hedging off: an accepted order adds its whole worst case."""
    set_config(pg_db, mode="off", maxBookAgeMs="60000")
    live.call(live.runtime.state.refresh())
    return live


def _price(live: Any, size: str) -> Decimal:
    request = pb.GetQuoteRequest(
        account_id="user-1", market=types_pb2.MarketRef(event_id=MARKET, outcome="YES"), side=types_pb2.SIDE_BUY,
        size=size,
    )  # fmt: skip
    return Decimal(live.stub.GetQuote(request, timeout=10).quote.price)


def test_a_batch_at_the_market_limit_decides_each_order_on_the_position_the_previous_left(off, pg_db, pg_url):
    price = _price(off, "40")
    assert price == _price(off, "5"), "the sizes below must all fill at the top of the book"
    # Room for 30 shares: worked out with the tests' reference book-keeping, not the service's.
    limit = Market()
    limit.user_order("BUY", Decimal(30), price)
    set_config(pg_db, maxMarketExposure=str(limit.exposure))
    off.call(off.runtime.state.refresh())
    sizes = [10, 40, 5, 20, 10, 5, 40, 5]  # after the blocked first one (5 shares)
    calls = _count_books(off, pg_db)

    with _batched(off, pg_url) as queue:
        first = queue(order_request(MARKET, types_pb2.SIDE_BUY, "5"))
        later = [queue(order_request(MARKET, types_pb2.SIDE_BUY, str(size))) for size in sizes]

    # By hand, one after another: 5 in, 10 in (15), 40 no, 5 in (20), 20 no, 10 in (30), then 5 no,
    # 40 no, 5 no.
    expected = [True, False, True, False, True, False, False, False]
    assert first.result().status == types_pb2.ORDER_STATUS_ACCEPTED
    answers = [f.result() for f in later]
    assert [a.status == types_pb2.ORDER_STATUS_ACCEPTED for a in answers] == expected, answers
    assert {a.reject_reason for a, ok in zip(answers, expected, strict=True) if not ok} == {
        types_pb2.REJECT_REASON_MARKET_EXPOSURE_LIMIT
    }
    assert [len(c) for c in calls] == [1, len(sizes)]  # the first alone, then one batch of the rest
    booked = Market()
    for size in [5, 10, 5, 10]:
        booked.user_order("BUY", Decimal(size), price)
    stored = MarketExposure.get(MarketExposure.mapping == PolymarketMarketMapping.get(event_id=MARKET).id)
    assert stored.worst_case_loss == booked.worst_case_loss
    assert RiskTotals.get().unhedged_exposure == booked.exposure == limit.exposure


def test_a_request_id_repeated_inside_a_batch_is_a_replay_or_a_conflict(off, pg_url):
    with _batched(off, pg_url) as queue:
        queue(order_request(OTHER, types_pb2.SIDE_BUY, "5"))
        once = queue(order_request(MARKET, types_pb2.SIDE_BUY, "10", request_id="twice"))
        again = queue(order_request(MARKET, types_pb2.SIDE_BUY, "10", request_id="twice"))
        changed = queue(order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="twice"))

    assert once.result().status == types_pb2.ORDER_STATUS_ACCEPTED
    assert again.result().order_id == once.result().order_id
    with pytest.raises(grpc.RpcError) as refused:
        changed.result()
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert UserOrder.select().where(UserOrder.request_id == "twice").count() == 1
    assert UserOrder.select().count() == 2


def test_a_batch_in_two_markets_takes_six_round_trips(off, pg_db, pg_url, monkeypatch):
    calls = count_statements(monkeypatch, pg_db, OrderStore, "book")
    with _batched(off, pg_url) as queue:
        queue(order_request(OTHER, types_pb2.SIDE_BUY, "5"))
        later = [queue(order_request(m, types_pb2.SIDE_BUY, "5")) for m in (MARKET, OTHER, MARKET, OTHER)]

    assert all(f.result().status == types_pb2.ORDER_STATUS_ACCEPTED for f in later)
    assert len(calls) == 2
    for sent in calls:
        assert_booking_round_trips(sent)


def test_a_failing_statement_fails_the_whole_batch_with_nothing_written_or_posted(live, pg_db, pg_url, sim):
    """Live mode: a trigger refuses one order's row, so the batch's one statement of writes fails."""
    pg_db.execute_sql(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.account_id = 'poison' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"
    )
    pg_db.execute_sql(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON user_order FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
    )
    try:
        posted = sum(sim.exchange.post_counts().values())
        with _batched(live, pg_url) as queue:
            alone = queue(order_request(OTHER, types_pb2.SIDE_BUY, "5"))
            fine = queue(order_request(MARKET, types_pb2.SIDE_BUY, "10", account_id="fine"))
            poison = queue(order_request(MARKET, types_pb2.SIDE_BUY, "10", account_id="poison"))
        for failed in (fine, poison):
            with pytest.raises(grpc.RpcError) as error:
                failed.result()
            assert error.value.code() == grpc.StatusCode.INTERNAL
    finally:
        pg_db.execute_sql("DROP TRIGGER refuse_poison ON user_order")
        pg_db.execute_sql("DROP FUNCTION refuse_poison()")
    assert alone.result().status == types_pb2.ORDER_STATUS_ACCEPTED
    assert [o.account_id for o in UserOrder.select()] == ["user-1"]
    assert HedgePosition.select().count() == 1
    assert HedgeEvent.select().where(HedgeEvent.order_id != alone.result().order_id).count() == 0
    booked = UserOrder.get().mapping_id
    assert all(m.user_shares == 0 for m in MarketExposure.select() if m.mapping_id != booked)
    wait_until(
        lambda: sum(sim.exchange.post_counts().values()) >= posted + 1, message="the first hedge's post"
    )
    # The failed batch's order never reached the venue.
    assert sum(sim.exchange.post_counts().values()) == posted + 1


def _count_books(live: Any, pg_db: Any) -> list[list[Any]]:
    """The bookings of each `OrderStore.book` call."""
    calls: list[list[Any]] = []
    store = live.runtime.store
    real = store.book

    def book(bookings: list[Any]) -> Any:
        calls.append(list(bookings))
        return real(bookings)

    store.book = book
    return calls
