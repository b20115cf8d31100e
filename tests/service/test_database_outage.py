"""PostgreSQL restarted under load (`pg_ctl restart`, and stopped for a while) in fast and immediate
mode, on a throwaway server of the test's own: every gRPC call answers OK or UNAVAILABLE, never
INTERNAL; a retry of each UNAVAILABLE order under its request id books it exactly once; the gateway
answers a typed UNAVAILABLE while the database is down and serves the first query once it is back.
And a COMMIT whose connection is lost before it reaches the server, or after (committed, answer
lost): UNAVAILABLE, and the retry under the same key books the order and sends its hedge once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
import httpx
import psycopg2
import psycopg2.extensions
import pytest

from gateway.app import RunningGateway, start_gateway
from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.db import bind, database_proxy, open_database
from server.store.local_postgres import LocalPostgres, NoPostgres, throwaway
from server.store.migrate import migrate
from tests.harness import (
    ServiceThread,
    hedger_address,
    order_request,
    running_service,
    seed_mappings,
    service_settings,
    set_config,
    wait_until,
)
from tests.pgserver import database_url

MARKET = "fed-cut-december-2026"
SENDERS = 4
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
BREAKERS = "{ breakers { state } }"


@pytest.fixture(scope="module")
def own_pg() -> Iterator[LocalPostgres]:
    """A PostgreSQL of this module's own: the suite's shared one must never be restarted."""
    try:
        with throwaway() as server:
            yield server
    except NoPostgres as exc:
        pytest.skip(str(exc))


@pytest.fixture
def outage_url(own_pg: LocalPostgres, sim: Any) -> Iterator[str]:
    """A migrated database on `own_pg`, with the simulator's markets mapped and live mode on."""
    name = f"outage_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(own_pg.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = database_url(own_pg.url, name)
    previous = database_proxy.obj
    database = bind(open_database(url))
    try:
        migrate(database)
        seed_mappings(database, sim)
        set_config(database, mode="live")
        database.close()
        yield url
    finally:
        database.close()
        if previous is not None:
            bind(previous)  # the suite's database, for the tests after this one


@dataclass
class Load:
    """Orders sent by `SENDERS` threads, one at a time each, until `stop`; every answer's code kept."""

    stub: Any
    answers: list[tuple[Any, grpc.StatusCode]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _send(self) -> None:
        while not self._stop.is_set():
            request = order_request(MARKET, types_pb2.SIDE_BUY, "5")
            with self._lock:
                self.answers.append((request, place(self.stub, request)))

    def count(self, code: grpc.StatusCode, since: int = 0) -> int:
        with self._lock:
            return sum(1 for _, c in self.answers[since:] if c == code)

    def mark(self) -> int:
        with self._lock:
            return len(self.answers)


def place(stub: Any, request: Any) -> grpc.StatusCode:
    try:
        stub.PlaceOrder(request, timeout=20)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def code_of(call: Any) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def breakers(http: httpx.Client, url: str) -> dict[str, Any]:
    response = http.post(url, json={"query": BREAKERS})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def booked(url: str) -> dict[str, int]:
    """Rows of `user_order` per request id, read on a connection of the test's own."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT request_id, count(*) FROM user_order GROUP BY request_id")
            return {request_id: n for request_id, n in cur.fetchall()}
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_database_restart_answers_unavailable_and_a_retry_books_each_order_once(
    own_pg: LocalPostgres, outage_url: str, sim: Any, mode: str
) -> None:
    with running_service(service_settings(outage_url, sim.url, db_threads=4)) as service:
        # One database thread in the gateway: its connection is the one a restart leaves stale.
        gateway: RunningGateway = service.call(
            start_gateway(
                replace(service.settings, gateway_listen="127.0.0.1:0", dev_mode=True, db_threads=1)
            )
        )
        http = httpx.Client(timeout=30)
        try:
            _restart_under_load(own_pg, service, gateway.url, http, mode)
        finally:
            http.close()
            service.call(gateway.stop())


def _restart_under_load(
    pg: LocalPostgres, service: ServiceThread, gateway_url: str, http: httpx.Client, mode: str
) -> None:
    load = Load(service.stub)
    assert "errors" not in breakers(http, gateway_url)  # the gateway's thread holds a connection now

    # 1. `pg_ctl restart` while orders flow: the gateway's first query after it is served.
    load.start()
    try:
        wait_until(lambda: load.count(grpc.StatusCode.OK) >= 10, timeout=30, message="orders booked")
        pg.restart(mode)
        since = load.mark()
        wait_until(lambda: load.count(grpc.StatusCode.OK, since) >= 10, timeout=30, message="orders after it")
    finally:
        load.stop()
    assert {code for _, code in load.answers} <= ALLOWED
    first = breakers(http, gateway_url)
    assert "errors" not in first, first
    assert first["data"]["breakers"]["state"]

    # 2. Down for a while: UNAVAILABLE from every path (typed in GraphQL), then served at once when back.
    booked_before = load.answers[0][0]
    since = load.mark()
    load.start()
    try:
        wait_until(lambda: load.count(grpc.StatusCode.OK, since) >= 3, timeout=30, message="orders booked")
        pg.stop(mode)
        since = load.mark()
        wait_until(
            lambda: load.count(grpc.StatusCode.UNAVAILABLE, since) >= 3,
            timeout=30,
            message="orders answered UNAVAILABLE while the database is down",
        )
        down = breakers(http, gateway_url)
        assert down["data"] is None, down
        assert [e.get("extensions", {}).get("code") for e in down["errors"]] == ["UNAVAILABLE"], down
        key = pb.RequestKey(account_id=booked_before.account_id, request_id=booked_before.request_id)
        stub = service.stub
        assert code_of(lambda: stub.GetOrder(pb.GetOrderRequest(request=key), timeout=20)) == (
            grpc.StatusCode.UNAVAILABLE
        )
        assert code_of(lambda: stub.GetExposure(pb.GetExposureRequest(), timeout=20)) == (
            grpc.StatusCode.UNAVAILABLE
        )
        stream = pb.StreamHedgeEventsRequest(from_now=True)
        assert code_of(lambda: next(stub.StreamHedgeEvents(stream, timeout=20))) == (
            grpc.StatusCode.UNAVAILABLE
        )
    finally:
        load.stop()
    pg.start()
    back = breakers(http, gateway_url)
    assert "errors" not in back, back
    assert code_of(lambda: stub.GetOrder(pb.GetOrderRequest(request=key), timeout=20)) == grpc.StatusCode.OK

    codes = {code for _, code in load.answers}
    assert codes <= ALLOWED, codes
    # A retry under the same key returns the order booked before its answer was lost, or books it now.
    retried = [request for request, code in load.answers if code == grpc.StatusCode.UNAVAILABLE]
    assert retried
    for request in retried:
        assert place(service.stub, request) == grpc.StatusCode.OK
    rows = booked(service.settings.database_url)
    assert rows == dict.fromkeys((request.request_id for request, _ in load.answers), 1)


class _LosingCursor(psycopg2.extensions.cursor):  # type: ignore[misc]
    """Loses the connection around the COMMIT of the transaction that carries `_lose["request_id"]`:
    before it reaches the server (nothing committed) or after (committed, its answer lost), once."""

    def execute(self, query: Any, vars: Any = None) -> Any:
        target, text, conn = _lose.get("request_id"), str(query).strip(), id(self.connection)
        if text in ("BEGIN", "ROLLBACK"):
            _carrying.discard(conn)
        elif target is not None and target in (vars or ()):
            _carrying.add(conn)
        if text != "COMMIT" or conn not in _carrying or target is None:
            return super().execute(query, vars)
        _carrying.discard(conn)
        del _lose["request_id"]
        if _lose["when"] == "after":
            super().execute(query, vars)
        self.connection.close()
        raise psycopg2.OperationalError("server closed the connection unexpectedly (lost by the test)")


_carrying: set[int] = set()  # connections whose open transaction carries the request id
_lose: dict[str, str] = {}
_OPEN = (types_pb2.HEDGE_STATUS_PENDING, types_pb2.HEDGE_STATUS_UNKNOWN)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_commit_whose_answer_is_lost_is_unavailable_and_its_retry_books_the_order_once(
    pg_db: Any, pg_url: str, sim: Any, mappings: Any, when: str
) -> None:
    set_config(pg_db, mode="live")
    database = open_database(pg_url)
    database.connect_params["cursor_factory"] = _LosingCursor
    try:
        with running_service(service_settings(pg_url, sim.url)) as service:
            request = order_request(MARKET, types_pb2.SIDE_BUY, "5", request_id=f"lost-{when}")
            _lose.update(request_id=request.request_id, when=when)
            assert place(service.stub, request) == grpc.StatusCode.UNAVAILABLE
            assert "request_id" not in _lose  # it was this order's COMMIT that was lost
            again = service.stub.PlaceOrder(request, timeout=20)
            assert again.status == types_pb2.ORDER_STATUS_ACCEPTED
            assert booked(pg_url) == {request.request_id: 1}
            # Its hedge, committed with it, is sent once: by the retry ("before"), or by the resolver
            # once its poster is presumed gone ("after": the retry is a replay of the stored order).
            lookup = pb.GetOrderRequest(order_id=again.order_id)
            settled = wait_until(
                lambda: (o := service.stub.GetOrder(lookup, timeout=20)).hedges[0].status not in _OPEN and o,
                timeout=30,
                message="the order's hedge to settle",
            )
            assert [h.status for h in settled.hedges] == [types_pb2.HEDGE_STATUS_HEDGED]
            assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [
                settled.hedges[0].venue_order_id
            ]
    finally:
        _lose.clear()
        del database.connect_params["cursor_factory"]
        database.close()
