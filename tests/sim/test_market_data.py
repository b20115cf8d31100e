"""Public market-data endpoints, read through the unmodified client."""

from __future__ import annotations

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import BookParams
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.runner import RunningSimulator
from tests.sim.conftest import CHAIN_ID, D, market_by_slug


@pytest.fixture
def public(sim: RunningSimulator) -> ClobClient:
    return ClobClient(sim.url, CHAIN_ID)


def test_health_time_and_version(public: ClobClient) -> None:
    assert public.get_ok() == "OK"
    assert isinstance(public.get_server_time(), int)
    assert public.get_version() == 2


def test_book_is_ordered_worst_to_best_and_mirrored_for_no(sim: RunningSimulator, public: ClobClient) -> None:
    market = market_by_slug(sim, "fed-cut")
    yes = public.get_order_book(market.yes_token_id)
    no = public.get_order_book(market.no_token_id)
    yes_bids = [D(b["price"]) for b in yes["bids"]]
    yes_asks = [D(a["price"]) for a in yes["asks"]]
    assert yes_bids == sorted(yes_bids) and yes_asks == sorted(yes_asks, reverse=True)
    assert yes["bids"][-1] == {"price": "0.61", "size": "1800"}
    assert yes["asks"][-1] == {"price": "0.63", "size": "1700"}
    # A YES ask at p is a NO bid at 1 - p with the same size, and vice versa.
    assert [(1 - D(b["price"]), b["size"]) for b in no["bids"]] == [
        (D(a["price"]), a["size"]) for a in yes["asks"]
    ]
    assert [(1 - D(a["price"]), a["size"]) for a in no["asks"]] == [
        (D(b["price"]), b["size"]) for b in yes["bids"]
    ]
    assert yes["market"] == market.condition_id and yes["asset_id"] == market.yes_token_id
    assert yes["tick_size"] == "0.01" and yes["min_order_size"] == "5" and yes["neg_risk"] is False
    # The venue hash is what the client recomputes.
    assert public.get_order_book_hash(dict(yes)) == yes["hash"]


def test_prices_midpoint_spread(sim: RunningSimulator, public: ClobClient) -> None:
    market = market_by_slug(sim, "fed-cut")
    assert public.get_price(market.yes_token_id, "BUY") == {"price": "0.61"}
    assert public.get_price(market.yes_token_id, "SELL") == {"price": "0.63"}
    assert public.get_midpoint(market.yes_token_id)["mid"] == "0.62"
    assert public.get_midpoint(market.no_token_id)["mid"] == "0.38"
    assert public.get_spread(market.no_token_id) == {"spread": "0.02"}
    books = public.get_order_books(
        [BookParams(token_id=market.yes_token_id), BookParams(token_id=market.no_token_id)]
    )
    assert [b["asset_id"] for b in books] == list(market.token_ids)


def test_market_parameters(sim: RunningSimulator, public: ClobClient) -> None:
    mayor = market_by_slug(sim, "lakeshore")
    assert public.get_tick_size(mayor.yes_token_id) == "0.001"
    assert public.get_neg_risk(mayor.yes_token_id) is True
    assert public.get_fee_rate_bps(mayor.yes_token_id) == 1000
    info = public.get_clob_market_info(mayor.condition_id)
    assert info["t"] == [{"t": mayor.yes_token_id, "o": "Yes"}, {"t": mayor.no_token_id, "o": "No"}]
    assert str(info["mts"]) == "0.001" and info["nr"] is True
    assert info["fd"] == {"r": 0.04, "e": 1, "to": True}
    assert public.get_fee_exponent(mayor.no_token_id) == 1
    market = public.get_market(mayor.condition_id)
    assert market["condition_id"] == mayor.condition_id and market["neg_risk"] is True
    assert [t["token_id"] for t in market["tokens"]] == list(mayor.token_ids)
    page = public.get_markets()
    assert page["next_cursor"] == "LTE=" and len(page["data"]) == len(sim.exchange.markets)


def test_unknown_token_is_404(public: ClobClient) -> None:
    with pytest.raises(PolyApiException) as err:
        public.get_order_book("123")
    assert err.value.status_code == 404
    assert err.value.error_msg == {"error": "No orderbook exists for the requested token id"}
    with pytest.raises(PolyApiException) as err:
        public.get_tick_size("456")
    assert err.value.status_code == 404 and err.value.error_msg == {"error": "market not found"}


def test_book_mover_drifts_the_provider_book_by_ticks(sim: RunningSimulator) -> None:
    market = market_by_slug(sim, "fed-cut")
    before = sim.exchange.book(market.yes_token_id)
    sim.exchange.shift_book(market.condition_id, 2)
    after = sim.exchange.book(market.yes_token_id)
    assert after["bids"][0] == (before["bids"][0][0] + D("0.02"), before["bids"][0][1])
    assert after["asks"][0] == (before["asks"][0][0] + D("0.02"), before["asks"][0][1])
    for _ in range(50):
        sim.mover.step()
    for m in sim.exchange.markets:
        book = sim.exchange.book(m.yes_token_id)
        if book["bids"] and book["asks"]:
            assert book["bids"][0][0] < book["asks"][0][0]


def test_server_time_clients_work(sim: RunningSimulator) -> None:
    from py_clob_client_v2.clob_types import OrderArgsV2

    from tests.sim.conftest import private_key

    client = ClobClient(sim.url, CHAIN_ID, key=private_key("clocky"), use_server_time=True)
    client.set_api_creds(client.create_or_derive_api_key())
    market = market_by_slug(sim, "fed-cut")
    resp = client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=5, side="BUY")
    )
    assert resp["status"] == "live"
