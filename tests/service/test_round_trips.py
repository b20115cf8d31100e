"""The round trips of the hot writes, counted at the driver (every statement psycopg2 sends,
BEGIN and COMMIT included), so that a change cannot add one under the market's lock unnoticed: an
accepted order, or a batch of them booked together, takes BEGIN, the markets' lock, the totals row's
lock (with the check for request ids already booked in the same statement), one batch of writes and
COMMIT."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hedging.v1 import types_pb2
from server.store.hedge_outcomes import HedgeOutcomes
from server.store.orders import OrderStore
from tests.harness import order_request, wait_until
from tests.service.conftest import VENUE_DELAY

MARKET = "fed-cut-december-2026"


class _Counted:
    """A psycopg2 cursor that notes each statement it sends."""

    def __init__(self, cursor: Any, sent: list[str]) -> None:
        self._cursor, self._sent = cursor, sent

    def execute(self, text: str, params: Any = None) -> Any:
        self._sent.append(text)
        return self._cursor.execute(text, params)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def count_statements(
    monkeypatch: pytest.MonkeyPatch, database: Any, owner: type, method: str
) -> list[list[str]]:
    """The statements each call of `owner.method` sends, one list per call (only that call's
    thread is counted: the service's other tasks share the database object)."""
    calls: list[list[str]] = []
    counting = threading.local()
    real_cursor, real_method = database.cursor, getattr(owner, method)

    def cursor(*args: Any, **kwargs: Any) -> Any:
        sent = getattr(counting, "sent", None)
        found = real_cursor(*args, **kwargs)
        return found if sent is None else _Counted(found, sent)

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        counting.sent = []
        calls.append(counting.sent)
        try:
            return real_method(self, *args, **kwargs)
        finally:
            counting.sent = None

    monkeypatch.setattr(database, "cursor", cursor)
    monkeypatch.setattr(owner, method, counted)
    return calls


def test_an_accepted_order_takes_six_round_trips(live, pg_db, monkeypatch):
    calls = count_statements(monkeypatch, pg_db, OrderStore, "book")

    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)

    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED, answer.message
    assert len(calls) == 1
    assert_booking_round_trips(calls[0])


def assert_booking_round_trips(sent: list[str]) -> None:
    """BEGIN, the markets' lock (with their neg-risk groups), the groups' check, the total's lock with
    the replay check, one batch, COMMIT."""
    begin, markets, groups, total, batch, commit = sent  # six, no more
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "FOR UPDATE" in markets and "market_exposure" in markets and "ORDER BY" in markets
    assert "event_group" in groups and "FOR UPDATE" not in groups
    assert "FOR UPDATE OF t" in total and "risk_totals" in total and "user_order" in total
    # One batch: the orders, their hedges, the positions, the total, the event lock and the events.
    assert batch.index("INSERT INTO user_order") < batch.index("UPDATE risk_totals")
    assert batch.index("UPDATE risk_totals") < batch.index("pg_advisory_xact_lock")
    assert batch.count("INSERT INTO user_order") == 1 and batch.count("INSERT INTO hedge_event") == 1


def test_a_hedge_result_takes_six_round_trips(patient, pg_db, monkeypatch):
    calls = count_statements(monkeypatch, pg_db, HedgeOutcomes, "record_results")

    answer = patient.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)
    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED, answer.message
    wait_until(lambda: len(calls) == 1, timeout=10 * VENUE_DELAY + 10)

    begin, lock, groups, siblings, batch, commit = calls[0]  # six, no more
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "FOR UPDATE" in lock and "market_exposure" in lock
    assert "event_group" in groups and "FOR UPDATE" not in groups
    assert "FOR UPDATE" in siblings and "hedge_position" in siblings and "user_order" in siblings
    assert batch.index("UPDATE hedge_position") < batch.index("UPDATE risk_totals")
    assert batch.index("UPDATE risk_totals") < batch.index("pg_advisory_xact_lock")
