"""Since 2026-07-24 a FOK/FAK answer lists its trades' ids (``tradeIDs``) and no transaction hashes;
the client polls each trade until it shows a hash or FAILED. Resting-order answers keep their hashes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderArgsV2, OrderType, TradeParams

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug


def _order_answers(http: httpx.Client) -> list[dict[str, object]]:
    """Every POST /order answer as it came off the wire, before the client touched it."""
    answers: list[dict[str, object]] = []

    def hook(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path == "/order":
            response.read()
            answers.append(json.loads(response.content))

    http.event_hooks["response"].append(hook)
    return answers


def test_a_fok_answer_carries_trade_ids_which_the_client_polls_for_hashes(
    sim: RunningSimulator, trader: Callable[..., Trader], fresh_http_client: httpx.Client
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")  # asks 1700 @ 0.63, 2295 @ 0.64
    sim.exchange.set_settlement(None)  # trades stay MATCHED: a hash does not wait for the block
    answers = _order_answers(fresh_http_client)
    # 1700 x 0.63 + 100 x 0.64 = 1071 + 64 = 1135 USDC: two trades.
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=1135, side="BUY"), order_type=OrderType.FOK
    )
    (raw,) = answers
    assert raw["status"] == "matched" and raw["transactionsHashes"] == []
    trade_ids = raw["tradeIDs"]
    assert isinstance(trade_ids, list) and len(trade_ids) == 2
    assert (D(str(raw["makingAmount"])), D(str(raw["takingAmount"]))) == (D("1135"), D("1800"))

    trades = [alice.client.get_trades(TradeParams(id=t))[0] for t in trade_ids]
    assert [(t["price"], t["size"], t["status"]) for t in trades] == [
        ("0.63", "1700", "MATCHED"),
        ("0.64", "100", "MATCHED"),
    ]
    hashes = [t["transaction_hash"] for t in trades]
    assert all(h.startswith("0x") and len(h) == 66 for h in hashes)
    # The client filled the hashes in by polling the trades.
    assert resp["tradeIDs"] == trade_ids and resp["transactionsHashes"] == hashes


def test_a_fak_trade_that_fails_gives_the_client_no_hash(
    sim: RunningSimulator, trader: Callable[..., Trader], fresh_http_client: httpx.Client
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(0.0)
    sim.exchange.fail_next_trades(1)
    answers = _order_answers(fresh_http_client)
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=63, side="BUY", price=0.63),
        order_type=OrderType.FAK,
    )
    (trade_id,) = resp["tradeIDs"]
    assert answers[0]["transactionsHashes"] == []
    # The client stopped polling at FAILED and took no hash from it.
    assert resp["transactionsHashes"] == []
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "FAILED"


def test_a_resting_order_that_matches_on_entry_still_answers_with_hashes(
    sim: RunningSimulator, trader: Callable[..., Trader], fresh_http_client: httpx.Client
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    answers = _order_answers(fresh_http_client)
    alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
    )
    (raw,) = answers
    (trade_id,) = raw["tradeIDs"]  # type: ignore[misc]
    assert raw["transactionsHashes"] == [sim.exchange.trade(trade_id)["transaction_hash"]]  # type: ignore[index]
