"""L1 key creation and L2 HMAC verification: every failure is 401 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, OrderArgsV2
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.runner import RunningSimulator, start_simulator
from tests.sim.conftest import CHAIN_ID, D, Trader, market_by_slug, private_key, state_of

UNAUTHORIZED = {"error": "Unauthorized/Invalid api key"}


def test_create_and_derive_agree_and_fund_the_address(sim: RunningSimulator) -> None:
    client = ClobClient(sim.url, CHAIN_ID, key=private_key("carol"))
    created = client.create_api_key()
    derived = client.derive_api_key()
    assert created == derived
    assert len(created.api_secret) == 44 and created.api_secret.endswith("=")
    assert len(created.api_passphrase) == 64
    assert client.create_or_derive_api_key(nonce=1) != created
    assert sim.exchange.balances(client.get_address())["usdc"] == D("1000000")


def test_bad_l1_signature_is_rejected(sim: RunningSimulator) -> None:
    client = ClobClient(sim.url, CHAIN_ID, key=private_key("carol"))
    headers = client._l1_headers()
    headers["POLY_TIMESTAMP"] = str(int(headers["POLY_TIMESTAMP"]) + 1)  # signature no longer matches
    response = httpx.post(sim.url + "/auth/api-key", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid L1 Request headers"}
    assert sim.exchange.api_keys(client.get_address()) == []


def _assert_rejected_post(sim: RunningSimulator, client: ClobClient, token_id: str, victim: Trader) -> None:
    before = state_of(sim, victim.address)
    order = client.create_order(OrderArgsV2(token_id=token_id, price=0.5, size=10, side="BUY"))
    with pytest.raises(PolyApiException) as err:
        client.post_order(order)
    assert err.value.status_code == 401
    assert err.value.error_msg == UNAUTHORIZED
    assert state_of(sim, victim.address) == before


def test_bad_hmac_secret(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    creds = alice.client.creds
    wrong = ApiCreds(creds.api_key, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", creds.api_passphrase)
    client = ClobClient(sim.url, CHAIN_ID, key=private_key("alice"), creds=wrong)
    market = market_by_slug(sim, "fed-cut")
    _assert_rejected_post(sim, client, market.yes_token_id, alice)
    with pytest.raises(PolyApiException) as err:
        client.get_open_orders()
    assert err.value.status_code == 401


def test_wrong_passphrase(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    creds = alice.client.creds
    client = ClobClient(
        sim.url, CHAIN_ID, key=private_key("alice"), creds=ApiCreds(creds.api_key, creds.api_secret, "0" * 64)
    )
    _assert_rejected_post(sim, client, market_by_slug(sim, "fed-cut").yes_token_id, alice)


def test_foreign_api_key(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    """Bob signing with Alice's credentials: POLY_ADDRESS does not own the key."""
    alice = trader("alice")
    bob = ClobClient(sim.url, CHAIN_ID, key=private_key("bob"), creds=alice.client.creds)
    _assert_rejected_post(sim, bob, market_by_slug(sim, "fed-cut").yes_token_id, alice)


def test_deleted_key_is_stale(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    old = alice.client.creds
    assert alice.client.delete_api_key() == "OK"
    _assert_rejected_post(sim, alice.client, market_by_slug(sim, "fed-cut").yes_token_id, alice)
    renewed = alice.client.create_or_derive_api_key()
    assert renewed.api_key != old.api_key


def test_key_of_another_simulator_is_stale(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    with start_simulator(port=0) as other:
        client = ClobClient(other.url, CHAIN_ID, key=private_key("alice"), creds=alice.client.creds)
        with pytest.raises(PolyApiException) as err:
            client.get_open_orders()
        assert err.value.status_code == 401 and err.value.error_msg == UNAUTHORIZED


def test_l2_endpoints_need_headers(sim: RunningSimulator) -> None:
    for method, path in [("GET", "/data/orders"), ("POST", "/order"), ("DELETE", "/cancel-all")]:
        response = httpx.request(method, sim.url + path)
        assert response.status_code == 401, path
        assert response.json() == UNAUTHORIZED
