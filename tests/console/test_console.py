"""The operator console in a real headless Chromium: it renders the service's real figures, a viewer
cannot halt and an admin can, the live feed follows new events, and GraphiQL loads without a CDN."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.risk import snapshots
from server.store.models import CircuitBreaker, HedgePosition
from tests.console.conftest import screenshot
from tests.gateway.conftest import ADMIN_TOKEN, VIEWER_TOKEN, GatewayThread, gateway_settings
from tests.harness import hedger_address, make_netted, order_request, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee: a 10-share BUY hedges at once


def _open(browser: Any, gateway: Any, token: str) -> None:
    browser.get(gateway.url.removesuffix("/graphql") + "/console#token=" + token)


def _wait(browser: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(lambda d: condition())


def _text(browser: Any, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def _rows(browser: Any, table_id: str) -> list[str]:
    return [r.text for r in browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")]


def _trade(live: Any, sim: Any) -> str:
    """Two hedged orders and one whose hedge the venue refuses; returns the failed hedge's id."""
    for _ in range(2):
        placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    return str(wait_until(lambda: HedgePosition.get_or_none(HedgePosition.status == "failed")).id)


def test_the_console_shows_real_figures_and_follows_the_feed(browser, gateway, live, sim, mappings):
    failed = _trade(live, sim)
    _open(browser, gateway, VIEWER_TOKEN)

    _wait(browser, lambda: _text(browser, "mode") == "live")
    assert _text(browser, "state") == "active"
    assert "#token" not in browser.current_url  # the token left the address bar
    _wait(browser, lambda: len(_rows(browser, "exposure")) == len(mappings))
    fed = [r for r in _rows(browser, "exposure") if r.startswith(MARKET)]
    assert len(fed) == 1 and "5000.00" in fed[0]  # the default per-market limit
    _wait(browser, lambda: "3 hedges" in _text(browser, "figures"))
    assert "success 66.7 %" in _text(browser, "figures")  # 2 hedged of 3 resolved
    failures = _wait(browser, lambda: _rows(browser, "failures"))
    assert failed in failures[0] and "FAILED not enough balance / allowance" in failures[0]
    assert any(r.startswith("mode live") for r in _rows(browser, "config"))
    assert any("mode" in r and "test setup" in r for r in _rows(browser, "history"))
    # The charts draw the last hour's buckets from the API: P&L and fees every bucket, success once.
    for chart, points in (("chart-pnl", "12"), ("chart-fees", "12"), ("chart-success", "1")):
        line = _wait(browser, lambda c=chart: browser.find_elements(By.CSS_SELECTOR, f"#{c} polyline"))
        assert line[0].get_attribute("data-points") == points

    _wait(browser, lambda: _text(browser, "feed-status") == "feed: live")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#feed li"))
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_SELL, "5"), timeout=15)
    _wait(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#feed li")) > before)
    assert MARKET in _text(browser, "feed")
    screenshot(browser, "console-viewer")


def test_the_console_shows_realised_pnl_apart_from_mark_to_market(browser, gateway, live, sim, mappings):
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    usdc = Decimal(str(sim.exchange.balances(hedger_address())["usdc"]))
    user_cash = Decimal(0)
    for _ in range(2):
        placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
        user_cash += Decimal("10") * Decimal(placed.executed_price)
    _open(browser, gateway, VIEWER_TOKEN)
    # Before the resolution: nothing realised; the running estimate is the hedges' spread less fees.
    estimate = sum((h.net_profit for h in HedgePosition.select()), Decimal(0))
    assert estimate > 0
    _wait(browser, lambda: _text(browser, "pnl") == f"realised 0.00 · mark-to-market {estimate:.2f}")
    assert _text(browser, "no-realised") == "no market has resolved"

    sim.exchange.resolve_market(market.condition_id, market.yes_token_id)
    live.call(live.runtime.market_states.follow_all())
    # What the market made, from the simulator's ledger: users paid user_cash and are owed 20; the
    # hedges spent what the wallet lost and hold YES tokens that redeem at 1 each.
    ledger = sim.exchange.balances(hedger_address())
    spent = usdc - Decimal(str(ledger["usdc"]))
    realised = user_cash - 20 - spent + Decimal(str(ledger["tokens"][market.yes_token_id]))
    row = _wait(browser, lambda: [r for r in _rows(browser, "realised") if r.startswith(MARKET)])[0]
    assert f" YES {realised:.2f} " in row, row
    assert _text(browser, "pnl") == f"realised {realised:.2f} · mark-to-market 0.00"  # its books closed
    screenshot(browser, "console-realised")


def test_a_viewer_cannot_halt(browser, gateway, live):
    _open(browser, gateway, VIEWER_TOKEN)
    _wait(browser, lambda: _text(browser, "state") == "active")
    browser.find_element(By.ID, "reason").send_keys("viewer tries")
    browser.find_element(By.ID, "halt").click()
    _wait(browser, lambda: "admin role is required" in _text(browser, "action-result"))
    screenshot(browser, "console-viewer-halt-refused")
    assert _text(browser, "state") == "active"
    assert not CircuitBreaker.select().where(CircuitBreaker.state == "halted").exists()


def test_an_admin_can_halt_and_resume(browser, gateway, live):
    _open(browser, gateway, ADMIN_TOKEN)
    _wait(browser, lambda: _text(browser, "state") == "active")
    browser.find_element(By.ID, "reason").send_keys("maintenance")
    browser.find_element(By.ID, "halt").click()
    _wait(browser, lambda: _text(browser, "action-result") == "halt: trading halted")
    _wait(browser, lambda: _text(browser, "state") == "halted")
    halted = CircuitBreaker.get(CircuitBreaker.name == "manual")
    assert (halted.state, halted.reason, halted.updated_by) == ("halted", "maintenance", "alice")
    screenshot(browser, "console-admin-halted")

    browser.find_element(By.ID, "resume").click()
    _wait(browser, lambda: _text(browser, "state") == "active")


def test_a_wrong_token_gets_the_login_form(browser, gateway):
    _open(browser, gateway, "not-a-token-of-ours")
    _wait(browser, lambda: browser.find_element(By.ID, "login").is_displayed())
    assert "unknown bearer token" in _text(browser, "login-error")
    assert not browser.find_element(By.ID, "main").is_displayed()


def test_graphiql_runs_on_local_scripts_only_in_development_mode(browser, gateway, pg_url, sim):
    refused = httpx.get(gateway.url.removesuffix("/graphql") + "/graphiql")
    assert refused.status_code == 404 and "development mode only" in refused.text
    dev = GatewayThread(gateway_settings(pg_url, sim.url, dev_mode=True))
    try:
        origin = dev.url.removesuffix("/graphql")
        for page in ("/graphiql", "/graphql"):
            browser.get(origin + page)
            # The schema arrived by introspection: the docs explorer lists the query type.
            _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".graphiql-editor"))
            browser.find_element(By.CSS_SELECTOR, "[aria-label='Show Documentation Explorer']").click()
            _wait(
                browser,
                lambda: "Query" in browser.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer").text,
            )
            loaded = browser.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
            )
            assert loaded and all(url.startswith(origin) for url in loaded), loaded
            screenshot(browser, "graphiql")
    finally:
        dev.stop()
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    assert loaded and all(url.startswith(origin) or url.startswith("ws://") for url in loaded), loaded
    screenshot(browser, "graphiql")


def test_the_console_shows_each_hedge_policy(browser, gateway, live, sim, mappings, pg_db):
    netted = "gpt-release-q1-2027"
    make_netted(pg_db, live, mappings[netted], hedgeMinShares="20")
    for _ in range(2):
        placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    waiting = live.stub.PlaceOrder(order_request(netted, types_pb2.SIDE_BUY, "3"), timeout=15)
    assert waiting.message == "accepted; hedge queued: the market's rebalancer hedges its net exposure"
    with pg_db.atomic():
        snapshots.write(pg_db, "test")
    worst = {
        m.market.event_id: max(Decimal(m.worst_case_loss), Decimal(0))
        for m in live.stub.GetExposure(pb.GetExposureRequest(), timeout=5).markets
    }
    assert worst[netted] > 0
    _open(browser, gateway, VIEWER_TOKEN)

    rows = _wait(browser, lambda: _rows(browser, "policies"))
    # policy, user orders, accepted, venue orders, fees (MARKET has none), exposure in the last snapshot
    assert rows == [f"per_order 2 2 2 0 {worst[MARKET]}", f"netted 1 1 0 0 {worst[netted]}"]
    for policy in ("per_order", "netted"):
        line = _wait(
            browser, lambda p=policy: browser.find_elements(By.CSS_SELECTOR, f"#chart-exposure-{p} polyline")
        )
        assert line[0].get_attribute("data-points") == "1"  # the span holding the snapshots
    screenshot(browser, "console-policies")
