"""Reading the market channel for tick changes, and where the channel is."""

from __future__ import annotations

from decimal import Decimal

from server.venue.tick_feed import market_channel_url, tick_change


def test_a_tick_size_change_names_its_token_and_new_tick():
    text = (
        '{"event_type":"tick_size_change","asset_id":"T1","market":"0xc","old_tick_size":"0.01",'
        '"new_tick_size":"0.001","timestamp":"100000000"}'
    )
    assert tick_change(text) == ("T1", Decimal("0.001"))
    assert tick_change("[" + text + "]") == ("T1", Decimal("0.001"))


def test_other_messages_and_garbage_are_not_tick_changes():
    assert tick_change('{"event_type":"book","asset_id":"T1","bids":[],"asks":[]}') is None
    assert tick_change('{"event_type":"tick_size_change","asset_id":"T1","new_tick_size":"x"}') is None
    assert tick_change('{"event_type":"tick_size_change","new_tick_size":"0.001"}') is None
    assert tick_change("PONG") is None


def test_polymarkets_channel_is_on_its_own_host_and_any_other_venues_under_ws_market():
    assert (
        market_channel_url("https://clob.polymarket.com")
        == "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    )
    assert market_channel_url("http://127.0.0.1:8081") == "ws://127.0.0.1:8081/ws/market"
    assert market_channel_url("https://venue.example/clob/") == "wss://venue.example/clob/ws/market"
