"""Order life cycles through the unmodified client: GTC/GTD/FOK/FAK, market orders, fees, cancels, queries."""

from __future__ import annotations

from collections.abc import Callable

from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OpenOrderParams,
    OrderArgsV2,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    PostOrdersV2Args,
    TradeParams,
)

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug

MILLION = D("1000000")


def test_gtc_rests_reserves_and_is_queryable(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.45, size=10, side="BUY")
    )
    assert resp["success"] is True and resp["status"] == "live" and resp["tradeIDs"] == []
    order_id = resp["orderID"]
    assert order_id.startswith("0x") and len(order_id) == 66
    order = alice.client.get_order(order_id)
    assert order["status"] == "LIVE" and order["original_size"] == "10" and order["price"] == "0.45"
    assert order["maker_address"] == alice.address and order["outcome"] == "Yes"
    assert (D("0.45"), D("10")) in sim.exchange.book(market.yes_token_id)["bids"]
    # The NO book shows it as an ask at 0.55.
    assert (D("0.55"), D("10")) in sim.exchange.book(market.no_token_id)["asks"]
    bal = sim.exchange.balances(alice.address)
    assert bal["usdc"] == MILLION and bal["usdc_reserved"] == D("4.5")


def test_gtc_crossing_fills_at_maker_price_then_rests(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.64, size=2000, side="BUY")
    )
    # transactionsHashes present (checked below): the client need not poll /data/trades.
    assert resp["status"] == "matched"
    assert len(resp["tradeIDs"]) == 2 and len(resp["transactionsHashes"]) == 2
    # 1700 @ 0.63 then 300 @ 0.64: the taker pays the makers' prices.
    assert D(resp["takingAmount"]) == 2000
    assert D(resp["makingAmount"]) == D("1700") * D("0.63") + D("300") * D("0.64")
    order = sim.exchange.order(resp["orderID"])
    assert order is not None and order["status"] == "MATCHED" and order["size_matched"] == "2000"
    bal = sim.exchange.balances(alice.address)
    assert bal["tokens"] == {market.yes_token_id: D("2000")}
    assert bal["usdc"] == MILLION - D("1071") - D("192")
    trades = alice.client.get_trades(TradeParams(market=market.condition_id))
    assert {t["id"] for t in trades} == set(resp["tradeIDs"])
    assert all(t["trader_side"] == "TAKER" and t["status"] in ("MATCHED", "CONFIRMED") for t in trades)


def test_two_users_trade_and_maker_sees_maker_side(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice, bob = trader("alice"), trader("bob")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.fund(bob.address, tokens={market.yes_token_id: 50})
    ask = bob.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.62, size=20, side="SELL")
    )
    assert ask["status"] == "live"
    bid = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.62, size=20, side="BUY")
    )
    assert bid["status"] == "matched"
    maker_view = bob.client.get_trades()
    assert len(maker_view) == 1 and maker_view[0]["trader_side"] == "MAKER"
    assert maker_view[0]["maker_orders"][0]["order_id"] == ask["orderID"]
    assert sim.exchange.balances(bob.address)["usdc"] == MILLION + D("12.4")
    assert sim.exchange.balances(bob.address)["tokens"] == {market.yes_token_id: D("30")}
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("20")}


def test_gtd_expires_one_minute_before_its_expiration(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    # 3 minutes and a half ahead: the venue wants at least 3; the order lives until 60 s before it.
    expiration = int(sim.exchange.now()) + 180 + 30
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY", expiration=expiration),
        order_type=OrderType.GTD,
    )
    order_id = resp["orderID"]
    assert alice.client.get_order(order_id)["expiration"] == str(expiration)
    sim.exchange.advance_time(140)
    assert alice.client.get_order(order_id)["status"] == "LIVE"
    sim.exchange.advance_time(11)
    assert alice.client.get_order(order_id)["status"] == "CANCELED"
    assert sim.exchange.balances(alice.address)["usdc_reserved"] == 0
    assert alice.client.get_open_orders() == []


def test_fok_market_buy_spends_the_amount(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=2000, side="BUY"), order_type=OrderType.FOK
    )
    assert resp["status"] == "matched"
    spent, shares = D(resp["makingAmount"]), D(resp["takingAmount"])
    assert D("1999.99") <= spent <= D("2000")
    # 1700 shares at 0.63, the rest at 0.64.
    assert shares == D("1700") + ((D("2000") - D("1071")) / D("0.64")).quantize(
        D("0.000001"), rounding="ROUND_FLOOR"
    )
    order = sim.exchange.order(resp["orderID"])
    assert order is not None and order["status"] == "MATCHED" and order["order_type"] == "FOK"
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION - spent


def test_fak_fills_what_is_there_and_kills_the_rest(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "atlantic")  # thin book: 30 @ 0.972, 45 @ 0.978
    # 97.2 / 0.972 is exactly 100 shares: the taker fits the venue's 4 decimals on this 0.001 tick.
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=97.2, side="BUY", price=0.972),
        order_type=OrderType.FAK,
    )
    assert resp["takingAmount"] == "30" and resp["makingAmount"] == "29.16"
    assert sim.exchange.book(market.yes_token_id)["asks"] == [(D("0.978"), D("45"))]
    assert alice.client.get_open_orders() == []


def test_market_sell_of_no_tokens_merges_against_a_no_seller(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.fund(alice.address, tokens={market.no_token_id: 100})
    # The NO bids are the provider's YES asks (booked as BUY NO): selling NO into them is a transfer.
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.no_token_id, amount=100, side="SELL"), order_type=OrderType.FOK
    )
    assert resp["makingAmount"] == "100" and resp["takingAmount"] == "37"
    assert sim.exchange.balances(alice.address)["tokens"] == {}
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION + D("37")


def test_buying_no_against_a_yes_bid_mints_a_pair(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "lakeshore")  # neg-risk, tick 0.001, fee 0.04
    before = sim.exchange.totals()
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.no_token_id, price=0.588, size=10, side="BUY")
    )
    assert resp["status"] == "matched" and resp["takingAmount"] == "10" and resp["makingAmount"] == "5.88"
    after = sim.exchange.totals()
    assert after["locked"][market.condition_id] == before["locked"][market.condition_id] + 10  # type: ignore[index]
    fee = (D("10") * D("0.04") * D("0.588") * D("0.412")).quantize(D("0.00001"))
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION - D("5.88") - fee
    trade = sim.exchange.trade(resp["tradeIDs"][0])
    assert trade is not None and D(str(trade["fee"])) == fee and trade["fee_rate_bps"] == "400"


def test_taker_fee_on_a_fee_market(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "btc")  # r = 0.07, e = 1, best ask 0.35
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.35, size=100, side="BUY")
    )
    assert resp["status"] == "matched"
    fee = D("100") * D("0.07") * D("0.35") * D("0.65")
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION - D("35") - fee
    assert sim.exchange.totals()["fees"] == fee
    lp = sim.exchange.balances(market.liquidity_provider)
    assert lp["tokens"].get(market.no_token_id) == D("100")  # type: ignore[attr-defined]


def test_post_only_rests(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.62, size=10, side="BUY"), post_only=True
    )
    assert resp["status"] == "live"
    assert sim.exchange.order(resp["orderID"])["post_only"] is True  # type: ignore[index]


def test_cancels(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    fed, btc = market_by_slug(sim, "fed-cut"), market_by_slug(sim, "btc")
    ids = [
        alice.client.create_and_post_order(OrderArgsV2(token_id=token, price=price, size=10, side="BUY"))[
            "orderID"
        ]
        for token, price in [
            (fed.yes_token_id, 0.50),
            (fed.yes_token_id, 0.51),
            (fed.no_token_id, 0.30),
            (btc.yes_token_id, 0.20),
            (btc.no_token_id, 0.40),
        ]
    ]
    one = alice.client.cancel_order(OrderPayload(orderID=ids[0]))
    assert one == {"canceled": [ids[0]], "not_canceled": {}}
    again = alice.client.cancel_orders([ids[0], ids[1], "0x" + "ab" * 32])
    assert again["canceled"] == [ids[1]]
    assert again["not_canceled"] == {
        ids[0]: "the order is already canceled",
        "0x" + "ab" * 32: "order not found",
    }
    by_token = alice.client.cancel_market_orders(OrderMarketCancelParams(asset_id=fed.no_token_id))
    assert by_token["canceled"] == [ids[2]]
    rest = alice.client.cancel_all()
    assert sorted(rest["canceled"]) == sorted(ids[3:])
    assert alice.client.get_open_orders() == []
    assert sim.exchange.balances(alice.address)["usdc_reserved"] == 0
    assert alice.client.get_order(ids[4])["status"] == "CANCELED"


def test_cancel_someone_elses_order_is_refused(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice, bob = trader("alice"), trader("bob")
    market = market_by_slug(sim, "fed-cut")
    order_id = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["orderID"]
    assert bob.client.cancel_order(OrderPayload(orderID=order_id))["not_canceled"] == {
        order_id: "order not found"
    }
    assert sim.exchange.order(order_id)["status"] == "LIVE"  # type: ignore[index]


def test_open_orders_and_trades_paginate(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    sim.exchange.set_page_size(2)
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    placed = [
        alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.40 + 0.01 * i, size=5, side="BUY")
        )["orderID"]
        for i in range(7)
    ]
    listed = alice.client.get_open_orders()
    assert [o["id"] for o in listed] == placed
    first = alice.client.get_open_orders(only_first_page=True)
    assert len(first) == 2
    assert [o["id"] for o in alice.client.get_open_orders(OpenOrderParams(id=placed[3]))] == [placed[3]]
    for _ in range(5):
        alice.client.create_and_post_market_order(
            MarketOrderArgsV2(token_id=market.yes_token_id, amount=5, side="BUY"), order_type=OrderType.FOK
        )
    assert len(alice.client.get_trades()) == 5
    page = alice.client.get_trades_paginated()
    assert len(page["trades"]) == 2 and page["next_cursor"] == "Mg=="


def test_batch_post_orders(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    good = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    small = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=1, side="BUY")
    )
    results = alice.client.post_orders(
        [
            PostOrdersV2Args(order=good, orderType=OrderType.GTC),
            PostOrdersV2Args(order=small, orderType=OrderType.GTC),
        ]
    )
    assert results[0]["success"] is True and results[0]["status"] == "live"
    assert results[1]["success"] is False and "lower than the minimum: 5" in results[1]["errorMsg"]


def test_balance_allowance(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.fund(alice.address, usdc="0.5", tokens={market.yes_token_id: "12.25"})
    collateral = alice.client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == "1000000500000"
    assert set(collateral["allowances"]) == {
        "0xE111180000d2663C0091e4f400237545B87B996B",
        "0xe2222d279d744050d28e00520010520000310F59",
    }
    conditional = alice.client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=market.yes_token_id)
    )
    assert conditional["balance"] == "12250000"
