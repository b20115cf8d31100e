"""Redeeming and merging the hedge inventory on chain through the official SDK (`polymarket-client`,
import `polymarket`): its `redeem_positions` and `merge_positions` find the market on Gamma, read the
ERC1155 balances over JSON-RPC and, for an EOA wallet (signature type 0, this service's), sign and send
one transaction to the collateral adapter. Nothing here encodes a contract call by hand.

What the SDK does not offer, the look-ups that make a transfer exactly once, are three read-only
JSON-RPC calls on the same node: the sender's transaction count (mined and pending), the transaction
that used a given nonce (`ots_getTransactionBySenderAndNonce`, Erigon/Reth/Anvil) and a receipt.

The SDK takes no other URL than its environment's: a custom one is built with
`polymarket._internal.environment.create_environment`, the SDK's own (unexported) constructor."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from polymarket import AsyncSecureClient
from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment

from server.errors import Unavailable

log = logging.getLogger(__name__)
# Both USDC and outcome tokens have 6 decimals on chain.
UNITS = Decimal(10) ** 6


@dataclass(frozen=True)
class ChainEndpoints:
    """Where the SDK goes: the CLOB (for its API key), Gamma (market ids) and a Polygon JSON-RPC node."""

    clob_url: str
    gamma_url: str
    rpc_url: str
    chain_id: int = 137


def chain_endpoints(
    clob_url: str, gamma_url: str | None, rpc_url: str | None, chain_id: int
) -> ChainEndpoints:
    """The endpoints, Gamma's and the node's defaulting to the SDK's production ones."""
    return ChainEndpoints(
        clob_url, gamma_url or PRODUCTION_CONFIG.gamma_url, rpc_url or PRODUCTION_CONFIG.rpc_url, chain_id
    )


class PositionsClient:
    """One wallet's redemptions and merges. The SDK client is created on first use."""

    def __init__(self, private_key: str, endpoints: ChainEndpoints, *, timeout: float = 10.0) -> None:
        self._key = private_key
        self._endpoints = endpoints
        self._sdk: AsyncSecureClient | None = None
        self._http = httpx.AsyncClient(timeout=timeout)
        self._rpc_id = 0
        self.address = ""

    async def close(self) -> None:
        await self._http.aclose()
        if self._sdk is not None:
            await self._sdk.close()

    async def _client(self) -> AsyncSecureClient:
        if self._sdk is None:
            config = dataclasses.replace(
                PRODUCTION_CONFIG,
                chain_id=self._endpoints.chain_id,
                clob_url=self._endpoints.clob_url,
                gamma_url=self._endpoints.gamma_url,
                rpc_url=self._endpoints.rpc_url,
                relayer_poll_frequency_ms=50,
            )
            from eth_account import Account

            self.address = str(Account.from_key(self._key).address)
            # wallet = the signer: the EOA flow, a transaction of the signer's own (no relayer).
            self._sdk = await AsyncSecureClient.create(
                private_key=self._key,
                wallet=self.address,
                environment=create_environment(name="hedging", config=config),
            )
        return self._sdk

    async def redeem(self, condition_id: str) -> str:
        """Sends the redemption of every position of the resolved market; returns its tx hash."""
        handle = await (await self._client()).redeem_positions(condition_id=condition_id)
        return str(handle.transaction_hash)

    async def merge(self, condition_id: str, shares: Decimal) -> str:
        """Sends the merge of `shares` YES+NO pairs into USDC; returns its tx hash."""
        units = int(shares * UNITS)
        handle = await (await self._client()).merge_positions(condition_id=condition_id, amount=units)
        return str(handle.transaction_hash)

    async def nonces(self) -> tuple[int, int]:
        """(mined, pending) transaction counts of the wallet."""
        address = await self._address()
        mined = await self._rpc("eth_getTransactionCount", [address, "latest"])
        pending = await self._rpc("eth_getTransactionCount", [address, "pending"])
        return int(mined, 16), int(pending, 16)

    async def transaction_of(self, nonce: int) -> str | None:
        """The hash of the wallet's transaction with `nonce`, if the node knows one."""
        found = await self._rpc("ots_getTransactionBySenderAndNonce", [await self._address(), hex(nonce)])
        return None if found is None else str(found)

    async def outcome(self, tx_hash: str) -> bool | None:
        """True: mined and applied; False: mined and reverted; None: not mined yet."""
        receipt = await self._rpc("eth_getTransactionReceipt", [tx_hash])
        return None if receipt is None else receipt.get("status") in ("0x1", 1)

    async def _address(self) -> str:
        await self._client()
        return self.address

    async def _rpc(self, method: str, params: list[Any]) -> Any:
        self._rpc_id += 1
        envelope = {"jsonrpc": "2.0", "id": self._rpc_id, "method": method, "params": params}
        try:
            answer = await self._http.post(self._endpoints.rpc_url, json=envelope)
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"chain node: {method} failed ({type(exc).__name__})") from None
        if "error" in body:
            raise Unavailable(f"chain node: {method}: {body['error'].get('message', '')[:200]}")
        return body.get("result")
