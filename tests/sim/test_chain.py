"""The simulator's chain as the official SDK (polymarket-client) meets it: redemption and merge move
the ledger's balances as the contracts do, a call that would revert fails its gas estimate, a
transaction's nonce is used once, and the send faults (refused, answer lost, left pending)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address as checksum
from polymarket.errors import RequestRejectedError

from server.sim.runner import RunningSimulator
from server.venue.positions_client import PositionsClient, chain_endpoints
from tests.sim.conftest import private_key

KEY = private_key("redeemer")
ADDRESS = Account.from_key(KEY).address


def _client(sim: RunningSimulator) -> PositionsClient:
    return PositionsClient(KEY, chain_endpoints(sim.url, sim.url + "/gamma", sim.url + "/rpc", 137))


def _run(sim: RunningSimulator, work: Any) -> Any:
    async def go() -> Any:
        client = _client(sim)
        try:
            return await work(client)
        finally:
            await client.close()

    return asyncio.run(go())


def _rpc(sim: RunningSimulator, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer: dict[str, Any] = httpx.post(sim.url + "/rpc", json=body).json()
    return answer


def _tokens(sim: RunningSimulator, market: Any) -> tuple[Decimal, Decimal]:
    return (
        sim.exchange.token_balance(ADDRESS, market.yes_token_id),
        sim.exchange.token_balance(ADDRESS, market.no_token_id),
    )


def _usdc(sim: RunningSimulator) -> Decimal:
    return Decimal(sim.exchange.balances(ADDRESS)["usdc"])


def test_merge_burns_pairs_for_usdc_and_redemption_pays_the_winner(sim: RunningSimulator) -> None:
    market = sim.exchange.markets[0]
    sim.exchange.fund(ADDRESS, 0, {market.yes_token_id: "10", market.no_token_id: "4.5"})
    usdc = _usdc(sim)

    async def merge(client: PositionsClient) -> Any:
        tx = await client.merge(market.condition_id, Decimal("4.5"))
        return tx, await client.outcome(tx), await client.nonces(), await client.transaction_of(0)

    tx, applied, nonces, found = _run(sim, merge)
    assert (applied, nonces, found) == (True, (1, 1), tx)
    assert _tokens(sim, market) == (Decimal("5.5"), 0) and _usdc(sim) == usdc + Decimal("4.5")

    sim.exchange.resolve_market(market.condition_id, market.no_token_id)  # NO wins: YES pays nothing
    _run(sim, lambda client: client.redeem(market.condition_id))
    assert _tokens(sim, market) == (0, 0) and _usdc(sim) == usdc + Decimal("4.5")
    sim.exchange.fund(ADDRESS, 0, {market.no_token_id: "3"})
    _run(sim, lambda client: client.redeem(market.condition_id))
    assert _tokens(sim, market) == (0, 0) and _usdc(sim) == usdc + Decimal("7.5")


def test_a_call_that_would_revert_fails_its_estimate_and_changes_nothing(sim: RunningSimulator) -> None:
    market = sim.exchange.markets[0]
    sim.exchange.fund(ADDRESS, 0, {market.yes_token_id: "10"})
    # Gamma lists an open market only without closed=true: the SDK's redeem finds none to redeem.
    with pytest.raises(Exception, match="No market found"):
        _run(sim, lambda client: client.redeem(market.condition_id))
    sim.exchange.close_market(market.condition_id)  # closed, not resolved: CTF refuses to redeem
    with pytest.raises(Exception, match="result for condition not received yet"):
        _run(sim, lambda client: client.redeem(market.condition_id))
    assert _tokens(sim, market) == (10, 0) and sim.exchange.chain.transactions() == []


def test_a_nonce_is_used_once(sim: RunningSimulator) -> None:
    market = sim.exchange.markets[0]
    sim.exchange.fund(ADDRESS, 0, {market.yes_token_id: "2", market.no_token_id: "2"})
    _run(sim, lambda client: client.merge(market.condition_id, Decimal(1)))
    tx = sim.exchange.chain.transactions(ADDRESS)[0]
    signed = Account.sign_transaction(
        {
            "to": checksum(tx.to),
            "value": 0,
            "data": tx.data,
            "gas": 200_000,
            "gasPrice": 1,
            "nonce": 0,
            "chainId": 137,
        },
        KEY,
    )
    answer = _rpc(sim, "eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
    assert answer["error"]["message"] == "nonce too low"
    assert _tokens(sim, market) == (1, 1) and len(sim.exchange.chain.transactions()) == 1


def test_send_faults(sim: RunningSimulator) -> None:
    market = sim.exchange.markets[0]
    sim.exchange.fund(ADDRESS, 0, {market.yes_token_id: "3", market.no_token_id: "3"})
    chain = sim.exchange.chain

    chain.fail_next("refuse")  # never reaches the chain
    with pytest.raises(RequestRejectedError):
        _run(sim, lambda client: client.merge(market.condition_id, Decimal(1)))
    assert chain.transactions() == [] and _tokens(sim, market) == (3, 3)

    chain.fail_next("lost")  # applied, its answer lost: found by sender and nonce
    with pytest.raises(RequestRejectedError):
        _run(sim, lambda client: client.merge(market.condition_id, Decimal(1)))
    assert _tokens(sim, market) == (2, 2)
    assert _rpc(sim, "ots_getTransactionBySenderAndNonce", ADDRESS, "0x0")["result"] == chain.sent[0]

    chain.fail_next("pending")  # answered, mined only later
    tx = _run(sim, lambda client: client.merge(market.condition_id, Decimal(1)))
    assert _rpc(sim, "eth_getTransactionReceipt", tx)["result"] is None
    assert _rpc(sim, "eth_getTransactionCount", ADDRESS, "latest")["result"] == "0x1"
    assert _rpc(sim, "eth_getTransactionCount", ADDRESS, "pending")["result"] == "0x2"
    assert _tokens(sim, market) == (2, 2)
    assert chain.mine_pending() == 1
    assert _rpc(sim, "eth_getTransactionReceipt", tx)["result"]["status"] == "0x1"
    assert _tokens(sim, market) == (1, 1)


def test_gamma_lists_a_market_as_the_sdk_reads_it(sim: RunningSimulator) -> None:
    market = sim.exchange.markets[0]
    params = {"condition_ids": market.condition_id, "closed": "false", "limit": "1"}
    listed = httpx.get(sim.url + "/gamma/markets/keyset", params=params).json()["markets"]
    assert [(m["conditionId"], m["negRisk"], m["closed"]) for m in listed] == [
        (market.condition_id, market.neg_risk, False)
    ]
    sim.exchange.close_market(market.condition_id)
    assert httpx.get(sim.url + "/gamma/markets/keyset", params=params).json()["markets"] == []
