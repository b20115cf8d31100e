"""The slice of a Polygon JSON-RPC node that the official SDK's EOA transaction path uses
(`polymarket._internal.eoa`: chain id, nonce, gas price, gas estimate, raw transaction, receipt;
`eth_call` for ERC1155 balances), plus Otterscan's `ots_getTransactionBySenderAndNonce` (served by
Erigon, Reth and Anvil), by which a sender finds the transaction that used one of its nonces.

Transactions are legacy EIP-155 ones signed by the SDK; their calldata is decoded for the two
contract calls the simulator models (`server.sim.redemption`): `redeemPositions` and
`mergePositions` on the collateral adapters. A transaction is mined as soon as it arrives (unless a
fault keeps it pending); a call that would revert fails `eth_estimateGas` and, if sent anyway, mines
with status 0 and its nonce used.

Faults on `eth_sendRawTransaction`, one per call in the order given (`fail_next`):
- ``refuse``: answered 502 before anything happens (no nonce used);
- ``lost``: the transaction is accepted and mined, its answer lost (502);
- ``pending``: accepted and answered, but not mined until `mine_pending`."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import rlp
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from server.sim.errors import SimError
from server.sim.redemption import ChainRevert
from server.sim.wire import from_units, to_units

if TYPE_CHECKING:
    from server.sim.exchange import Exchange

ChainFault = Literal["refuse", "lost", "pending"]
# Contract addresses of Polygon mainnet as the SDK's production environment names them.
COLLATERAL_ADAPTER = "0xada100db00ca00073811820692005400218fce1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xada2005600dec949baf300f4c6120000bdb6eaab"
REDEEM = keccak(text="redeemPositions(address,bytes32,bytes32,uint256[])")[:4]
MERGE = keccak(text="mergePositions(address,bytes32,bytes32,uint256[],uint256)")[:4]
BALANCE_OF = keccak(text="balanceOf(address,uint256)")[:4]
BALANCE_OF_BATCH = keccak(text="balanceOfBatch(address[],uint256[])")[:4]
GAS_PRICE = 30 * 10**9
GAS = 200_000


class RpcError(Exception):
    """A JSON-RPC error answer (`code`, `message`)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SimTransaction:
    """One transaction as the chain keeps it."""

    tx_hash: str
    sender: str
    nonce: int
    to: str
    data: bytes
    mined: bool = False
    success: bool = False
    revert: str = ""


class SimChain:
    """The node's state: nonces, transactions and their receipts. Thread-safe."""

    def __init__(self, exchange: Exchange, chain_id: int = 137) -> None:
        self._exchange = exchange
        self.chain_id = chain_id
        self._lock = threading.RLock()
        self._txs: dict[str, SimTransaction] = {}
        self._by_nonce: dict[tuple[str, int], str] = {}
        self._faults: deque[ChainFault] = deque()
        self.sent: list[str] = []  # hashes of every accepted transaction, in order

    # ------------------------------------------------------------------ control

    def fail_next(self, *faults: ChainFault) -> None:
        """The next `eth_sendRawTransaction` calls meet these faults, one each."""
        with self._lock:
            self._faults.extend(faults)

    def mine_pending(self) -> int:
        """Mines every transaction held pending; returns how many."""
        with self._lock:
            pending = [tx for tx in self._txs.values() if not tx.mined]
            for tx in sorted(pending, key=lambda t: t.nonce):
                self._mine(tx)
            return len(pending)

    def transactions(self, sender: str | None = None) -> list[SimTransaction]:
        """Accepted transactions (of `sender`), oldest first."""
        with self._lock:
            txs = [self._txs[h] for h in self.sent]
        return [tx for tx in txs if sender is None or tx.sender == sender.lower()]

    # ------------------------------------------------------------------ JSON-RPC

    def call(self, method: str, params: list[Any]) -> Any:
        """The result of one JSON-RPC call, or `RpcError`."""
        handler = _METHODS.get(method)
        if handler is None:
            raise RpcError(-32601, f"the method {method} does not exist/is not available")
        with self._lock:
            return handler(self, params)

    def _nonce(self, params: list[Any]) -> str:
        sender, tag = str(params[0]).lower(), params[1] if len(params) > 1 else "latest"
        txs = [tx for (s, _), h in self._by_nonce.items() if s == sender for tx in [self._txs[h]]]
        count = len(txs) if tag == "pending" else sum(1 for tx in txs if tx.mined)
        return hex(count)

    def _estimate(self, params: list[Any]) -> str:
        tx = params[0]
        try:
            self._apply(
                str(tx["from"]).lower(), str(tx["to"]).lower(), _bytes(tx.get("data", "0x")), check_only=True
            )
        except ChainRevert as revert:
            raise RpcError(3, f"execution reverted: {revert.reason}") from None
        return hex(GAS)

    def _send(self, params: list[Any]) -> str:
        raw = _bytes(params[0])
        fields = rlp.decode(raw)
        nonce, to, data = int.from_bytes(fields[0], "big"), "0x" + fields[3].hex(), fields[5]
        sender = str(Account.recover_transaction(raw)).lower()
        fault = self._faults.popleft() if self._faults else None
        if fault == "refuse":
            raise SimError(502, "Bad Gateway")
        expected = int(self._nonce([sender, "pending"]), 16)
        if nonce != expected:
            raise RpcError(-32000, "nonce too low" if nonce < expected else "nonce too high")
        tx = SimTransaction("0x" + keccak(raw).hex(), sender, nonce, to.lower(), data)
        self._txs[tx.tx_hash] = tx
        self._by_nonce[(sender, nonce)] = tx.tx_hash
        self.sent.append(tx.tx_hash)
        if fault != "pending":
            self._mine(tx)
        if fault == "lost":
            raise SimError(502, "Bad Gateway")
        return tx.tx_hash

    def _mine(self, tx: SimTransaction) -> None:
        try:
            self._apply(tx.sender, tx.to, tx.data, check_only=False)
            tx.success = True
        except ChainRevert as revert:
            tx.revert = revert.reason
        tx.mined = True

    def _receipt(self, params: list[Any]) -> dict[str, object] | None:
        tx = self._txs.get(str(params[0]).lower())
        if tx is None or not tx.mined:
            return None
        index = self.sent.index(tx.tx_hash)
        return {
            "transactionHash": tx.tx_hash,
            "from": to_checksum_address(tx.sender),
            "to": to_checksum_address(tx.to),
            "blockNumber": hex(index + 1),
            "status": "0x1" if tx.success else "0x0",
            "gasUsed": hex(GAS),
            "logs": [],
        }

    def _by_sender_and_nonce(self, params: list[Any]) -> str | None:
        nonce = params[1] if isinstance(params[1], int) else int(str(params[1]), 0)
        return self._by_nonce.get((str(params[0]).lower(), nonce))

    def _eth_call(self, params: list[Any]) -> str:
        data = _bytes(params[0].get("data", "0x"))
        selector, args = data[:4], data[4:]
        if selector == BALANCE_OF:
            owner, token = abi_decode(["address", "uint256"], args)
            return "0x" + abi_encode(["uint256"], [self._units(owner, token)]).hex()
        if selector == BALANCE_OF_BATCH:
            owners, tokens = abi_decode(["address[]", "uint256[]"], args)
            units = [self._units(o, t) for o, t in zip(owners, tokens, strict=True)]
            return "0x" + abi_encode(["uint256[]"], [units]).hex()
        raise RpcError(3, "execution reverted")

    def _units(self, owner: str, token: int) -> int:
        return to_units(self._exchange.token_balance(owner, str(token)))

    # ------------------------------------------------------------------ the contracts

    def _apply(self, sender: str, to: str, data: bytes, *, check_only: bool) -> None:
        """Runs the call against the ledger (or only checks it); `ChainRevert` if it reverts."""
        if to not in (COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER):
            raise ChainRevert("call to a contract the simulator does not model")
        selector, args = data[:4], data[4:]
        try:
            if selector == REDEEM:
                _, _, condition, _ = abi_decode(["address", "bytes32", "bytes32", "uint256[]"], args)
                self._exchange.redeem_positions(sender, "0x" + condition.hex(), check_only=check_only)
            elif selector == MERGE:
                _, _, condition, _, amount = abi_decode(
                    ["address", "bytes32", "bytes32", "uint256[]", "uint256"], args
                )
                shares = from_units(amount)
                self._exchange.merge_positions(sender, "0x" + condition.hex(), shares, check_only=check_only)
            else:
                raise ChainRevert("function selector was not recognized")
        except SimError:
            raise ChainRevert("condition not prepared") from None


def _bytes(value: object) -> bytes:
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


_METHODS: dict[str, Any] = {
    "eth_chainId": lambda chain, params: hex(chain.chain_id),
    "eth_gasPrice": lambda chain, params: hex(GAS_PRICE),
    "eth_getTransactionCount": SimChain._nonce,
    "eth_estimateGas": SimChain._estimate,
    "eth_sendRawTransaction": SimChain._send,
    "eth_getTransactionReceipt": SimChain._receipt,
    "eth_call": SimChain._eth_call,
    "ots_getTransactionBySenderAndNonce": SimChain._by_sender_and_nonce,
}
