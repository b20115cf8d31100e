"""A failed or UNKNOWN hedge reaches the log at WARNING with the ids an operator looks it up by."""

from __future__ import annotations

import logging

import pytest

from hedging.v1 import types_pb2
from server.store.models import HedgePosition
from tests.harness import order_request, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee: a 10-share BUY fills at once


def _warnings_naming(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and all(w in r.getMessage() for w in words)
    ]


def test_a_refused_hedge_is_logged_at_warning_with_its_hedge_and_order_ids(live, sim, caplog):
    caplog.set_level(logging.WARNING, logger="server.trading.hedger")
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)

    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, placed.message
    hedge = HedgePosition.get()
    lines = wait_until(
        lambda: _warnings_naming(caplog, hedge.id, placed.order_id, "FAILED"),
        message="a warning naming the failed hedge and its order",
    )
    assert len(lines) == 1


def test_an_unknown_hedge_is_logged_at_warning_with_its_hedge_and_order_ids(live, sim, caplog):
    caplog.set_level(logging.WARNING, logger="server.trading.hedger")
    sim.exchange.inject_fault("/order", 1, "after", status=503, method="POST")
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)

    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    hedge = HedgePosition.get()
    lines = _warnings_naming(caplog, hedge.id, placed.order_id, "UNKNOWN")
    assert len(lines) == 1
    assert hedge.venue_order_id is not None and hedge.venue_order_id in lines[0]
