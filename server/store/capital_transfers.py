"""Redemptions and merges of hedge inventory (`capital_transfer`, migration 0015): recorded before
anything is sent, applied to the market's position once.

Each write is one transaction that locks the market's exposure row first (the lock order of every
writer, `server.store.positions`), then the transfer's row. Recording a transfer sets its shares
aside on the position (no hedge may sell them meanwhile); ending it releases them and, when the chain
applied it, burns them for their USDC (`Position.with_merge`, `Position.with_redemption`), moving
the row out of `open` in the same transaction, so it is applied once whatever retries or processes
do. The decisions are `server.domain.capital_transfer`'s."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import peewee

from server.domain.capital_transfer import (
    TransferKind,
    mergeable_pairs,
    redeemable,
    redemption_payout,
)
from server.domain.exposure import Position
from server.domain.market_state import MarketState
from server.domain.types import Settlement
from server.store import events, groups, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import CapitalTransfer, HedgePosition, PolymarketMarketMapping
from server.store.rows import position_columns

OPEN, APPLIED, REVERTED = "open", "applied", "reverted"
EVENT_TYPES = {TransferKind.REDEEM: "positions_redeemed", TransferKind.MERGE: "positions_merged"}


@dataclass(frozen=True)
class Transfer:
    """One transfer as stored."""

    id: str
    mapping_id: int
    kind: TransferKind
    condition_id: str
    yes_shares: Decimal
    no_shares: Decimal
    proceeds: Decimal
    status: str
    nonce: int | None
    tx_hash: str | None
    attempts: int


def transfer_of(row: CapitalTransfer) -> Transfer:
    """The stored row as a `Transfer`."""
    return Transfer(
        row.id, row.mapping_id, TransferKind(row.kind), row.condition_id, row.yes_shares, row.no_shares,
        row.proceeds, row.status, row.nonce, row.tx_hash, row.attempts,
    )  # fmt: skip


class CapitalTransfers:
    """The transfers' reads and writes."""

    def __init__(self, database: peewee.Database) -> None:
        self.db = database

    def intend_redemption(self, mapping_id: int) -> Transfer | None:
        """Records the redemption of a resolved market's hedge shares, once they are settled; None when
        there is none to make (not resolved, nothing held, hedges in flight or settling, one open or
        already applied)."""
        with write_transaction(self.db):
            position = positions.lock(mapping_id)
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            if mapping.market_state != MarketState.RESOLVED.value or mapping.winning_token_id is None:
                return None
            if self._busy(mapping_id, redeemed_too=True) or not redeemable(position) or _settling(mapping_id):
                return None
            payout = redemption_payout(position, mapping.winning_token_id == mapping.yes_token_id)
            return self._insert(
                mapping, position, TransferKind.REDEEM, position.hedge_yes, position.hedge_no, payout
            )

    def intend_merge(self, mapping_id: int, minimum: Decimal) -> Transfer | None:
        """Records the merge of the market's free YES+NO pairs into USDC when there are at least
        `minimum` (and more than none); None otherwise, while its hedges settle, while another
        transfer of the market is open, and once it has resolved (redemption takes it all)."""
        with write_transaction(self.db):
            position = positions.lock(mapping_id)
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            pairs = mergeable_pairs(position)
            if mapping.market_state == MarketState.RESOLVED.value or pairs <= 0 or pairs < minimum:
                return None
            if self._busy(mapping_id, redeemed_too=False) or _settling(mapping_id):
                return None
            return self._insert(mapping, position, TransferKind.MERGE, pairs, pairs, pairs)

    def open_transfers(self) -> list[Transfer]:
        """Transfers not ended yet, oldest first."""
        query = CapitalTransfer.select().where(CapitalTransfer.status == OPEN)
        return [transfer_of(r) for r in query.order_by(CapitalTransfer.created_at, CapitalTransfer.id)]

    def get(self, transfer_id: str) -> Transfer:
        """The transfer `transfer_id`."""
        return transfer_of(CapitalTransfer.get_by_id(transfer_id))

    def claim(self, transfer_id: str, nonce: int) -> bool:
        """Records the nonce the open transfer's transaction will use, before it is sent; False when
        it is no longer open."""
        changed = (
            CapitalTransfer.update(
                nonce=nonce, tx_hash=None, attempts=CapitalTransfer.attempts + 1, updated_at=utcnow()
            )
            .where((CapitalTransfer.id == transfer_id) & (CapitalTransfer.status == OPEN))
            .execute()
        )
        return bool(changed)

    def note_hash(self, transfer_id: str, tx_hash: str) -> None:
        """Records the hash of the open transfer's transaction once known."""
        CapitalTransfer.update(tx_hash=tx_hash, updated_at=utcnow()).where(
            (CapitalTransfer.id == transfer_id) & (CapitalTransfer.status == OPEN)
        ).execute()

    def finish(self, transfer_id: str, *, applied: bool) -> Transfer | None:
        """Ends the open transfer as the chain showed it: `applied` burns its shares for its USDC on
        the market's position (and moves the total exposure by what that changes), otherwise its
        shares are released. One event either way. None when it had already ended."""
        mapping_id = (
            CapitalTransfer.select(CapitalTransfer.mapping).where(CapitalTransfer.id == transfer_id).scalar()
        )
        if mapping_id is None:
            return None
        with write_transaction(self.db):
            held = groups.lock_market(mapping_id)  # with its group's rows: the total counts it
            before = held.positions[mapping_id]
            row = positions.locked(
                CapitalTransfer.select().where(
                    (CapitalTransfer.id == transfer_id) & (CapitalTransfer.status == OPEN)
                )
            ).get_or_none()
            if row is None:
                return None
            transfer = transfer_of(row)
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            after = _after(before, transfer, mapping, applied=applied)
            status = APPLIED if applied else REVERTED
            now = utcnow()
            statements = [
                sql.update("capital_transfer", {"status": status, "updated_at": now}, {"id": transfer_id}),
                sql.update("market_exposure", position_columns(after) | {"updated_at": now}, {"mapping_id": mapping_id}),
                positions.add_to_total(held.move(mapping_id, after), now),
                *events.statements(self.db, [_event(transfer, mapping, status)]),
            ]  # fmt: skip
            sql.run(self.db, statements)
        return self.get(transfer_id)

    def _busy(self, mapping_id: int, *, redeemed_too: bool) -> bool:
        ended = CapitalTransfer.status == OPEN
        if redeemed_too:
            ended |= (CapitalTransfer.kind == TransferKind.REDEEM.value) & (CapitalTransfer.status == APPLIED)
        return CapitalTransfer.select().where((CapitalTransfer.mapping == mapping_id) & ended).exists()

    def _insert(
        self,
        mapping: PolymarketMarketMapping,
        position: Position,
        kind: TransferKind,
        yes: Decimal,
        no: Decimal,
        proceeds: Decimal,
    ) -> Transfer:
        earlier = (
            CapitalTransfer.select()
            .where((CapitalTransfer.mapping == mapping.id) & (CapitalTransfer.kind == kind.value))
            .count()
        )
        now = utcnow()
        row = {
            "id": f"{kind.value}:{mapping.id}:{earlier + 1}",
            "mapping_id": mapping.id,
            "kind": kind.value,
            "condition_id": mapping.condition_id,
            "yes_shares": yes,
            "no_shares": no,
            "proceeds": proceeds,
            "status": OPEN,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        held = position.with_shares_held(yes, no)
        stored = sql.update(
            "market_exposure", position_columns(held) | {"updated_at": now}, {"mapping_id": mapping.id}
        )
        sql.run(self.db, [sql.insert("capital_transfer", row), stored])
        return self.get(str(row["id"]))


def _settling(mapping_id: int) -> bool:
    """Whether a hedge of the market has a trade not final on chain (a FAILED one would take shares back)."""
    return (
        HedgePosition.select()
        .where(
            (HedgePosition.mapping == mapping_id) & (HedgePosition.settlement == Settlement.SETTLING.value)
        )
        .exists()
    )


def _after(
    before: Position, transfer: Transfer, mapping: PolymarketMarketMapping, *, applied: bool
) -> Position:
    released = before.with_shares_held(-transfer.yes_shares, -transfer.no_shares)
    if not applied:
        return released
    if transfer.kind is TransferKind.MERGE:
        return released.with_merge(transfer.yes_shares)
    return released.with_redemption(mapping.winning_token_id == mapping.yes_token_id)


def _event(transfer: Transfer, mapping: PolymarketMarketMapping, status: str) -> NewEvent:
    what = "redeemed" if transfer.kind is TransferKind.REDEEM else "merged"
    if status == APPLIED:
        yes, no, usdc = (
            format(v.normalize(), "f") for v in (transfer.yes_shares, transfer.no_shares, transfer.proceeds)
        )
        message = f"{yes} YES and {no} NO {what} for {usdc} USDC"
    else:
        message = f"not {what}: the chain reverted the transaction; the shares are held again"
    data = {
        "mapping_id": mapping.id,
        "transfer_id": transfer.id,
        "condition_id": transfer.condition_id,
        "yes_shares": transfer.yes_shares,
        "no_shares": transfer.no_shares,
        "proceeds": transfer.proceeds if status == APPLIED else Decimal(0),
        "status": status,
        "tx_hash": transfer.tx_hash or "",
    }
    return NewEvent(EVENT_TYPES[transfer.kind], message, mapping.event_id, mapping.outcome, data=data)
