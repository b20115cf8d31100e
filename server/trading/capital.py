"""Frees the capital held as hedge inventory: a resolved market's hedge shares are redeemed on chain
(the winning ones for 1 USDC each) and, when `mergeHedgePairs` is on, YES+NO pairs held in an open
market are merged back into USDC. Both go through the official SDK (`server.venue.positions_client`).

Exactly once per transfer (`server.domain.capital_transfer`): the transfer is recorded before the
request, then the nonce its transaction will use, then it is sent; every pass first asks the chain
what became of that nonce, so a crash anywhere, a refused request or a lost or late answer ends with
the transfer applied once. Transfers go one at a time, by one process: each needs the wallet's next
nonce to itself, so the keeper of the transfers holds a PostgreSQL advisory lock (other processes'
keepers stand by and take over if it dies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial

from server.domain.capital_transfer import ChainView, TransferKind, TransferStep, next_step
from server.domain.market_state import MarketState
from server.periodic import Periodic
from server.store.advisory_locks import CAPITAL_KEY, AdvisoryLocks
from server.store.capital_transfers import CapitalTransfers, Transfer
from server.store.models import PolymarketMarketMapping
from server.trading.state import RunInDb
from server.venue.positions_client import PositionsClient

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 5.0
# Fewer pairs than this are not worth a transaction's gas.
MERGE_MIN_PAIRS = Decimal(1)


class CapitalKeeper:
    """One pass: record the transfers due, then move the oldest open one a step (or to its end)."""

    def __init__(
        self,
        transfers: CapitalTransfers,
        chain: PositionsClient,
        run_in_db: RunInDb,
        mappings: Callable[[], Iterable[PolymarketMarketMapping]],
        merge_enabled: Callable[[], bool],
        *,
        lock: AdvisoryLocks | None = None,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._transfers = transfers
        self._chain = chain
        self._run = run_in_db
        self._mappings = mappings
        self._merge_enabled = merge_enabled
        self._lock = lock
        # One pass at a time in this process (the periodic one and any called directly).
        self._passing = asyncio.Lock()
        self._periodic = Periodic(
            "capital", self.pass_once, interval, failure="capital pass failed", logger=log
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        if self._lock is not None:
            self._lock.close()
        await self._chain.close()

    async def pass_once(self) -> TransferStep | None:
        """Records due transfers and advances the oldest open one; returns its step (None: none open,
        or another process keeps the transfers)."""
        async with self._passing:
            if self._lock is not None:
                lock = self._lock
                owned, _ = await asyncio.get_running_loop().run_in_executor(
                    lock.executor, lock.take, [CAPITAL_KEY]
                )
                if not owned:
                    return None
            return await self._pass()

    async def _pass(self) -> TransferStep | None:
        await self._record_due()
        pending = await self._run(self._transfers.open_transfers)
        return await self.advance(pending[0]) if pending else None

    async def _record_due(self) -> None:
        merging = self._merge_enabled()
        for mapping in sorted(self._mappings(), key=lambda m: m.id):
            if mapping.market_state == MarketState.RESOLVED.value:
                await self._run(partial(self._transfers.intend_redemption, mapping.id))
            elif merging:
                await self._run(partial(self._transfers.intend_merge, mapping.id, MERGE_MIN_PAIRS))

    async def advance(self, transfer: Transfer) -> TransferStep:
        """Looks the transfer up on chain and takes the step that follows (`next_step`)."""
        _, pending = await self._chain.nonces()
        nonce = transfer.nonce
        if nonce is None or (transfer.tx_hash is None and pending < nonce):
            await self._claim(transfer, pending)
            nonce = pending
        tx_hash = transfer.tx_hash if transfer.nonce == nonce else None
        tx_hash = tx_hash or await self._chain.transaction_of(nonce)
        applied = None if tx_hash is None else await self._chain.outcome(tx_hash)
        step = next_step(nonce, ChainView(pending, tx_hash, applied))
        if tx_hash is not None and tx_hash != transfer.tx_hash:
            await self._run(lambda: self._transfers.note_hash(transfer.id, tx_hash))
        if step is TransferStep.SEND:
            await self._send(transfer)
        elif step in (TransferStep.APPLIED, TransferStep.REVERTED):
            await self._finish(transfer, applied=step is TransferStep.APPLIED)
        return step

    async def _claim(self, transfer: Transfer, nonce: int) -> None:
        await self._run(lambda: self._transfers.claim(transfer.id, nonce))

    async def _send(self, transfer: Transfer) -> None:
        try:
            if transfer.kind is TransferKind.REDEEM:
                tx_hash = await self._chain.redeem(transfer.condition_id)
            else:
                tx_hash = await self._chain.merge(transfer.condition_id, transfer.yes_shares)
        except Exception as exc:  # any failure is UNKNOWN: the next pass asks the chain about the nonce
            log.warning("transfer %s: request failed (%s: %.200s); looked up by nonce next pass",
                        transfer.id, type(exc).__name__, exc)  # fmt: skip
            return
        await self._run(lambda: self._transfers.note_hash(transfer.id, tx_hash))
        applied = await self._chain.outcome(tx_hash)
        if applied is not None:
            await self._finish(transfer, applied=applied)

    async def _finish(self, transfer: Transfer, *, applied: bool) -> None:
        ended = await self._run(lambda: self._transfers.finish(transfer.id, applied=applied))
        if ended is not None:
            log.warning("transfer %s %s (%s)", ended.id, ended.status, ended.tx_hash)
