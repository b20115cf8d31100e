"""The per-signer order budget, through the unmodified client: Standard tier, 40 orders/s, burst 60.

The bucket runs on a clock the test moves, so refills happen on cue and nothing depends on how fast
the machine is. Response headers are read with an httpx response hook on the client's own httpx
client (the client does not expose them). Expected token counts are worked out by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType, PostOrdersV2Args
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.runner import RunningSimulator
from tests.sim.conftest import Trader, market_by_slug

T0 = 1_900_000_000.0  # a whole second, so Reset values are plain to work out


class ManualClock:
    """Unix seconds that move only when the test says so."""

    def __init__(self, start: float) -> None:
        self.t = start

    def now(self) -> float:
        return self.t


@pytest.fixture
def clock(sim: RunningSimulator) -> ManualClock:
    manual = ManualClock(T0)
    sim.exchange.set_order_budget("standard", clock=manual.now)
    return manual


@pytest.fixture
def answers(fresh_http_client: httpx.Client) -> Iterator[list[httpx.Response]]:
    """Every response the client receives, for its headers."""
    seen: list[httpx.Response] = []
    fresh_http_client.event_hooks["response"].append(seen.append)
    yield seen


def _orders(trader: Trader, token_id: str, n: int) -> list[Any]:
    """``n`` distinct resting bids (0.10 x 5 shares, well below the book's asks)."""
    return [
        trader.client.create_order(OrderArgsV2(token_id=token_id, price=0.10, size=5 + i / 100, side="BUY"))
        for i in range(n)
    ]


def _batch(trader: Trader, orders: list[Any]) -> Any:
    return trader.client.post_orders([PostOrdersV2Args(order=o, orderType=OrderType.GTC) for o in orders])


def _rate_headers(response: httpx.Response) -> dict[str, str]:
    return {
        k: v for k, v in response.headers.items() if k.lower().startswith(("poly-ratelimit", "retry-after"))
    }


def _order_posts(answers: list[httpx.Response]) -> list[httpx.Response]:
    return [r for r in answers if r.request.method == "POST" and r.request.url.path in ("/order", "/orders")]


def test_burst_then_429_with_retry_after_and_a_refill(
    sim: RunningSimulator, trader: Callable[..., Trader], clock: ManualClock, answers: list[httpx.Response]
) -> None:
    alice = trader("alice")
    token = market_by_slug(sim, "fed-cut").yes_token_id
    orders = _orders(alice, token, 76)
    # A full bucket holds 60: four batches of 15 go through, leaving 45, 30, 15, 0.
    for i in range(4):
        results = _batch(alice, orders[15 * i : 15 * (i + 1)])
        assert all(r["success"] for r in results)
    remaining = [r.headers["poly-ratelimit-remaining"] for r in _order_posts(answers)]
    assert remaining == ["45", "30", "15", "0"]
    last = _order_posts(answers)[-1]
    assert last.headers["poly-ratelimit-tier"] == "standard"
    assert last.headers["poly-ratelimit-reset"] == str(int(T0))  # admitted: "now"

    # The 61st order: 429, one token missing, refilled in 1/40 s -> Retry-After 1, Reset T0 + 1.
    with pytest.raises(PolyApiException) as refused:
        alice.client.post_order(orders[60], OrderType.GTC)
    assert refused.value.status_code == 429
    assert _rate_headers(_order_posts(answers)[-1]) == {
        "poly-ratelimit-remaining": "0",
        "poly-ratelimit-reset": str(int(T0) + 1),
        "poly-ratelimit-tier": "standard",
        "retry-after": "1",
    }
    assert len(sim.exchange.orders(alice.address)) == 60

    # A quarter second refills 10 tokens: a batch of 15 is refused whole, none of it placed.
    clock.t = T0 + 0.25
    with pytest.raises(PolyApiException) as batch_refused:
        _batch(alice, orders[61:76])
    assert batch_refused.value.status_code == 429
    headers = _rate_headers(_order_posts(answers)[-1])
    assert headers["poly-ratelimit-remaining"] == "10"
    assert headers["retry-after"] == "1"  # 5 tokens short: 1/8 s, rounded up to a whole second
    assert len(sim.exchange.orders(alice.address)) == 60

    # The same 10 tokens admit a batch of 10.
    results = _batch(alice, orders[61:71])
    assert all(r["success"] for r in results)
    assert _order_posts(answers)[-1].headers["poly-ratelimit-remaining"] == "0"
    assert len(sim.exchange.orders(alice.address)) == 70


def test_each_signer_has_its_own_bucket(
    sim: RunningSimulator, trader: Callable[..., Trader], clock: ManualClock, answers: list[httpx.Response]
) -> None:
    alice, bob = trader("alice"), trader("bob")
    token = market_by_slug(sim, "fed-cut").yes_token_id
    for _ in range(4):
        _batch(alice, _orders(alice, token, 15))
    assert _order_posts(answers)[-1].headers["poly-ratelimit-remaining"] == "0"
    results = _batch(bob, _orders(bob, token, 15))
    assert all(r["success"] for r in results)
    assert _order_posts(answers)[-1].headers["poly-ratelimit-remaining"] == "45"


def test_warning_mode_admits_and_flags(
    sim: RunningSimulator, trader: Callable[..., Trader], clock: ManualClock, answers: list[httpx.Response]
) -> None:
    sim.exchange.set_order_budget("standard", mode="warn", clock=clock.now)
    alice = trader("alice")
    token = market_by_slug(sim, "fed-cut").yes_token_id
    orders = _orders(alice, token, 61)
    for i in range(4):
        _batch(alice, orders[15 * i : 15 * (i + 1)])
    assert "poly-ratelimit-warning" not in _order_posts(answers)[-1].headers
    resp = alice.client.post_order(orders[60], OrderType.GTC)
    assert resp["success"] and resp["status"] == "live"
    headers = _rate_headers(_order_posts(answers)[-1])
    assert headers["poly-ratelimit-warning"] == "true"
    assert "retry-after" not in headers


def test_unmetered_simulator_sends_no_rate_headers(
    sim: RunningSimulator, trader: Callable[..., Trader], answers: list[httpx.Response]
) -> None:
    sim.exchange.set_order_budget(None)
    alice = trader("alice")
    token = market_by_slug(sim, "fed-cut").yes_token_id
    for _ in range(5):
        _batch(alice, _orders(alice, token, 15))
    assert all(_rate_headers(r) == {} for r in _order_posts(answers))
